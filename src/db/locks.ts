/**
 * SQLite's file locks as the operating system lists them. SQLite (os_unix.c) locks bytes of the
 * database file: PENDING_BYTE (0x40000000), RESERVED_BYTE (the next), then the SHARED range. A
 * program in the middle of a write transaction holds RESERVED (and, once it writes pages to the
 * file, PENDING and the SHARED range, EXCLUSIVE): its rollback journal is live, not hot — SQLite
 * itself only takes a journal as hot when no process holds RESERVED.
 */
import { readFileSync, statSync } from "node:fs";

const PENDING_BYTE = 0x40000000;
const RESERVED_BYTE = PENDING_BYTE + 1;

/**
 * Another process holds SQLite's RESERVED or PENDING lock on `path`, as Linux lists POSIX (and
 * open-file-description) locks in /proc/locks. False where that list cannot be read (another
 * system): a journal is then taken as hot, as before.
 */
export function writerHoldsLock(path: string): boolean {
  let text: string;
  let st: { dev: bigint; ino: bigint };
  try {
    text = readFileSync("/proc/locks", "utf8");
    st = statSync(path, { bigint: true });
  } catch {
    return false;
  }
  // st_dev as Linux's /proc/locks writes it: major:minor in hex (glibc's gnu_dev_major/minor).
  const major = ((st.dev >> 8n) & 0xfffn) | ((st.dev >> 32n) & ~0xfffn);
  const minor = (st.dev & 0xffn) | ((st.dev >> 12n) & ~0xffn);
  for (const line of text.split("\n")) {
    // "3: POSIX  ADVISORY  WRITE 31631 fe:00:2539530 1073741824 1073742335"; "3: -> POSIX …" is a waiter, not a holder.
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[1] === "->") continue;
    const [, kind, , mode, pid, id, start, end] = f as [string, string, string, string, string, string, string, string];
    if ((kind !== "POSIX" && kind !== "OFDLCK") || mode !== "WRITE" || Number(pid) === process.pid) continue;
    const [ma, mi, ino] = id.split(":");
    if (!ma || !mi || !ino || BigInt(ino) !== st.ino || BigInt(`0x${ma}`) !== major || BigInt(`0x${mi}`) !== minor) continue;
    if (Number(start) <= RESERVED_BYTE && (end === "EOF" || Number(end) >= PENDING_BYTE)) return true;
  }
  return false;
}
