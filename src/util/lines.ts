/**
 * The one line reader: a file's lines in flat memory, whatever a line's length. One reused buffer
 * (grown only up to the long-line size); a line longer than that is never held whole but handed out
 * in pieces. What to do with a long line is the caller's rule: a backup streams it as a row
 * (src/backup/long-line.ts) or refuses it (src/backup/read.ts readLines), the telemetry check counts
 * it and reports it without keeping it (`readBoundedLines` below).
 */
import { closeSync, openSync, readSync } from "node:fs";

export interface Line {
  /** The line's bytes without the newline (a view valid until the next line is asked for). */
  bytes: Buffer;
  no: number;
  /** False for a last line that has no newline (a truncated file). */
  terminated: boolean;
}

/** A line too long to hold: read it in pieces with `pull` until it returns null. */
export interface LongLine {
  long: true;
  no: number;
  /** The line's first byte ("[" for a backup's row). */
  first: number;
  /** The next piece of the line (a view valid until the next pull) and its offset in the file; null at the end of the line. */
  pull(): { bytes: Buffer; offset: number } | null;
  /** After the last pull: whether the line ended with a newline (false: the file ends in it). */
  terminated: boolean;
}

/** The lines of a file, read `chunk` bytes at a time; a line longer than `longAt` comes as a LongLine. */
export class LineSource {
  private readonly fd: number;
  private buf: Buffer;
  private len = 0; // bytes of buf holding data
  private start = 0; // first byte of buf not yet handed out
  private bufOffset = 0; // file offset of buf[0]
  private no = 0;
  private eof = false;
  constructor(
    path: string,
    private readonly chunk: number,
    private readonly longAt: number,
  ) {
    this.fd = openSync(path, "r");
    this.buf = Buffer.allocUnsafe(chunk * 2);
  }
  close(): void {
    closeSync(this.fd);
  }
  /** Reads more into buf after its data (moving the unfinished line to the front first). */
  private fill(): number {
    if (this.start > 0) {
      this.buf.copy(this.buf, 0, this.start, this.len);
      this.bufOffset += this.start;
      this.len -= this.start;
      this.start = 0;
    }
    if (this.buf.length - this.len < this.chunk) {
      // Never beyond longAt + chunk: an unfinished line longer than longAt is handed out in pieces.
      const bigger = Buffer.allocUnsafe(Math.min(Math.max(this.buf.length * 2, this.len + this.chunk), this.longAt + this.chunk));
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    const n = readSync(this.fd, this.buf, this.len, this.chunk, null);
    this.len += n;
    if (n === 0) this.eof = true;
    return n;
  }
  next(): Line | LongLine | null {
    let scanFrom = this.start;
    for (;;) {
      const nl = this.buf.indexOf(10, scanFrom);
      if (nl >= 0 && nl < this.len) {
        const bytes = this.buf.subarray(this.start, nl);
        this.start = nl + 1;
        return { bytes, no: ++this.no, terminated: true };
      }
      if (this.len - this.start > this.longAt) return this.longLine();
      if (this.eof) {
        if (this.len > this.start) {
          const bytes = this.buf.subarray(this.start, this.len);
          this.start = this.len;
          return { bytes, no: ++this.no, terminated: false };
        }
        return null;
      }
      scanFrom = this.len - this.start; // after fill() the unfinished line starts at 0
      this.fill();
    }
  }
  private longLine(): LongLine {
    let ended = false;
    const line: LongLine = {
      long: true,
      no: ++this.no,
      first: this.buf[this.start]!,
      terminated: false,
      pull: () => {
        if (ended) return null;
        if (this.start === this.len) {
          this.bufOffset += this.len;
          this.start = this.len = 0;
          if (this.fill() === 0) {
            ended = true;
            return null;
          }
        }
        const nl = this.buf.indexOf(10, this.start);
        const end = nl >= 0 && nl < this.len ? nl : this.len;
        const piece = { bytes: this.buf.subarray(this.start, end), offset: this.bufOffset + this.start };
        if (end < this.len) {
          ended = true;
          line.terminated = true;
          this.start = end + 1;
        } else this.start = this.len;
        if (piece.bytes.length === 0 && ended) return null;
        return piece;
      },
    };
    return line;
  }
}

interface BoundedLine {
  no: number;
  /** The line's bytes (without "\n", "\r\n" and, on line 1, a UTF-8 BOM; a view valid until the next line); null when it was longer than the bound. */
  bytes: Buffer | null;
  /** The line's full length in bytes (also for one that was not kept). */
  length: number;
}

/** Lines of at most `maxLineBytes` (allowing for a BOM and a "\r" that are not part of the line); a longer one is counted, not kept. */
export function* readBoundedLines(path: string, maxLineBytes: number, chunkSize = 1 << 20): Generator<BoundedLine> {
  const bound = maxLineBytes + 4;
  const lines = new LineSource(path, chunkSize, bound);
  try {
    for (let l = lines.next(); l; l = lines.next()) {
      if ("long" in l) {
        let length = 0;
        for (let p = l.pull(); p; p = l.pull()) length += p.bytes.length;
        yield { no: l.no, bytes: null, length };
        continue;
      }
      let bytes = l.bytes;
      if (bytes.length > bound) {
        yield { no: l.no, bytes: null, length: bytes.length };
        continue;
      }
      if (l.no === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
      if (bytes.length && bytes[bytes.length - 1] === 13) bytes = bytes.subarray(0, bytes.length - 1);
      yield { no: l.no, bytes, length: bytes.length };
    }
  } finally {
    lines.close();
  }
}
