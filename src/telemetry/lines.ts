/** Reads a file line by line in flat memory, whatever a line's length. */
import { closeSync, openSync, readSync } from "node:fs";

// ---------------------------------------------------------------------------------------------
// Line reading: flat memory whatever the line length.

interface BoundedLine {
  no: number;
  /** The line's bytes (without "\n", "\r\n" and, on line 1, a UTF-8 BOM); null when it was longer than the bound. */
  bytes: Buffer | null;
  /** The line's full length in bytes (also for one that was not kept). */
  length: number;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export function* readBoundedLines(path: string, maxLineBytes: number, chunkSize = 1 << 20): Generator<BoundedLine> {
  const fd = openSync(path, "r");
  try {
    const chunk = Buffer.allocUnsafe(chunkSize);
    let parts: Buffer[] = [];
    let kept = 0; // bytes held in parts
    let length = 0; // bytes of the current line so far
    let over = false;
    let no = 0;
    const finish = (): BoundedLine => {
      let bytes: Buffer | null = null;
      if (!over) {
        bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, kept);
        if (no === 0 && bytes.subarray(0, 3).equals(BOM)) {
          bytes = bytes.subarray(3);
          length -= 3;
        }
        if (bytes.length && bytes[bytes.length - 1] === 13) {
          bytes = bytes.subarray(0, bytes.length - 1);
          length -= 1;
        }
      }
      const line = { no: ++no, bytes, length };
      parts = [];
      kept = 0;
      length = 0;
      over = false;
      return line;
    };
    const take = (b: Buffer) => {
      length += b.length;
      if (over) return;
      // The bound allows for a BOM and a "\r" that are not part of the line.
      if (kept + b.length > maxLineBytes + 4) {
        over = true;
        parts = [];
        kept = 0;
        return;
      }
      parts.push(Buffer.from(b)); // a copy: `chunk` is reused
      kept += b.length;
    };
    for (;;) {
      const n = readSync(fd, chunk, 0, chunkSize, null);
      if (n === 0) break;
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(10, start);
        if (nl < 0 || nl >= n) break;
        take(chunk.subarray(start, nl));
        yield finish();
        start = nl + 1;
      }
      if (start < n) take(chunk.subarray(start, n));
    }
    if (length > 0 || parts.length) yield finish();
  } finally {
    closeSync(fd);
  }
}
