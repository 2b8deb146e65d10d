/** One shell-quoting rule: every printed command, read back by `sh`, names the same files — a path with `'` included. */
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { shellQuote } from "../../src/util/shell.js";
import { BIN, cli, tmp } from "../helpers.js";

/** Runs a printed `vox-cutover …` line with sh, vox-cutover being this build. */
function runPrinted(line: string): { code: number; out: string } {
  const script = `vox_cutover() { node ${shellQuote(BIN)} "$@"; }\n${line.replace(/^\s*(next:|Next:)?\s*vox-cutover\b/, "vox_cutover")}`;
  try {
    return { code: 0, out: execFileSync("sh", ["-c", script], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) };
  } catch (e) {
    const x = e as { status: number; stdout: string; stderr: string };
    return { code: x.status, out: `${x.stdout}${x.stderr}` };
  }
}

describe("shellQuote", () => {
  it.each(["plain/path.db", "a b", "it's", "it's a 'quoted' name", "$HOME", 'a"b', "`id`", "back\\slash", "new\nline", "*?[x]", "-dash", ""])(
    "sh reads %j back unchanged",
    (s) => {
      expect(execFileSync("sh", ["-c", `printf %s ${shellQuote(s)}`], { encoding: "utf8" })).toBe(s);
    },
  );
});

describe("printed commands work for a path with a quote and a space", () => {
  it("sample's next line (diagnose) and the cutover dry-run's 'run exactly this plan' line run as printed", async () => {
    const dir = join(tmp("vox-quote-"), "it's the db");
    mkdirSync(dir);
    const db = join(dir, "vox.db");
    const s = await cli(["sample", db, "--rows", "5"]);
    expect(s.exitCode, s.stderr).toBe(0);
    const next = s.stdout.split("\n").find((l) => /next: vox-cutover diagnose/.test(l))!;
    expect(next).toContain(shellQuote(db));
    const d = runPrinted(next);
    expect(d.code, d.out).toBe(0);
    expect(d.out).toMatch(/legacy/i);
    const dry = await cli(["cutover", "--db", db]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    const exact = /To run exactly this plan: (vox-cutover .*)$/m.exec(dry.stdout)?.[1];
    expect(exact, dry.stdout).toBeDefined();
    const applied = runPrinted(exact!);
    expect(applied.code, applied.out).toBe(0);
    expect(
      execFileSync(
        "python3",
        [
          "-c",
          "import sqlite3,sys\nc=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro', uri=True)\nprint(c.execute('SELECT count(*) FROM cutover_ledger').fetchone()[0])",
          db,
        ],
        { encoding: "utf8" },
      ).trim(),
    ).not.toBe("0");
  });

  it("the dry-run's line carries the options its plan depends on (--work-dir, --backup, --no-sidecar-merge, --telemetry): run as printed, it applies that plan there", async () => {
    const dir = join(tmp("vox-quote-"), "it's here");
    mkdirSync(dir);
    const db = join(dir, "vox.db");
    expect((await cli(["sample", db, "--rows", "5"])).exitCode).toBe(0);
    const work = join(dir, "the work");
    const backup = join(dir, "my backup.jsonl");
    const given = ["--work-dir", work, "--backup", backup, "--no-sidecar-merge", "--telemetry", join(dir, "telemetry.jsonl")];
    const dry = await cli(["cutover", "--db", db, ...given]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    const exact = /To run exactly this plan: (vox-cutover .*)$/m.exec(dry.stdout)?.[1];
    expect(exact).toContain(
      `--work-dir ${shellQuote(work)} --backup ${shellQuote(backup)} --no-sidecar-merge --telemetry ${shellQuote(join(dir, "telemetry.jsonl"))}`,
    );
    const applied = runPrinted(exact!);
    expect(applied.code, applied.out).toBe(0); // the plan it names is the one it runs (a digest of other options is refused, 3)
    expect(existsSync(join(work, "journal.jsonl"))).toBe(true);
    expect(existsSync(backup)).toBe(true);
    // Stage 2 archived the sidecar without merging it: --no-sidecar-merge was in force.
    expect(JSON.parse(readFileSync(join(work, "report.json"), "utf8")).steps.find((x: { id: string }) => x.id === "sidecar").summary).not.toMatch(/merged/);
  });
});
