/**
 * bench/run.ts's `--only`: a name that matches no row is refused before any work (exit 2, with the
 * valid names); a selection without any product command says its peak RSS was not measured
 * (it printed "-Infinity MB"); stale one-file builds (a tsc build after them) are refused before any work;
 * a product row's repetitions each divided by its anchors' run just before it (bench/measure.ts: paired).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { existsSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tmp } from "../helpers.js";

const RUN = join(ROOT, "dist", "bench", "run.js");
let dir: string;
beforeAll(() => {
  dir = tmp("vox-bench-");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bench = (args: string[], env: Record<string, string> = {}) =>
  execa("node", [RUN, "--cache", join(dir, "cache"), "--work", join(dir, "work"), "--out", join(dir, "results.json"), ...args], {
    reject: false,
    stdin: "ignore",
    env,
  });

describe("npm run bench --only", () => {
  it("a name that matches no row: exit 2, the valid names, nothing run or written", async () => {
    const r = await bench(["--only", "export,verify-backup"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('no benchmark row is named "export". Nothing was run.');
    expect(r.stderr).toContain('"export-legacy"');
    expect(r.stderr).toContain('"verify-backup --db"');
    expect(r.stderr).not.toContain("at "); // no stack trace
    expect(r.stdout).toBe("");
    expect(existsSync(join(dir, "cache"))).toBe(false);
    expect(existsSync(join(dir, "results.json"))).toBe(false);
  });

  it("a tsc build after the one-file builds (the product would run from its modules): exit 2, said, nothing run or written", async () => {
    const info = join(dir, "later.tsbuildinfo");
    writeFileSync(info, "{}");
    const later = new Date(Date.now() + 3600_000);
    utimesSync(info, later, later); // a build after every bundle in dist/
    const r = await bench(["--size", "1MB", "--only", "sqlite3"], { VOX_CUTOVER_BENCH_BUILD_INFO: info });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/A tsc build came after the product's one-file builds \(.*program\.bundle\.js, .*start\.bundle\.js\).*Nothing was run/);
    expect(r.stderr).toContain("Run `npm run build`");
    expect(r.stdout).toBe("");
    expect(existsSync(join(dir, "cache"))).toBe(false);
    expect(existsSync(join(dir, "results.json"))).toBe(false);
  });

  it("each repetition of a product row is paired with its anchors run just before it, also when their own rows are not selected", async () => {
    const r = await bench(["--size", "1MB", "--reps", "2", "--only", "export-legacy"]);
    expect(r.exitCode, r.stderr).toBe(0);
    const row = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")).results.find((x: { name: string }) => x.name === "export-legacy");
    expect(row.paired.anchors).toEqual(["sqlite3 .dump"]);
    expect(row.paired.anchorSeconds).toHaveLength(2);
    for (const [i, s] of row.paired.anchorSeconds.entries()) {
      // one real run of the anchor (GNU time measured its process) right before each repetition
      expect(row.paired.runs[i]).toHaveLength(1);
      expect(row.paired.runs[i][0].cpu).toBeGreaterThan(0);
      expect(s).toBe(row.paired.runs[i][0].seconds);
      expect(row.paired.ratios[i]).toBeCloseTo(row.samples[i] / s, 6);
    }
    expect(row.paired.median).toBe([...row.paired.ratios].sort((a: number, b: number) => a - b)[1]);
    expect(r.stdout).toContain(`| paired ${row.paired.median.toFixed(1)} ×, medians anchor row not run (sqlite3 .dump) .dump (goal ≤ 1.5) |`);
    expect(r.stdout).not.toContain("| sqlite3 .dump ");
    expect(r.stderr.match(/its anchors just before [\d.]+ s: [\d.]+ ×/g)).toHaveLength(2);
  }, 60_000);

  it("only anchors: the peak RSS line says not measured, never -Infinity; NODE_EXTRA_CA_CERTS is dropped and said so", async () => {
    const r = await bench(["--size", "1MB", "--only", "sqlite3"], { NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/ca-certificates.crt" });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("; run without NODE_EXTRA_CA_CERTS (~40 ms a Node start)");
    expect(JSON.parse(readFileSync(join(dir, "results.json"), "utf8")).droppedEnv).toEqual(["NODE_EXTRA_CA_CERTS"]);
    expect(r.stdout).toContain("| sqlite3 .dump ");
    expect(r.stdout).not.toContain("export-legacy");
    expect(r.stdout).toContain("peak RSS of any product command: not measured");
    expect(r.stdout).not.toMatch(/Infinity|NaN/);
    expect(r.stdout).not.toContain("WARNING"); // the bundles stayed fresh
  }, 60_000);
});
