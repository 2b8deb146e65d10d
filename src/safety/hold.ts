/**
 * The hold: SQLite's own write lock on the primary, taken from the last "unchanged" check through
 * the swap, so an application's write waits (or fails with SQLITE_BUSY) instead of landing in a
 * file about to be archived.
 *
 * How, on one connection to the primary (rollback-journal and WAL mode alike):
 * - a first read (in WAL mode this maps the `-shm` wal-index, so the lock below lives there,
 *   shared with every application; without it SQLite would keep a private wal-index and lock the
 *   whole file instead);
 * - `PRAGMA locking_mode=EXCLUSIVE`, then an empty `BEGIN IMMEDIATE … COMMIT`: in exclusive locking
 *   mode the write lock stays held after the commit, which lets this connection — and no other —
 *   run `wal_checkpoint(TRUNCATE)` under it (a connection inside a transaction may not checkpoint);
 * - release: `locking_mode=NORMAL` and one read drop the lock.
 *
 * SQLite's locks are POSIX record locks, owned by the *process* per inode: closing ANY descriptor of
 * the primary in this process drops them all, silently (SQLite defers its own closes for this
 * reason; our other code does not). So under the hold nothing may open and close the primary: the
 * hold opens one descriptor before it takes the lock, and every look at the file while held
 * (`state()`: the content version's facts) goes through it. (This was the swap window's data loss:
 * the "unchanged" check read the header with open/close, the lock was gone, and an application's
 * row landed in the file about to be archived.)
 *
 * Only `exec()` runs on this connection: libsql 0.5's close() leaves a connection that ever
 * prepared a statement open until the garbage collector finalizes it (tursodatabase/libsql-js#228),
 * with its SHARED lock on the file, which kept every later hold of the file in this process (the
 * wizard's resume after an undone swap) from taking the lock.
 *
 * In WAL mode the connection is not closed after a swap (`swapped()` called): SQLite's last close deletes
 * `<name>-wal`/`-shm` *by name*, and after the rename those names serve the new file (applications
 * may already have them open). Its handle is kept until the process ends (file descriptors close
 * then, nothing is deleted). Otherwise (rollback-journal mode, or a swap undone: the file is back at
 * its name with its own -wal/-shm) it is closed — a parked handle would keep a later hold of the
 * same file in this process (the wizard's resume) from ever taking the lock.
 */
import Database from "libsql";
import { closeSync, existsSync, fstatSync, openSync, statSync } from "node:fs";
import { collectGarbage } from "../util/gc.js";
import { failed, refused } from "../errors.js";
import { contentState, probeFile, type ContentState } from "../db/probe.js";
import { hotJournal, hotJournalError, openReadOnly, sqliteFailure, type LibsqlDatabase } from "../db/local.js";
import { describeHolders, holdersAfterRename, openHolders, ownDescriptors } from "./holders.js";
import { parkedDescriptors } from "../db/raw-fd.js";
import { inodeOf } from "./identity.js";

/** Handles (and their descriptors) kept open on purpose (see above): referenced so nothing finalizes them early. */
const parked: { db: LibsqlDatabase; fd: number }[] = [];

export interface PrimaryHold {
  readonly path: string;
  readonly walMode: boolean;
  /** The hold's own descriptor of the held file: every look at it while held goes through this (see above). */
  readonly fd: number;
  /** WAL mode: every frame copied into the file and the -wal truncated to 0 bytes (under the lock). */
  checkpoint(): void;
  /** The primary's content state, read through the hold's own descriptor (never by reopening the file: that would drop the lock). */
  state(): ContentState;
  /** The file was swapped away (it is the archive now; `false`: the swap was undone): release keeps the handle then (WAL mode, see above). */
  swapped(away?: boolean): void;
  /** performance.now() when `swapped()` last said the file was swapped away (null: not swapped away). */
  readonly swappedAt: number | null;
  /** Drops the write lock (idempotent). */
  release(): void;
}

/** How long an application's open write transaction may keep the hold waiting (ms). */
function holdTimeoutMs(): number {
  const n = Number(process.env.VOX_CUTOVER_HOLD_TIMEOUT_MS);
  return Number.isFinite(n) && n >= 0 ? n : 10_000;
}

/** Takes SQLite's write lock on `path`; refuses (3) when an application keeps it for longer than the timeout. */
export function holdPrimary(path: string, timeoutMs = holdTimeoutMs()): PrimaryHold {
  const probe = probeFile(path);
  if (probe.state !== "ok")
    throw refused({
      what: `The primary ${path} cannot be held for the swap: it is not a readable SQLite file (${probe.state}).`,
      untouched: "Nothing was moved.",
      next: "Run vox-cutover diagnose on it, then --resume or --rollback.",
    });
  if (hotJournal(path)) throw hotJournalError(path);
  const walMode = probe.header.walMode;
  // A connection of this program's own still open on the file would keep the lock from being taken
  // (read as "an application is writing") or, closed under the hold, silently drop it: never held so.
  closeParkedOf(path);
  const stray = ownDescriptors(path, parkedDescriptors(path)); // a header read's descriptor parked beside another (db/raw-fd.ts) is not blamed
  if (stray.length) throw ownConnectionOpen(path, stray);
  // Opened before SQLite takes its lock, closed only after it let go (see above).
  const fd = openSync(path, "r");
  let db: LibsqlDatabase;
  try {
    db = new Database(path);
    db.defaultSafeIntegers(true);
    db.exec(`PRAGMA busy_timeout=${Math.max(0, Math.floor(timeoutMs))}`);
    db.exec("SELECT count(*) FROM sqlite_master");
    db.exec("PRAGMA locking_mode=EXCLUSIVE");
  } catch (e) {
    closeSync(fd);
    throw sqliteFailure(e, path) ?? e;
  }
  try {
    db.exec("BEGIN IMMEDIATE");
    db.exec("COMMIT");
  } catch (e) {
    try {
      db.close();
    } catch {
      /* closing after a failed lock */
    }
    closeSync(fd);
    const msg = e instanceof Error ? e.message : String(e);
    if (/locked|busy/i.test(msg + String((e as { code?: string }).code ?? ""))) {
      // Who keeps it: another process (named), else this program's own connection (never blamed on an application).
      const others = openHolders(path, inodeOf(path));
      const mine = ownDescriptors(path, parkedDescriptors(path));
      if (others.supported && !others.holders.length && mine.length) throw ownConnectionOpen(path, mine);
      throw refused({
        what: `An application is writing to ${path}${others.holders.length ? ` (${describeHolders(others.holders)})` : ""}: SQLite's write lock stayed taken for ${Math.round(timeoutMs / 1000)} s, so the primary cannot be held for the swap.`,
        untouched: "Nothing was moved: the primary is in place with every row it holds.",
        next: "Stop the application that writes to it, then run the same command with --resume --apply (or --rollback --apply).",
        details: { sqlite: msg },
      });
    }
    throw sqliteFailure(e, path) ?? e;
  }
  let held = true;
  let away = false;
  let swappedAt: number | null = null;
  return {
    path,
    walMode,
    fd,
    checkpoint() {
      if (!walMode) return;
      // exec, and the result read from the -wal's size (TRUNCATE leaves it empty): only exec() here, see above.
      let ok = true;
      try {
        db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      } catch {
        ok = false;
      }
      if (!ok || (existsSync(`${path}-wal`) && statSync(`${path}-wal`).size !== 0)) {
        throw refused({
          what: `The primary ${path} could not be checkpointed under the write lock: a reader still uses its -wal.`,
          untouched: "Nothing was moved: the primary is in place with every row it holds.",
          next: "Stop the application that reads it, then run the same command with --resume --apply (or --rollback --apply).",
        });
      }
    },
    swapped(yes = true) {
      away = yes;
      swappedAt = yes ? performance.now() : null;
    },
    get swappedAt() {
      return swappedAt;
    },
    state() {
      return contentState(path, fd);
    },
    release() {
      if (!held) return;
      held = false;
      try {
        db.exec("PRAGMA locking_mode=NORMAL");
        db.exec("SELECT count(*) FROM sqlite_master");
      } catch {
        /* the lock goes with the handle below */
      }
      if (walMode && away) parked.push({ db, fd });
      else {
        // This read-write connection's close, as the file's last, would checkpoint the -wal into the
        // primary and delete it: a run refused before its swap would have changed the file it left (its
        // content version moved: the resume stopped at the live-write gate). A read-only connection of
        // this process's, open across the close, keeps SQLite from taking the lock that needs, and closes
        // without writing (read-only).
        const reader = walMode ? openReaderBeside(path) : null;
        db.close();
        reader?.close();
        closeSync(fd);
      }
    },
  };
}

/** A read-only connection to the held file, opened without a descriptor of its own to close (db/local.ts openReadOnly `probed`); null if it cannot be. */
function openReaderBeside(path: string): LibsqlDatabase | null {
  let r: LibsqlDatabase | null = null;
  try {
    r = openReadOnly(path, { probed: true });
    r.exec("SELECT count(*) FROM sqlite_master");
    return r;
  } catch {
    try {
      r?.close();
    } catch {
      /* never opened */
    }
    return null;
  }
}

/**
 * A parked handle (a swap's hold, kept open so SQLite's last close would not delete the names that
 * then served the new file) of the very file now at `path` again (a rollback in the same process put
 * the original back): the names are its own again, so it is closed. Those descriptors are the ones
 * this process knows about; any other of its own is refused below, never counted as an application.
 */
function closeParkedOf(path: string): void {
  const at = inodeOf(path);
  if (!at) return;
  for (let i = parked.length - 1; i >= 0; i--) {
    const p = parked[i]!;
    let mine = false;
    try {
      const st = fstatSync(p.fd, { bigint: true });
      mine = String(st.dev) === at.dev && String(st.ino) === at.ino;
    } catch {
      /* its descriptor is gone */
    }
    if (!mine) continue;
    parked.splice(i, 1);
    try {
      p.db.close();
    } finally {
      closeSync(p.fd);
    }
  }
}

/** This program's own connection keeps the file open: said as such (exit 1), never as an application writing. */
function ownConnectionOpen(path: string, fds: number[]): Error {
  return failed({
    what: `This program itself still has ${path} open (descriptor${fds.length > 1 ? "s" : ""} ${fds.join(", ")} of its own process, not an application), so SQLite's write lock cannot be held safely for the swap.`,
    untouched: "Nothing was moved: the primary is in place with every row it holds.",
    next: "Run the same command with --resume --apply (a new process holds nothing of its own). If this repeats, report it with the work dir.",
    details: { ownDescriptors: fds },
  });
}

/**
 * Our own readers first let go of the file. A WAL-mode reader (`mode=ro`, src/db/local.ts) keeps
 * SQLite's SHARED lock on the file while its connection is open, and libsql 0.5's close() leaves a
 * connection that prepared statements open until the garbage collector has finalized them
 * (tursodatabase/libsql-js#228): such a lock in this process would keep the hold from ever taking
 * the file. A collection and one turn of the event loop (where the finalizers run) close them.
 */
export async function releaseClosedHandles(): Promise<void> {
  collectGarbage(); // where no collector can be reached, the turn below still lets pending finalizers run
  await new Promise((r) => setImmediate(r));
}

/**
 * The last look before a run that swapped reports success (or before a resume finishes one): nobody
 * may hold the archived original. An application whose open() resolved the primary's name just
 * before the rename can get its descriptor after the holder scans that follow the rename (a process
 * stalled in open() for longer than they take); the run keeps the hold on the archived original
 * until this check, so until then its writes wait on SQLite's lock. Found here, the swap stays (the
 * new file has served the name since the rename: renaming it away could strand rows written into
 * it) and the run refuses (3) naming the process: its writes would go into the archive, not into the
 * database, once the lock is released.
 */
export function assertArchiveUnheld(archive: string, dbPath: string, hold: PrimaryHold | null): void {
  if (!existsSync(archive)) return;
  const stillHeld = hold !== null;
  const late = holdersAfterRename(archive, inodeOf(archive), hold?.swappedAt ?? undefined);
  if (!late.length) return;
  throw refused({
    what: `${describeHolders(late)}: it opened the database during the swap and holds the original file, now archived at ${archive}. Its writes go into that archive, not into the database${stillHeld ? " (until this command ends, SQLite's lock on the archive, held by this run, keeps them waiting)" : ""}.`,
    untouched: `The swap is done: the new file is at ${dbPath} with every row; the original is archived at ${archive}.`,
    next: "Stop that application now (started again, it opens the new file), then run the cutover with --resume --apply to finish the run (or --rollback --apply to put the original back).",
    details: { holders: late, archive },
  });
}
