/**
 * What a database's `-wal` holds, read from its bytes as SQLite reads them (sqlite.org/fileformat2.html,
 * "The Write-Ahead Log"): the frames whose salts are the header's and whose checksums chain, up to
 * the last commit frame. Used where the database file alone looks truncated: in WAL mode the
 * database's size is the last commit's, and a page beyond the file's end is read from the WAL — or,
 * when no frame holds it, as zeros that SQLite's checks may not see (the last page of an overflow
 * chain). So the file is whole only if the WAL holds every page past its end.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

const MAGIC_LE = 0x377f0682; // checksums over little-endian words
const MAGIC_BE = 0x377f0683; // over big-endian words
const HEADER = 32;
const FRAME_HEADER = 24;

/** SQLite's WAL checksum over `b` (a multiple of 8 bytes), chained from `s`. */
function checksum(b: Buffer, bigEndian: boolean, s: [number, number]): [number, number] {
  let s1 = s[0];
  let s2 = s[1];
  for (let i = 0; i < b.length; i += 8) {
    const x0 = bigEndian ? b.readUInt32BE(i) : b.readUInt32LE(i);
    const x1 = bigEndian ? b.readUInt32BE(i + 4) : b.readUInt32LE(i + 4);
    s1 = (s1 + x0 + s2) >>> 0;
    s2 = (s2 + x1 + s1) >>> 0;
  }
  return [s1, s2];
}

/**
 * Whether the database beside this `-wal` is whole although its file holds only `filePages` pages:
 * the WAL has a valid commit, and every page past the file's end up to that commit's size is in a
 * valid frame up to it. False when there is no such WAL, it cannot be read, or its page size is not
 * `pageSize`. Reads one frame at a time (memory does not grow with the WAL).
 */
export function walHoldsEnd(dbPath: string, pageSize: number, filePages: number): boolean {
  let fd: number;
  try {
    fd = openSync(`${dbPath}-wal`, "r");
  } catch {
    return false;
  }
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(HEADER);
    if (size < HEADER || readSync(fd, head, 0, HEADER, 0) !== HEADER) return false;
    const magic = head.readUInt32BE(0);
    if ((magic !== MAGIC_LE && magic !== MAGIC_BE) || head.readUInt32BE(8) !== pageSize) return false;
    const bigEndian = magic === MAGIC_BE;
    let sum = checksum(head.subarray(0, 24), bigEndian, [0, 0]);
    if (sum[0] !== head.readUInt32BE(24) || sum[1] !== head.readUInt32BE(28)) return false;
    const salt1 = head.readUInt32BE(16);
    const salt2 = head.readUInt32BE(20);
    const frame = Buffer.alloc(FRAME_HEADER + pageSize);
    // Pages past the file's end in valid frames since the last commit, and in those up to it.
    let pending = new Set<number>();
    const committed = new Set<number>();
    let commitPages = 0;
    for (let at = HEADER; at + frame.length <= size; at += frame.length) {
      if (readSync(fd, frame, 0, frame.length, at) !== frame.length) break;
      const page = frame.readUInt32BE(0);
      if (page === 0 || frame.readUInt32BE(8) !== salt1 || frame.readUInt32BE(12) !== salt2) break;
      sum = checksum(frame.subarray(0, 8), bigEndian, sum);
      sum = checksum(frame.subarray(FRAME_HEADER), bigEndian, sum);
      if (sum[0] !== frame.readUInt32BE(16) || sum[1] !== frame.readUInt32BE(20)) break;
      if (page > filePages) pending.add(page);
      const commit = frame.readUInt32BE(4);
      if (commit !== 0) {
        for (const p of pending) committed.add(p);
        pending = new Set();
        commitPages = commit;
      }
    }
    if (commitPages === 0) return false; // no commit: the file alone is the database
    for (let p = filePages + 1; p <= commitPages; p++) if (!committed.has(p)) return false;
    return true;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}
