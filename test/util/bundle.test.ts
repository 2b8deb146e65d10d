/**
 * util/bundle.ts freshBundle: a one-file build runs unless a `tsc` build came after it; in an installed
 * package (no tsbuildinfo) it always runs, whatever order npm unpacked the files in.
 */
import { describe, expect, it } from "vitest";
import { utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { freshBundle } from "../../src/util/bundle.js";
import { tmp } from "../helpers.js";

describe("freshBundle", () => {
  const at = (dir: string, name: string, seconds?: number) => {
    const p = join(dir, name);
    writeFileSync(p, "");
    if (seconds !== undefined) utimesSync(p, seconds, seconds);
    return pathToFileURL(p);
  };

  it("runs the bundle when no tsc build came after it, the modules when one did, and nothing that is not there", () => {
    const d = tmp();
    const info = at(d, "tsconfig.tsbuildinfo", 1_000_000);
    expect(freshBundle(at(d, "later.bundle.js", 1_000_001), info)).toBe(true);
    expect(freshBundle(at(d, "same.bundle.js", 1_000_000), info)).toBe(true);
    expect(freshBundle(at(d, "earlier.bundle.js", 999_999), info)).toBe(false);
    expect(freshBundle(pathToFileURL(join(d, "missing.bundle.js")), info)).toBe(false);
  });

  it("an installed package (no tsbuildinfo): its bundle runs even when npm wrote it before the modules", () => {
    const d = tmp();
    expect(freshBundle(at(d, "program.bundle.js", 1_000_000), pathToFileURL(join(d, "tsconfig.tsbuildinfo")))).toBe(true);
  });
});
