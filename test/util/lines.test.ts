/**
 * The one line reader (src/util/lines.ts): lines in one reused buffer, a line longer than the
 * long-line size handed out in pieces with their file offsets (never held whole), and the bounded
 * reading the telemetry check uses (BOM and CR dropped, a too-long line counted, not kept).
 */
import { afterAll, describe, expect, it } from "vitest";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LineSource, readBoundedLines, type Line, type LongLine } from "../../src/util/lines.js";
import { tmp } from "../helpers.js";

const dir = tmp("vox-lines-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(text: string): string {
  const f = join(dir, `f${n++}`);
  writeFileSync(f, text);
  return f;
}

describe("LineSource", () => {
  it("short lines whole, a long line in pieces at their file offsets, and the line after it", () => {
    const long = "x".repeat(100);
    const f = file(`a\n${long}\nb`);
    const src = new LineSource(f, 8, 16);
    try {
      const a = src.next() as Line;
      expect([a.bytes.toString(), a.no, a.terminated]).toEqual(["a", 1, true]);
      const l = src.next() as LongLine;
      expect([l.long, l.no, String.fromCharCode(l.first)]).toEqual([true, 2, "x"]);
      let text = "";
      for (let p = l.pull(); p; p = l.pull()) {
        expect(p.offset).toBe(2 + text.length); // pieces are contiguous: each at its own place in the file
        expect(p.bytes.length).toBeLessThanOrEqual(16 + 8);
        text += p.bytes.toString();
      }
      expect([text, l.terminated]).toEqual([long, true]);
      const b = src.next() as Line;
      expect([b.bytes.toString(), b.no, b.terminated]).toEqual(["b", 3, false]);
      expect(src.next()).toBeNull();
    } finally {
      src.close();
    }
  });
});

describe("readBoundedLines", () => {
  it("drops a BOM on line 1 and CRs, keeps empty lines, counts a too-long line without keeping it", () => {
    const f = file("\uFEFF{}\r\n\n" + "y".repeat(50) + "\r\nlast");
    const got: unknown[] = [];
    // Each line's bytes are a view into the reused buffer: read before asking for the next line.
    for (const l of readBoundedLines(f, 10, 8)) got.push([l.no, l.bytes?.toString() ?? null, l.length]);
    expect(got).toEqual([
      [1, "{}", 2],
      [2, "", 0],
      [3, null, 51],
      [4, "last", 4],
    ]);
  });
});
