import { closeSync, openSync, readSync } from "node:fs";
import { createHash } from "node:crypto";

/** The sha256 of what `fd` reads from its position to the end, 1 MB at a time. */
export function sha256OfFd(fd: number): string {
  const h = createHash("sha256");
  const buf = Buffer.allocUnsafe(1 << 20);
  for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  return h.digest("hex");
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
