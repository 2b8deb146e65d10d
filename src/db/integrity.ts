/**
 * `PRAGMA integrity_check` of a whole file without SQLite reading a WITHOUT ROWID table's big values
 * whole (issue 17 item 3).
 *
 * A WITHOUT ROWID table's rows are the cells of its primary key's index b-tree, and integrity_check
 * verifies their order by comparing each row's whole record with the one before it: a record that
 * overflows is read whole for that (a 420 MB value cost the cutover's preflight ~320 MB). So when a
 * WITHOUT ROWID table holds a value above `bigAbove` bytes (its `octet_length`, which SQLite answers
 * from the record header), the same checks are run in parts that do not read it:
 * - `PRAGMA quick_check` over the whole file: every b-tree's structure, pages used once, the
 *   freelist, NOT NULL and CHECK constraints (what integrity_check does, less the index checks);
 * - `PRAGMA integrity_check(T)` for every other table, shadow and virtual table (its indexes
 *   against its rows, UNIQUE; a virtual table's own check, as the whole-file check runs it);
 * - such a table with no index but its key's: its key order, in SQL over the key columns alone
 *   (each row's key strictly after the one before it, in the scan's order, under the key's own
 *   collations and directions): what integrity_check's order check says, never a value column read;
 * - such a table with other indexes: `integrity_check(T)` as before (SQLite reads its big records
 *   whole), and it is named.
 * Without such a table it is one `PRAGMA integrity_check`, as always.
 *
 * The choice and every part run in one read transaction on the caller's connection (one snapshot: a
 * writer committing meanwhile changes neither which tables are checked in parts nor what the parts
 * see), begun here unless the caller already holds one (then its snapshot is the one checked).
 */
import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { refused } from "../errors.js";
import { envInteger } from "../util/env.js";
import { oneAnswer, spareWorkers, WORKER_LIMITS, workerExecArgv } from "../util/worker.js";
import { allRows, bytesWithWal, dataVersion, mainFile, openReadOnly, twoThreadReads, type LibsqlDatabase } from "./local.js";
import { probeFile } from "./probe.js";
import { quoteIdent, quoteString } from "./value.js";

export interface Integrity {
  /** SQLite's messages (["ok"] when nothing is wrong), as integrity_check words them. */
  problems: string[];
  /** How the check was made when it was made in parts (for the step's summary); "" for one integrity_check. */
  how: string;
}

/** The first column of every row a PRAGMA returns, as text (integrity_check's and quick_check's messages). */
export function pragmaRows(db: LibsqlDatabase, sql: string): string[] {
  return allRows(db, sql).map((r) => String(Object.values(r)[0]));
}

/** The WITHOUT ROWID tables of `main` holding a stored value above `bigAbove` bytes. */
function bigWithoutRowid(db: LibsqlDatabase, bigAbove: number): string[] {
  const out: string[] = [];
  for (const { name } of allRows(db, "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'shadow') AND wr = 1 ORDER BY name")) {
    const t = String(name);
    const cols = allRows(db, `SELECT name FROM pragma_table_xinfo(${quoteString(t)}) WHERE hidden IN (0, 3)`).map((c) => quoteIdent(String(c.name)));
    const largest = allRows(
      db,
      `SELECT max(max(${[...cols.map((c) => `coalesce(octet_length(${c}), 0)`), "0"].join(", ")})) AS m FROM main.${quoteIdent(t)}`,
    )[0]?.m;
    if (Number(largest ?? 0) > bigAbove) out.push(t);
  }
  return out;
}

/**
 * How many rows of WITHOUT ROWID table `t` (with no index but its key's) do not come strictly after
 * the row before them, in the order its b-tree holds them, by its key (collations and directions).
 */
function keyOrderFaults(db: LibsqlDatabase, t: string): number {
  const pk = allRows(db, `SELECT name FROM pragma_index_list(${quoteString(t)}) WHERE origin = 'pk'`)[0];
  const keys = allRows(db, `SELECT name, "desc" AS d, coll FROM pragma_index_xinfo(${quoteString(String(pk?.name))}) WHERE key = 1 ORDER BY seqno`);
  // `+col` has no affinity (the values compare as the index compares them), and keeps the column's collation.
  const cols = keys.map((k, i) => `+${quoteIdent(String(k.name))} AS a${i}, lag(+${quoteIdent(String(k.name))}) OVER () AS p${i}`);
  const after = (i: number): string => {
    const k = keys[i]!;
    const coll = ` COLLATE ${quoteIdent(String(k.coll))}`;
    const gt = `a${i} ${Number(k.d) ? "<" : ">"} p${i}${coll}`;
    return i === keys.length - 1 ? gt : `(${gt} OR (a${i} = p${i}${coll} AND ${after(i + 1)}))`;
  };
  const r = allRows(db, `SELECT count(*) AS n FROM (SELECT ${cols.join(", ")} FROM main.${quoteIdent(t)}) WHERE p0 IS NOT NULL AND NOT ${after(0)}`);
  return Number(r[0]?.n ?? 0);
}

/** The big-value size the checks go by: `above` bytes, named `size` in their summaries (src/backup/big-source.ts bigLimit). */
export interface BigLimit {
  above: number;
  size: string;
}

/**
 * integrity_check of `main`, in parts when a WITHOUT ROWID table holds a value above `limit.above`
 * bytes (`limit.size` names that size in the summary).
 */
export function integrityCheck(db: LibsqlDatabase, limit: BigLimit): Integrity {
  const own = !db.inTransaction;
  if (own) db.exec("BEGIN");
  try {
    return checkInParts(db, limit.above, limit.size);
  } finally {
    if (own && db.inTransaction) db.exec("ROLLBACK"); // read only: nothing to commit
  }
}

function checkInParts(db: LibsqlDatabase, bigAbove: number, size: string): Integrity {
  const big = bigWithoutRowid(db, bigAbove);
  if (!big.length) return { problems: pragmaRows(db, "PRAGMA main.integrity_check"), how: "" };
  const problems: string[] = [];
  const whole: string[] = [];
  // The parts of one integrity_check (integrityParts), but for a big table with no index but its key's: its key order in SQL.
  for (const part of integrityParts(db, () => 0)) {
    const t = "table" in part && big.includes(part.table) ? part.table : null;
    if (t !== null && !allRows(db, `SELECT 1 FROM pragma_index_list(${quoteString(t)}) WHERE origin <> 'pk'`).length) {
      const n = keyOrderFaults(db, t);
      if (n) problems.push(`row not in PRIMARY KEY order for ${t} (${n} row(s))`);
      continue;
    }
    if (t !== null) whole.push(t);
    problems.push(...runIntegrityPart(db, part));
  }
  const sliced = big.filter((t) => !whole.includes(t));
  const how = [
    sliced.length ? `${sliced.join(", ")}: quick_check and the primary key's order, without reading values above ${size} whole as integrity_check would` : "",
    whole.length ? `${whole.join(", ")}: integrity_check, which read values above ${size} whole (indexes of their own)` : "",
  ]
    .filter(Boolean)
    .join("; ");
  return { problems: problems.length ? problems : ["ok"], how };
}

/** One part of an integrity_check made in parts: `quick_check` of the whole file, or `integrity_check(T)` of one table. */
export type IntegrityPart = { quick: true } | { table: string };

/**
 * The whole file's integrity_check as parts two connections can share (issue 18): `quick_check` of
 * the whole file (every b-tree's structure, each page used once, the freelist, NOT NULL, CHECK, and
 * an FTS5 table's own check whole: FTS5 does not shorten it for quick_check) and `integrity_check(T)`
 * of every other table, shadow and virtual table of `main` (its indexes against its rows, UNIQUE, a
 * WITHOUT ROWID table's key order, another module's own check): together what one integrity_check
 * checks, as `checkInParts` has them. An FTS5 table's own part would run its check a second time
 * (test/cutover/integrity-beside.test.ts holds quick_check to finding a damaged FTS5 index).
 * Longest first, so that two sides claiming them in turn end together: quick_check, the other
 * virtual tables, then by `weight` (rows). (A table named like a number is read by SQLite as the
 * error limit: its part is a second whole-file check — slower, never less.)
 */
export function integrityParts(db: LibsqlDatabase, weight: (table: string) => number): IntegrityPart[] {
  const tables = allRows(
    db,
    "SELECT t.name, t.type, s.sql FROM pragma_table_list AS t LEFT JOIN main.sqlite_schema AS s ON s.name = t.name AND s.type = 'table' WHERE t.schema = 'main' AND t.type IN ('table', 'shadow', 'virtual')",
  )
    .filter((r) => !(r.type === "virtual" && /\bUSING\s+fts5\b/i.test(String(r.sql ?? ""))))
    .map((r) => ({ name: String(r.name), weight: r.type === "virtual" ? Infinity : weight(String(r.name)) }));
  tables.sort((a, b) => b.weight - a.weight || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [{ quick: true }, ...tables.map((t) => ({ table: t.name }))];
}

/** A part's problems as SQLite words them ([] when it says ok). */
export function runIntegrityPart(db: LibsqlDatabase, part: IntegrityPart): string[] {
  const sql = "quick" in part ? "PRAGMA main.quick_check" : `PRAGMA main.integrity_check(${quoteIdent(part.table)})`;
  return pragmaRows(db, sql).filter((m) => m !== "ok");
}

/** A rowid table's largest rowid (about its rows: one b-tree step), 0 for any other table: the parts' weight on a file nobody counted. */
function rowidWeight(db: LibsqlDatabase): (table: string) => number {
  return (t) => {
    try {
      return Number(allRows(db, `SELECT max(rowid) AS m FROM main.${quoteIdent(t)}`)[0]?.m ?? 0);
    } catch {
      return 0; // WITHOUT ROWID, or a virtual table
    }
  };
}

/** integrityCheck of the file at `path` on a read-only connection of its own. */
export function integrityOf(path: string, limit: BigLimit): Integrity {
  const db = openReadOnly(path);
  try {
    return integrityCheck(db, limit);
  } finally {
    db.close();
  }
}

/** A refusal (3) unless `r` says ok: the primary at `path` is not sound enough to be read for a cutover. */
export function assertIntact(path: string, r: Integrity): void {
  if (r.problems.join() === "ok") return;
  throw refused({
    what: `integrity_check of ${path} reports problems: ${r.problems.slice(0, 5).join("; ")}.`,
    untouched: "Nothing was changed.",
    next: "Repair it first (sqlite3 .recover into a new file, then diagnose that file), or restore it from a backup.",
  });
}

// The URL is written out in full: the program bundle starts this worker's own bundle (scripts/bundle-cli.mjs).
const WORKER = new URL("./integrity-worker.js", import.meta.url);

/**
 * An integrity_check to run on a worker thread: `start` begins it (once; the caller picks when), and
 * its answer (or why it could not run or be trusted: then the caller checks on its own thread). Once
 * started it runs to its answer, whether anyone still waits for it or not: a thread ended inside
 * libsql's native call makes neon panic on stderr (a Rust backtrace after a refusal or a Ctrl-C); the
 * answer's listener keeps the process until then (the rest of the check, ~1.8 s per GB).
 */
export interface IntegrityBeside {
  start(): void;
  readonly result: Promise<Integrity | { error: string }>;
}

/**
 * `integrityCheck` of the file at `path` on a worker thread, started by `start()`, for the dry-run to
 * make its trial meanwhile (the check reads the file once on the other core: ~1.8 s of a 1 GB file).
 * null (check it on this thread) below VOX_CUTOVER_INTEGRITY_BESIDE_BYTES (default 32 MB: the thread's
 * start costs more than it saves), beside the wizard's screens (util/worker.ts), or from the sources
 * (no built worker).
 */
export function integrityBeside(path: string, limit: BigLimit): IntegrityBeside | null {
  if (spareWorkers() || !existsSync(WORKER) || bytesWithWal(path) < envInteger("VOX_CUTOVER_INTEGRITY_BESIDE_BYTES", 32 << 20)) return null;
  // A rollback-journal file only: another connection of this process to a WAL file can tear a worker's snapshot (live-hash.ts, twoThreadReads).
  if (!twoThreadReads(probeFile(path))) return null;
  let worker: Worker | null = null;
  let answer: (m: Integrity | { error: string }) => void = () => {};
  const result = new Promise<Integrity | { error: string }>((resolve) => (answer = resolve));
  return {
    result,
    start() {
      if (worker) return;
      const w = (worker = new Worker(WORKER, { workerData: { path, limit }, execArgv: workerExecArgv(), resourceLimits: WORKER_LIMITS }));
      w.unref(); // its answer's listener holds the process until it answers, whoever still waits for it
      void oneAnswer<Integrity | { error: string }>(w, "the integrity_check thread").then(answer);
    },
  };
}

/** From this many bytes (+ WAL) Stage 0 checks a rollback-journal file on two connections (integrityOnTwo): VOX_CUTOVER_INTEGRITY_PARTS_BYTES, default 256 MB. */
function partsAbove(): number {
  return envInteger("VOX_CUTOVER_INTEGRITY_PARTS_BYTES", 256 << 20);
}

/** Stage 0's integrity_check started ahead of its step (startIntegrityAhead), for that step to take. */
let ahead: { path: string; check: IntegrityBeside } | null = null;

/**
 * Starts Stage 0's integrity_check of `path` on a worker now, for the step to take its answer
 * (`takeIntegrityAhead`): a fresh apply starts it once it knows the file, so that the check runs on the
 * other core while this thread makes the plan and runs the steps before it (cutover/run.ts). Only
 * where the step would check on one thread (integrityBeside's file: from 32 MB, rollback-journal, not
 * beside the wizard's screens) and below `partsAbove`, where this thread shares the parts instead.
 */
export function startIntegrityAhead(path: string, limit: BigLimit): void {
  endIntegrityAhead();
  if (bytesWithWal(path) >= partsAbove()) return;
  const check = integrityBeside(path, limit);
  check?.start();
  if (check) ahead = { path, check };
}

/** The check started ahead for `path` (null: none), for the caller to await. */
export function takeIntegrityAhead(path: string): IntegrityBeside | null {
  const a = ahead?.path === path ? ahead.check : null;
  if (a) ahead = null;
  return a;
}

/** Forgets a check started ahead that no step took (a run refused or done before its integrity step): it runs to its answer, unread. */
export function endIntegrityAhead(): void {
  ahead = null;
}

/** What the parts' worker answers: each part it ran with its problems, or why it could not. */
export type PartsAnswer = { done: [number, string[]][] } | { error: string };

/**
 * `integrityCheck` of the file at `path` on two connections, this thread's and a worker's, sharing
 * `integrityParts` (a 1 GB file: ~1.15 s instead of ~1.75). Both read one state, proven: this
 * connection's `PRAGMA data_version` is read before its transaction and after it, the worker's
 * transaction begins after this one's and ends after this thread has read all it will, and neither
 * ends its transaction before both have read everything (ending one could drop the other's locks:
 * they are the process's). The parts a worker that failed had claimed are run here, in the same
 * transaction. Null — the caller checks it on one connection — below
 * VOX_CUTOVER_INTEGRITY_PARTS_BYTES (default 256 MB), beside the wizard's screens, from the sources,
 * for a WAL file (twoThreadReads), a file this process could only read as a private copy, one whose
 * WITHOUT ROWID tables hold values too big to read whole (`checkInParts` runs then), or when a commit
 * came between (data_version moved). A problem this thread met is thrown only if none came.
 */
export async function integrityOnTwo(path: string, limit: BigLimit): Promise<Integrity | null> {
  if (spareWorkers() || !existsSync(WORKER) || bytesWithWal(path) < partsAbove()) return null;
  if (!twoThreadReads(probeFile(path))) return null;
  let db: LibsqlDatabase;
  try {
    db = openReadOnly(path, { copy: false });
  } catch {
    return null;
  }
  let gone: Promise<unknown> = Promise.resolve();
  try {
    const before = dataVersion(db);
    db.exec("BEGIN");
    if (bigWithoutRowid(db, limit.above).length) return null;
    const parts = integrityParts(db, rowidWeight(db));
    // [0]: the next part to claim; [1]: 1 once this thread has read all it will (the worker may end its transaction).
    const control = new Int32Array(new SharedArrayBuffer(8));
    const w = new Worker(WORKER, {
      workerData: { path, parts, control: control.buffer, file: mainFile(db) },
      execArgv: workerExecArgv(),
      resourceLimits: WORKER_LIMITS,
    });
    gone = new Promise((ended) => w.once("exit", ended));
    const answer = oneAnswer<PartsAnswer>(w, "the integrity_check thread");
    const problems: string[][] = [];
    let failure: unknown = null;
    const run = (k: number) => {
      try {
        problems[k] ??= runIntegrityPart(db, parts[k]!);
      } catch (e) {
        failure = e; // thrown below only if nothing was committed meanwhile (a read torn by a commit is not the file's fault)
      }
    };
    try {
      for (let k = Atomics.add(control, 0, 1); k < parts.length && !failure; k = Atomics.add(control, 0, 1)) run(k);
      // The worker answers before it ends its transaction: its parts, or why not (then the parts it claimed are run here).
      const theirs = await answer;
      if (!("error" in theirs)) for (const [k, p] of theirs.done) problems[k] = p;
      for (let k = 0; k < parts.length && !failure; k++) run(k);
    } finally {
      Atomics.store(control, 1, 1);
      Atomics.notify(control, 1);
    }
    if (db.inTransaction) db.exec("COMMIT");
    if (dataVersion(db) !== before) return null;
    if (failure) throw failure;
    if (parts.some((_, k) => !problems[k])) return null; // a part nobody ran (never, with every path above)
    const found = problems.flat();
    return { problems: found.length ? found : ["ok"], how: "" };
  } finally {
    if (db.inTransaction) db.exec("ROLLBACK");
    // Its end, not terminate(): a thread ended inside libsql (its db.close()) makes neon panic. It ends by
    // itself once control [1] is set (the finally above, on every path) and no part is left to claim.
    await gone;
    db.close();
  }
}
