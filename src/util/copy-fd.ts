import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { fsyncFile } from "./fsync.js";

/**
 * Copies what the open file `fd` holds (read at explicit offsets: a borrowed descriptor's own offset
 * does not move) into the file `to`, made with `mode` — a new file when `exclusive`, else replaced —
 * and synced when `sync`; 4 MB at a time, short writes written on.
 */
export function copyFd(fd: number, to: string, opts: { mode: number; exclusive: boolean; sync: boolean }): void {
  const out = openSync(to, opts.exclusive ? "wx" : "w", opts.mode);
  try {
    const buf = Buffer.allocUnsafe(4 << 20);
    for (let at = 0, n; (n = readSync(fd, buf, 0, buf.length, at)) > 0; at += n) for (let w = 0; w < n;) w += writeSync(out, buf, w, n - w);
    if (opts.sync) fsyncFile(out);
  } finally {
    closeSync(out);
  }
}
