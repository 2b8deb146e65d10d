/**
 * A small file of the run's own kind (a run marker, a pointer, a trial's record), read without
 * trusting what is at the path: only a regular file (never a FIFO, a device or a symbolic link — a
 * FIFO blocks the read for ever, Ctrl-C included) of at most `maxBytes`, checked again on the open
 * file, and `ok` of its status (an owner). Null when it is not one, or cannot be read.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, type Stats } from "node:fs";

export function readSmallFile(path: string, maxBytes: number, ok: (st: Stats) => boolean = () => true): string | null {
  const fits = (st: Stats) => st.isFile() && st.size <= maxBytes && ok(st);
  let fd: number | undefined;
  try {
    if (!fits(lstatSync(path))) return null;
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    return fits(fstatSync(fd)) ? readFileSync(fd, "utf8") : null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
