/**
 * The wizard's styledCharsToString (src/ui/styled-chars.ts, issue 18: the UI thread's memory) gives
 * @alcalzone/ansi-tokenize's own string for every row: random rows of cells styled the way chalk and
 * Ink style them (bold and dim together, colours, backgrounds, 256 and true colours, hyperlinks,
 * resets, runs of one style), tokenized by the library itself. And the wizard's bundle uses it, with
 * Ink's Output reusing its caches and one blank cell across frames (the screens' text itself is held by
 * the tmux journeys in terminal.test.ts, which run the bundle).
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { styledCharsToStringWith } from "../../src/ui/styled-chars.js";
import { ROOT } from "../helpers.js";

interface Lib {
  tokenize(s: string): unknown[];
  styledCharsFromTokens(t: unknown[]): { value: string; styles: { code: string; endCode: string }[] }[];
  styledCharsToString(c: unknown[]): string;
  diffAnsiCodes(a: unknown[], b: unknown[]): { code: string; endCode: string }[];
  ansiCodesToString(c: unknown[]): string;
}
const lib = (await import(pathToFileURL(join(ROOT, "node_modules/@alcalzone/ansi-tokenize/build/index.js")).href)) as Lib;
const lean = styledCharsToStringWith(lib.diffAnsiCodes, lib.ansiCodesToString);

const E = "\u001b[";
const CODES = [
  `${E}1m`,
  `${E}22m`,
  `${E}2m`,
  `${E}3m`,
  `${E}23m`,
  `${E}4m`,
  `${E}24m`,
  `${E}7m`,
  `${E}27m`,
  `${E}0m`,
  `${E}36m`,
  `${E}31m`,
  `${E}39m`,
  `${E}42m`,
  `${E}49m`,
  `${E}38;5;208m`,
  `${E}48;2;10;20;30m`,
  `${E}90m`,
  "\u001b]8;;https://example.org\u0007",
  "\u001b]8;;\u0007",
];
const TEXT = ["a", " ", "▸", "✓", "─", "é", "漢", "x", "  ", "abc"];

let seed = 7;
const rand = (n: number) => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed % n;
};

function randomLine(): string {
  let s = "";
  const parts = 1 + rand(30);
  for (let i = 0; i < parts; i++) s += rand(3) ? TEXT[rand(TEXT.length)]!.repeat(1 + rand(4)) : CODES[rand(CODES.length)]!;
  return s;
}

describe("styledCharsToString without a diff per cell", () => {
  it("gives the library's string for random styled rows, empty and unstyled ones", () => {
    const lines = ["", "plain text only", `${E}1m${E}2mbold and dim${E}22m rest`, `${E}36m▸[0 Pre]${E}39m  ${E}2m1 Legacy${E}22m`];
    for (let i = 0; i < 3000; i++) lines.push(randomLine());
    let styled = 0;
    for (const line of lines) {
      const chars = lib.styledCharsFromTokens(lib.tokenize(line));
      if (chars.some((c) => c.styles.length)) styled++;
      expect(lean(chars), JSON.stringify(line)).toBe(lib.styledCharsToString(chars));
    }
    expect(styled).toBeGreaterThan(2000); // the rows did carry styles
  });

  it("is the one Ink's output uses in the wizard's bundle, with one blank cell and one set of caches for every frame (scripts/bundle-wizard.mjs)", () => {
    const bundle = readFileSync(join(ROOT, "dist/src/ui/start.bundle.js"), "utf8");
    expect(bundle).toContain("styledCharsToStringWith(diffAnsiCodes, ansiCodesToString)");
    expect(bundle).toContain("caches = voxSharedCaches();");
    expect(bundle).toContain("row.push(VOX_BLANK_CELL);");
    expect(bundle).not.toContain("ansiCodesToString(diffAnsiCodes(chars[i - 1].styles, char.styles))"); // the library's loop
  });
});
