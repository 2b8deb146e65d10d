import { describe, expect, it } from "vitest";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { TestSpecification, Vitest } from "vitest/node";
import LongestFirst, { listedSeconds } from "./sequencer.js";
import { ROOT } from "./helpers.js";

/** Every test file under test/, relative to the repo root. */
function testFiles(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(join(ROOT, d))) {
      const rel = `${d}/${e}`;
      if (statSync(join(ROOT, rel)).isDirectory()) walk(rel);
      else if (/\.test\.tsx?$/.test(e)) out.push(rel);
    }
  };
  walk("test");
  return out;
}

/** The sequencer as vitest drives it, with vitest's cache as a fresh clone has it: no durations, file sizes only. */
async function order(files: string[], cachedSeconds: Record<string, number> = {}): Promise<string[]> {
  const ctx = {
    config: { root: ROOT },
    cache: {
      getFileTestResults: (key: string) => {
        const s = cachedSeconds[key.slice(1)];
        return s === undefined ? undefined : { duration: s * 1000, failed: false };
      },
      getFileStats: (key: string) => ({ size: statSync(join(ROOT, key.slice(1))).size }),
    },
  } as unknown as Vitest;
  const specs = files.map((f) => ({ moduleId: join(ROOT, f), project: { name: "" } }) as unknown as TestSpecification);
  return (await new LongestFirst(ctx).sort(specs)).map((s) => s.moduleId.slice(ROOT.length + 1));
}

describe("the order test files start in (test/sequencer.ts, test/file-seconds.json)", () => {
  it("lists only test files that exist, each once, longest first", () => {
    const listed = [...listedSeconds(ROOT)];
    expect(listed.length).toBeGreaterThan(10);
    for (const [f, s] of listed) {
      expect(existsSync(join(ROOT, f)), f).toBe(true);
      expect(f, f).toMatch(/^test\/.*\.test\.tsx?$/);
      expect(s, f).toBeGreaterThan(0);
    }
    expect(new Set(listed.map(([f]) => f)).size).toBe(listed.length);
    const secs = listed.map(([, s]) => s);
    expect(secs).toEqual([...secs].sort((a, b) => b - a));
  });

  it("in a fresh clone (no cached durations) the listed files start first, longest first, then the rest, larger source first", async () => {
    const all = testFiles();
    const got = await order(all);
    const seconds = listedSeconds(ROOT);
    const listed = [...seconds.keys()];
    expect([...got.slice(0, listed.length)].sort()).toEqual([...listed].sort());
    const secs = got.slice(0, listed.length).map((f) => seconds.get(f)!);
    expect(secs).toEqual([...secs].sort((a, b) => b - a));
    const rest = got.slice(listed.length);
    expect(rest.sort()).toEqual(all.filter((f) => !listed.includes(f)).sort());
    const sizes = got.slice(listed.length).map((f) => statSync(join(ROOT, f)).size);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
  });

  it("a duration vitest cached from a run takes the place of the listed figure", async () => {
    const [first, second] = [...listedSeconds(ROOT).keys()];
    const got = await order([first!, second!, "test/util/lines.test.ts"], { [first!]: 1, "test/util/lines.test.ts": 10_000 });
    expect(got).toEqual(["test/util/lines.test.ts", second, first]);
  });
});
