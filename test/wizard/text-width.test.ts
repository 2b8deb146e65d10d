/**
 * The wizard's fast path for text widths (src/ui/text-width.ts, issue 18: the first frame) gives
 * string-width's own answer for every line it answers: each narrow character alone, beside ASCII
 * and beside itself (one grapheme each), and random lines of them with SGR sequences — held to both
 * copies of string-width the bundle routes through it (Ink's and wrap-ansi's). Every other line
 * goes to string-width (-1 here).
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { graphemes, narrowWidth } from "../../src/ui/text-width.js";
import { ROOT } from "../helpers.js";

type Width = (text: string) => number;
const copies: [string, Width][] = await Promise.all(
  ["node_modules/string-width/index.js", "node_modules/wrap-ansi/node_modules/string-width/index.js"].map(
    async (p) => [p, ((await import(pathToFileURL(join(ROOT, p)).href)) as { default: Width }).default] as [string, Width],
  ),
);

/** Every character beyond ASCII the fast path answers. */
const narrow = Array.from({ length: 0x10000 }, (_, c) => String.fromCharCode(c)).filter((ch) => ch.charCodeAt(0) >= 0x7f && narrowWidth(ch) === 1);

describe("narrowWidth: string-width's answer, without loading it", () => {
  it("answers the wizard's own marks (the first frame's text never reaches string-width)", () => {
    for (const ch of "—–…·×→↑↓▸✓✗█░") expect(narrowWidth(`a${ch}b`), ch).toBe(3);
    expect(narrowWidth("\u001b[1m\u001b[36m▸[0 Preconditions]\u001b[39m\u001b[22m\u001b[2m  1\u001b[22m")).toBe(21);
    expect(narrow.length).toBeGreaterThan(1000);
  });

  it("each narrow character is one column alone, beside ASCII and beside itself, in both copies of string-width", () => {
    for (const [name, width] of copies)
      for (const ch of narrow) {
        const got = [width(ch), width(`a${ch}b`), width(ch + ch)];
        if (got[0] !== 1 || got[1] !== 3 || got[2] !== 2) expect.fail(`${name}: U+${ch.charCodeAt(0).toString(16)} gives ${got.join(", ")}`);
      }
  });

  it("random lines of ASCII, narrow characters and SGR sequences: the same width as string-width's", () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
    const sgr = ["\u001b[1m", "\u001b[22m", "\u001b[38;2;255;0;0m", "\u001b[m", "\u001b[12345m", "\u001b[1;m"];
    for (let k = 0; k < 3000; k++) {
      let s = "";
      for (let n = rnd(30); n > 0; n--) {
        const r = rnd(10);
        s += r < 5 ? String.fromCharCode(0x20 + rnd(95)) : r < 8 ? narrow[rnd(narrow.length)]! : sgr[rnd(sgr.length)]!;
      }
      const fast = narrowWidth(s);
      expect(fast, JSON.stringify(s)).toBeGreaterThanOrEqual(0);
      for (const [name, width] of copies) expect(width(s), `${name} ${JSON.stringify(s)}`).toBe(fast);
    }
  });

  it("leaves everything else to string-width", () => {
    for (const s of [
      "中",
      "😀",
      "✔",
      "✔\ufe0f",
      "e\u0301",
      "\u00ad",
      "a\u200db",
      "\u2028",
      "\t",
      "\u001b]8;;x\u0007",
      "\u001b[2K",
      "\u001b[",
      "\uff76",
      "\u25fd",
    ])
      expect(narrowWidth(s), JSON.stringify(s)).toBe(-1);
    expect(narrowWidth("")).toBe(0);
  });
});

/** Random lines of ASCII, narrow characters and SGR sequences. */
function randomLines(count: number): string[] {
  let seed = 11;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
  const codes = ["\u001b[1m", "\u001b[22m", "\u001b[38;2;255;0;0m", "\u001b[m", "\u001b[1;m"];
  return Array.from({ length: count }, () => {
    let s = "";
    for (let n = rnd(40); n > 0; n--) {
      const r = rnd(10);
      s += r < 5 ? String.fromCharCode(0x20 + rnd(95)) : r < 8 ? narrow[rnd(narrow.length)]! : codes[rnd(codes.length)]!;
    }
    return s;
  });
}

describe("graphemes: Intl.Segmenter's answer without one, for the lines narrowWidth answers (ansi-tokenize's and slice-ansi's walks)", () => {
  const intl = new Intl.Segmenter(undefined, { granularity: "grapheme" });
  const plain = (g: { segment: string; index: number; input: string } | undefined) => g && { segment: g.segment, index: g.index, input: g.input };

  it("random lines of ASCII, narrow characters and SGR sequences: the same graphemes in order, and the same one containing each index", () => {
    for (const s of randomLines(3000)) {
      const ours = graphemes.segment(s);
      const theirs = intl.segment(s);
      expect([...ours].map(plain), JSON.stringify(s)).toEqual([...theirs].map(plain));
      for (let i = -1; i <= s.length; i++) expect(plain(ours.containing(i)), `${JSON.stringify(s)} @${i}`).toEqual(plain(theirs.containing(i)));
    }
  });

  it("every other line goes to a segmenter, with the same answer", () => {
    for (const s of ["e\u0301x", "😀a", "中文", "a\u200db", "\r\n", "\u001b]8;;x\u0007y", "🇩🇪"]) {
      expect([...graphemes.segment(s)].map(plain), JSON.stringify(s)).toEqual([...intl.segment(s)].map(plain));
      expect(plain(graphemes.segment(s).containing(1)), JSON.stringify(s)).toEqual(plain(intl.segment(s).containing(1)));
    }
  });
});
