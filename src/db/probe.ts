import type * as v from "valibot";
import type { FileIdentitySchema } from "../validate/schemas.js";
import { basename } from "node:path";
import { failed } from "../errors.js";
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import { sha256OfFd } from "../util/file-sha256.js";
import { walHoldsEnd } from "./wal.js";
import { readRaw } from "./raw-fd.js";
import { writerHoldsLock } from "./locks.js";
import { sleepSync } from "../util/sleep.js";

export interface SqliteHeader {
  pageSize: number;
  /** Page count from the header, when the header says it is valid. */
  pageCount: number | null;
  changeCounter: number;
  walMode: boolean;
  size: number;
}

export type ProbeResult =
  | { state: "missing" }
  | { state: "directory" }
  | { state: "not-a-file" }
  | { state: "unreadable"; reason: string }
  | { state: "empty-file"; size: 0 }
  /** 0 bytes with a -wal or -journal beside it that holds bytes: SQLite, opening it, deletes that file (helper-106). */
  | { state: "orphan-journal"; reason: string }
  | { state: "not-sqlite"; reason: string }
  | { state: "truncated"; reason: string; header: SqliteHeader }
  | { state: "ok"; header: SqliteHeader };

const MAGIC = Buffer.from("SQLite format 3\0", "latin1");

/** A file SQLite opens as a database: one with a valid header, or 0 bytes (an empty database, as SQLite and vox take it). */
export function isDatabaseFile(p: ProbeResult): p is Extract<ProbeResult, { state: "ok" | "empty-file" }> {
  return p.state === "ok" || p.state === "empty-file";
}

function sizeOf(path: string): number {
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : 0;
  } catch {
    return 0;
  }
}

/** Looks at a path without opening it as a database: nothing is created or written. */
export function probeFile(path: string): ProbeResult {
  if (!existsSync(path)) return { state: "missing" };
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    return { state: "unreadable", reason: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
  if (st.isDirectory()) return { state: "directory" };
  if (!st.isFile()) return { state: "not-a-file" };
  if (st.size === 0) {
    for (const side of ["-wal", "-journal"]) {
      const n = sizeOf(path + side);
      if (n > 0)
        return {
          state: "orphan-journal",
          reason: `${basename(path)}${side} beside it holds ${n} bytes: opening the empty file would make SQLite delete that file, the only copy of what it holds`,
        };
    }
    return { state: "empty-file", size: 0 };
  }
  try {
    // Never opened and closed under a connection of this process (db/raw-fd.ts).
    const look = () => readRaw(path, (fd) => probeOpen(fd, path));
    let r = look();
    // A commit writes page 1, counting the pages it grows the file to, before those pages (as a WAL
    // checkpoint does): a file that looks short is looked at again, a few times, and for as long as
    // a writer holds SQLite's write lock on it (up to SETTLE_MAX_MS). Once no writer holds it, one
    // more look: the last one may have come just before the commit finished and let go.
    for (let waited = 0; r.state === "truncated" && waited < SETTLE_MAX_MS; waited += SETTLE_STEP_MS) {
      if (waited >= SETTLE_MIN_MS && !writerHoldsLock(path)) {
        r = look();
        break;
      }
      sleepSync(SETTLE_STEP_MS);
      r = look();
    }
    return r;
  } catch (e) {
    return { state: "unreadable", reason: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
}

const SETTLE_STEP_MS = 20;
const SETTLE_MIN_MS = 100;
const SETTLE_MAX_MS = 5000;

/**
 * The header of a file already open as `fd` (read with pread; the fd stays open). Used under the
 * hold (src/safety/hold.ts): closing any descriptor of the primary would drop this process's POSIX
 * locks on it, SQLite's write lock included, so nothing there may open and close the file.
 */
function probeOpen(fd: number, path: string): ProbeResult {
  const buf = Buffer.alloc(100);
  const n = readSync(fd, buf, 0, 100, 0);
  const size = fstatSync(fd).size;
  if (n < 16 || !buf.subarray(0, 16).equals(MAGIC)) {
    return { state: "not-sqlite", reason: 'the file does not start with the SQLite header ("SQLite format 3")' };
  }
  if (n < 100) return { state: "not-sqlite", reason: `the file is ${size} bytes, shorter than the 100-byte SQLite header` };
  const rawPage = buf.readUInt16BE(16);
  const pageSize = rawPage === 1 ? 65536 : rawPage;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    return { state: "not-sqlite", reason: `the header's page size (${rawPage}) is not valid` };
  }
  const changeCounter = buf.readUInt32BE(24);
  const headerPages = buf.readUInt32BE(28);
  const validFor = buf.readUInt32BE(92);
  const pageCount = validFor === changeCounter && headerPages > 0 ? headerPages : null;
  const header: SqliteHeader = { pageSize, pageCount, changeCounter, walMode: buf[18] === 2 && buf[19] === 2, size };
  // In WAL mode the database's size is the WAL's last commit, and a checkpoint copies pages in page
  // order: page 1, counting the pages a commit grew the file to, lands before them. So while a writer
  // checkpoints (or after a crash mid-checkpoint, which the WAL replays) the header counts pages the
  // file does not hold yet; the database is whole if its WAL holds every page past the file's end
  // (or, looked at again, the file has them now: the checkpoint ended and a writer restarted the WAL).
  const counted = (pageCount ?? 0) * pageSize; // the bytes the header counts
  if (size < counted && !(header.walMode && (walHoldsEnd(path, pageSize, Math.floor(size / pageSize)) || fstatSync(fd).size >= counted))) {
    return {
      state: "truncated",
      reason: `the header says ${pageCount} pages of ${pageSize} bytes (${counted} bytes) but the file has ${size} bytes`,
      header,
    };
  }
  if (size % pageSize !== 0) {
    return { state: "truncated", reason: `the file size ${size} is not a multiple of the page size ${pageSize}`, header };
  }
  return { state: "ok", header };
}

/**
 * The state a SQLite file's content is in (the raw facts behind the **content version**; see
 * src/safety/content-version.ts for why they change with every committed write, WAL included).
 */
/** A database's content state (walSha256 absent in journals of older versions). */
export type ContentState = v.InferOutput<typeof FileIdentitySchema>;

export function contentState(path: string, fd?: number): ContentState {
  // `fd`: the primary's file read through a descriptor kept open (see probeOpen), never reopened.
  const st = fd === undefined ? statSync(path, { bigint: true }) : fstatSync(fd, { bigint: true });
  const probe = fd === undefined ? probeFile(path) : probeOpen(fd, path);
  const wal = `${path}-wal`;
  // An empty -wal holds nothing (opening a WAL database creates one): the same state as none.
  const found = existsSync(wal) ? statSync(wal, { bigint: true }) : null;
  const wst = found && found.size > 0n ? found : null;
  return {
    size: Number(st.size),
    mtimeNs: st.mtimeNs.toString(),
    changeCounter: probe.state === "ok" || probe.state === "truncated" ? probe.header.changeCounter : null,
    walSize: wst ? Number(wst.size) : null,
    walMtimeNs: wst ? wst.mtimeNs.toString() : null,
    walSha256: wst ? sha256Of(wal) : null,
    ctimeNs: st.ctimeNs.toString(),
  };
}

/** Whether two content states are the same content version (src/safety/content-version.ts says what it covers). */
export function sameContent(a: ContentState, b: ContentState): boolean {
  return (
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.changeCounter === b.changeCounter &&
    a.walSize === b.walSize &&
    a.walMtimeNs === b.walMtimeNs &&
    (a.walSha256 ?? null) === (b.walSha256 ?? null)
  );
}

/**
 * The content version, and no write to the file at all since `a` was taken: its status-change time
 * (ctime) is the same too. The content version alone misses a write whose size and modification time
 * were put back (`touch -r`, `cp -p`, a sync tool, utime) in WAL mode once the `-wal` is gone, or in
 * any mode when a commit leaves page 1 alone; the kernel moves ctime on every write, truncation,
 * utime, chmod, chown or link, and nothing sets it back. A ctime moved without a write (chmod, a hard
 * link, a backup tool putting the access time back) reads as a change: a re-export or a refusal,
 * never a lost row. Only where nothing of this run's own touched the file since `a`: this run's swap
 * links the primary into the archive (its ctime moves), so a resume that finds that link compares
 * content alone (`sameContent`, stages/stage1-legacy.ts swapUnder), as do states from journals of
 * older versions (no ctime).
 */
export function untouchedSince(a: ContentState, b: ContentState): boolean {
  return sameContent(a, b) && (a.ctimeNs === undefined || b.ctimeNs === undefined || a.ctimeNs === b.ctimeNs);
}

/** The content version as one short string (bound into plan digests); "missing" when there is no file. */
export function contentVersion(path: string): string {
  if (!existsSync(path)) return "missing";
  const s = contentState(path);
  return createHash("sha256")
    .update(JSON.stringify([s.size, s.mtimeNs, s.changeCounter, s.walSize, s.walMtimeNs, s.walSha256 ?? null]))
    .digest("hex")
    .slice(0, 16);
}

function sha256Of(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return null;
  }
  try {
    return sha256OfFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** The `not-a-database` error for a probe that is not `ok`. */
export function notADatabase(path: string, probe: ProbeResult, action = "opened"): Error {
  const why =
    probe.state === "directory"
      ? "it is a directory, not a database file"
      : probe.state === "not-a-file"
        ? "it is not a regular file"
        : probe.state === "unreadable"
          ? `it cannot be read (${probe.reason})`
          : probe.state === "not-sqlite"
            ? `it is not a SQLite database: ${probe.reason}`
            : probe.state === "truncated"
              ? `it looks truncated: ${probe.reason}`
              : probe.state === "orphan-journal"
                ? `it is empty (0 bytes), but ${probe.reason}`
                : probe.state;
  return failed({
    what: `${path} cannot be ${action} as a database (not-a-database): ${why}.`,
    untouched: "The file was left untouched.",
    next:
      probe.state === "directory"
        ? "Pass the database file inside it, e.g. --db <dir>/vox.db."
        : probe.state === "orphan-journal"
          ? "Put back the database file that goes with it (the copy it came from, or a backup), and leave the side file where it is; nothing was opened."
          : "Check the path (--db or VOX_DB_PATH); if this is your only copy, restore it from a backup before going further.",
    details: { chain: "not-a-database", reason: why },
  });
}
