import Database from "libsql";
import { existsSync } from "node:fs";
import { failed } from "../errors.js";
import { probeFile, type ProbeResult } from "./probe.js";
import { bindable, normalizeValue, type Row, type SqlValue } from "./value.js";

export type LibsqlDatabase = InstanceType<typeof Database>;
export type LibsqlStatement = ReturnType<LibsqlDatabase["prepare"]>;

function fileUri(path: string, params: string): string {
  const escaped = path.replace(/%/g, "%25").replace(/\?/g, "%3F").replace(/#/g, "%23");
  return `file:${escaped}?${params}`;
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
              : probe.state;
  return failed({
    what: `${path} cannot be ${action} as a database (not-a-database): ${why}.`,
    untouched: "The file was left untouched.",
    next:
      probe.state === "directory"
        ? "Pass the database file inside it, e.g. --db <dir>/vox.db."
        : "Check the path (--db or VOX_DB_PATH); if this is your only copy, restore it from a backup before going further.",
    details: { chain: "not-a-database", reason: why },
  });
}

function wrapOpenError(path: string, e: unknown): Error {
  const code = (e as { code?: string }).code ?? "";
  const msg = e instanceof Error ? e.message : String(e);
  if (/NOTADB|CORRUPT/.test(code) || /not a database|malformed/i.test(msg)) {
    return notADatabase(path, { state: "not-sqlite", reason: msg });
  }
  return failed({
    what: `${path} cannot be opened: ${msg}.`,
    untouched: "The file was left untouched.",
    next: "Check that the file is readable and not locked by another program, then run the command again.",
  });
}

/**
 * Opens an existing SQLite file for reading only. Creates nothing, not even `-wal`/`-shm`:
 * a WAL-mode file with no `-wal`/`-shm` beside it is read `immutable` (all its content is in the file).
 */
export function openReadOnly(path: string): LibsqlDatabase {
  const probe = probeFile(path);
  if (probe.state !== "ok") throw notADatabase(path, probe);
  const walIdle = probe.header.walMode && !existsSync(`${path}-wal`) && !existsSync(`${path}-shm`);
  let db: LibsqlDatabase;
  try {
    db = new Database(fileUri(path, walIdle ? "immutable=1" : "mode=ro"));
    db.defaultSafeIntegers(true);
    db.prepare("SELECT count(*) FROM sqlite_master").raw(true).get();
  } catch (e) {
    throw wrapOpenError(path, e);
  }
  return db;
}

/** Opens (creating if needed) a database for writing; the caller owns the decision to write. */
export function openReadWrite(path: string): LibsqlDatabase {
  const probe = probeFile(path);
  if (probe.state !== "ok" && probe.state !== "missing" && probe.state !== "empty-file") throw notADatabase(path, probe);
  let db: LibsqlDatabase;
  try {
    db = new Database(path);
    db.defaultSafeIntegers(true);
    db.prepare("SELECT count(*) FROM sqlite_master").raw(true).get();
  } catch (e) {
    throw wrapOpenError(path, e);
  }
  return db;
}

/**
 * All rows of a query as plain objects (no driver metadata), integers as BigInt. For catalog and
 * bookkeeping queries: the driver cuts TEXT at a NUL and aborts on TEXT that is not UTF-8, so table
 * data is read with backup/tables.ts (rowStatement/iterateRows), which reads TEXT as exact bytes.
 */
export function allRows(db: LibsqlDatabase, sql: string, args: SqlValue[] = []): Row[] {
  const st = db.prepare(sql);
  st.raw(true);
  const cols = st.columns().map((c: { name: string }) => c.name);
  const out: Row[] = [];
  // One array argument: the driver takes a lone object (a blob, a null) for named parameters.
  for (const r of st.all(bindable(args)) as unknown[][]) {
    const row: Row = {};
    cols.forEach((c: string, i: number) => (row[c] = normalizeValue(r[i])));
    out.push(row);
  }
  return out;
}


/** Opens `path` for writing and runs `fn` in one BEGIN IMMEDIATE transaction: committed, or rolled back and rethrown. */
export function withWriteTransaction<T>(path: string, fn: (db: LibsqlDatabase) => T): T {
  const db = openReadWrite(path);
  try {
    db.exec("BEGIN IMMEDIATE");
    try {
      const r = fn(db);
      db.exec("COMMIT");
      return r;
    } catch (e) {
      if (db.inTransaction) db.exec("ROLLBACK");
      throw e;
    }
  } finally {
    db.close();
  }
}
