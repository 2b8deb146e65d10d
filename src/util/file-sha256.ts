import { closeSync, openSync, readSync } from "node:fs";
import { createHash } from "node:crypto";

/** The sha256 of the file open as `fd`, from its start (its first `end` bytes when given), 1 MB at a time at explicit offsets. */
export function sha256OfFd(fd: number, end = Infinity): string {
  const h = createHash("sha256");
  const buf = Buffer.allocUnsafe(1 << 20);
  for (let at = 0, n; at < end && (n = readSync(fd, buf, 0, Math.min(buf.length, end - at), at)) > 0; at += n) h.update(buf.subarray(0, n));
  return h.digest("hex");
}

/**
 * Where the last line of a file of `size` bytes begins (the byte after the newline before it; 0 when
 * it has one line): a backup's trailer, which its whole-file hash does not cover.
 */
export function lastLineStart(fd: number, size: number): number {
  const buf = Buffer.allocUnsafe(64 << 10);
  // The last byte is the trailer's own newline: the search starts before it.
  for (let end = size - 1; end > 0;) {
    const from = Math.max(0, end - buf.length);
    const n = readSync(fd, buf, 0, end - from, from);
    const at = buf.subarray(0, n).lastIndexOf(10);
    if (at >= 0) return from + at + 1;
    end = from;
  }
  return 0;
}

/** The sha256 of the file at `path`, read whole. */
export function fileSha256(path: string): string {
  const fd = openSync(path, "r");
  try {
    return sha256OfFd(fd);
  } finally {
    closeSync(fd);
  }
}
