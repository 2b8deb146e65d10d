/**
 * Stage 2: the training-telemetry sidecar `vox_training_telemetry.db`, itself a vox database of an
 * older release's baseline. Its rows are compared with the canonical DB by the canonical table's
 * primary key (TEXT keys, composite keys, rowid aliases alike) and the values of the columns both
 * have; `--merge` copies the rows the canonical lacks with SQLite's own INSERT … SELECT (values move
 * as stored: storage class, NUL inside TEXT, 64-bit integers), and sends rows whose key exists with
 * other values to legacy_quarantine (reason `sidecar-conflict`). The sidecar is attached read-only,
 * or, when its text encoding is not the canonical DB's, carried into a scratch database of that
 * encoding first (./carry.ts); a row that cannot be carried exactly is quarantined whole.
 */
import { existsSync, mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { assertNotPrimary } from "./paths.js";
import { moveDatabaseFiles } from "../db/files.js";
import { inSavepoint, rowRefusedBy } from "../db/faults.js";
import { fsyncDir } from "../util/fsync.js";
import { allRows, inWriteTransaction, openReadWrite, textEncoding, type LibsqlDatabase } from "../db/local.js";
import { decodeText, quoteIdent, RawText, type SqlValue, type TextEncoding } from "../db/value.js";
import {
  attachSidecar,
  columnsOf,
  sideFacts,
  detachSidecar,
  NOT_DATA,
  ordinaryTables,
  rowidName,
  S,
  SCHEMA,
  shapeOf,
  assertNoShortText,
  ReadsShort,
  type Attached,
  type SideTable,
  type Uncarried,
} from "./carry.js";
import { keyMatchExpr, sameExpr } from "./lead.js";
import { copyMissing, SKIPPED, textNet } from "./copy.js";
import { encodeValue, rowJson } from "../backup/format.js";
import { recordLedger } from "../db/ledger.js";
import { failed } from "../errors.js";
import { heldCounter, quarantineWriter, type Quarantine } from "./quarantine.js";
import { writeVerifiedBackup } from "../backup/verified.js";
import { ensureOwnTables } from "../news/news.js";

export interface SidecarTable {
  name: string;
  rows: number;
  /** Same key and same values (columns both have) in the canonical DB. */
  present: number;
  /** Rows the canonical DB lacks (by key). */
  missing: number;
  /** What --merge copies: the missing rows (after --apply with --merge: copied; archive-only: 0). */
  merged: number;
  /** Same key, other values (or a row the canonical table refuses): what --merge sends to legacy_quarantine. */
  conflicts: number;
  /** Of `conflicts`, those an earlier sidecar merge had put in legacy_quarantine already, byte for byte: not stored twice (only when there are any). */
  heldAlready?: number;
  /** False when the rows cannot be merged (no such table in the canonical DB, or its key columns missing): they stay in the archived file. */
  mergeable: boolean;
  /** Why a table is not mergeable, or which of its columns the canonical table lacks. */
  note?: string;
}

interface Plan {
  t: SidecarTable;
  side: SideTable;
  shared: string[];
  key: string[];
  sideCols: string[];
  extra: string[];
  keyMatch: string;
  same: string;
  /** Rows not carried into the canonical encoding (./carry.ts): counted as conflicts, quarantined whole by --merge. */
  uncarried: Uncarried[];
}

function plans(db: LibsqlDatabase, { uncarried, counted, checkShort }: Attached): Plan[] {
  const sideTables = ordinaryTables(db, SCHEMA);
  const mainTables = ordinaryTables(db, "main");
  const encoding = textEncoding(db);
  const out: Plan[] = [];
  const sides = [...sideTables.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).filter((side) => !NOT_DATA.has(side.name));
  const facts = sideFacts(
    db,
    sides.map((side) => side.name),
    (name) => mainTables.has(name),
    counted,
  );
  for (const side of sides) {
    const un = uncarried.get(side.name) ?? [];
    const rows = counted.get(side.name) ?? facts.countOf.get(side.name)! + un.length;
    const t: SidecarTable = { name: side.name, rows, present: 0, missing: 0, merged: 0, conflicts: 0, mergeable: false };
    const sideCols = facts.side.get(side.name)!.flatMap((c) => (c.generated ? [] : [c.name]));
    const plan: Plan = { t, side, shared: [], key: [], sideCols, extra: [], keyMatch: "", same: "", uncarried: un };
    out.push(plan);
    const shape = shapeOf(db, side.name, sideCols, mainTables.has(side.name), facts.main.get(side.name));
    Object.assign(plan, { shared: shape.shared, extra: shape.extra, key: shape.key });
    if (!shape.mergeable) {
      t.note = shape.note;
      continue;
    }
    t.mergeable = true;
    if (plan.extra.length) t.note = `column(s) the canonical table lacks: ${plan.extra.join(", ")} (a merged row's values there go to legacy_quarantine)`;
    // A table with no row in this transaction's snapshot is neither compared nor merged (every caller
    // skips it): no short text to look for, no expressions to build (their statements, per table).
    if (rows === 0) continue;
    if (checkShort) assertNoShortText(db, side.name, sideCols);
    plan.keyMatch = keyMatchExpr(plan.key, encoding, !shape.declaredKey);
    plan.same = sameExpr(db, {
      table: side.name,
      shared: plan.shared,
      keyMatch: plan.keyMatch,
      withoutRowid: mainTables.get(side.name)!.withoutRowid,
      encoding,
    });
  }
  return out;
}

const CLASS_MISSING = 0;
const CLASS_PRESENT = 1;
const CLASS_CONFLICT = 2;

function classExpr(p: Plan): string {
  const q = quoteIdent(p.t.name);
  return `CASE WHEN NOT EXISTS (SELECT 1 FROM main.${q} m WHERE ${p.keyMatch}) THEN ${CLASS_MISSING}
               WHEN EXISTS (SELECT 1 FROM main.${q} m WHERE ${p.keyMatch} AND ${p.same}) THEN ${CLASS_PRESENT}
               ELSE ${CLASS_CONFLICT} END`;
}

/** What a merge would add to legacy_quarantine per reason key, as `classify` found it: the cutover dry-run's prediction (rows the merge's own INSERT refuses — another UNIQUE index, NOT NULL, a key twice in the sidecar, a trigger — not foreseen). */
const toQuarantine = new WeakMap<SidecarTable, Record<string, number>>();
export const mergeWouldQuarantine = (t: SidecarTable): Record<string, number> => toQuarantine.get(t) ?? {};
/** The prediction leaves out what legacy_quarantine holds already (an earlier merge's rows, the sidecar put back: the merge does not add them). */
const notHeld = (db: LibsqlDatabase, p: Plan) => heldCounter(db, (c) => quarantineFirst(db, p, c), toQuarantine.get(p.t)!);

/** Any value in the columns the canonical table lacks (a merged row's, which go to legacy_quarantine). */
const anyExtraValue = (p: Plan) => p.extra.map((c) => `s.${quoteIdent(c)} IS NOT NULL`).join(" OR ");
function classify(db: LibsqlDatabase, p: Plan): void {
  // GROUP BY 1, not the alias: a sidecar column named k would win over it (SQLite prefers a column).
  for (const r of allRows(db, `SELECT ${classExpr(p)} AS k, count(*) AS n FROM ${S}.${quoteIdent(p.t.name)} s GROUP BY 1`)) {
    const n = Number(r.n);
    if (Number(r.k) === CLASS_MISSING) p.t.missing = p.t.merged = n;
    else if (Number(r.k) === CLASS_PRESENT) p.t.present = n;
    else p.t.conflicts = n;
  }
  const unknown = p.extra.length
    ? Number(allRows(db, `SELECT count(*) AS n FROM ${S}.${quoteIdent(p.t.name)} s WHERE ${classExpr(p)} = ${CLASS_MISSING} AND (${anyExtraValue(p)})`)[0]!.n)
    : 0;
  const adds = { "sidecar-conflict": p.t.conflicts, "sidecar-rejected": p.uncarried.length, "sidecar-unknown-columns": unknown }; // mergeTable's reasons
  toQuarantine.set(p.t, Object.fromEntries(Object.entries(adds).filter(([, n]) => n > 0)));
  p.t.conflicts += p.uncarried.length;
}

/** The rowid expression of a sidecar rowid table (a name no column shadows), or null for WITHOUT ROWID. */
function rowidOf(p: Plan): string | null {
  if (p.side.withoutRowid) return null;
  const n = rowidName(p.sideCols);
  return n ? `s.${n}` : null;
}

/** `typeof` + exact bytes of each column, decoded back (TEXT with a NUL inside stays whole). */
function exactSelect(cols: readonly string[]): string {
  return cols
    .map((c) => `typeof(s.${quoteIdent(c)}), CASE WHEN typeof(s.${quoteIdent(c)}) IN ('text', 'blob') THEN hex(s.${quoteIdent(c)}) ELSE s.${quoteIdent(c)} END`)
    .join(", ");
}

/** A TEXT's stored bytes (in the canonical DB's encoding) as a value: a string, or RawText with the bytes when they are not valid text. */
function textValue(hex: string, enc: TextEncoding): SqlValue {
  const bytes = Buffer.from(hex, "hex");
  try {
    return decodeText(bytes, enc);
  } catch {
    return new RawText(new Uint8Array(bytes));
  }
}

function exactValues(raw: unknown[], offset: number, n: number, enc: TextEncoding): SqlValue[] {
  const out: SqlValue[] = [];
  for (let i = 0; i < n; i++) {
    const type = raw[offset + 2 * i];
    const v = raw[offset + 2 * i + 1];
    out.push(
      type === "text" ? textValue(String(v), enc) : type === "blob" ? new Uint8Array(Buffer.from(String(v), "hex")) : type === "null" ? null : (v as SqlValue),
    );
  }
  return out;
}

function keyJson(p: Plan, values: readonly SqlValue[]): string {
  return "[" + p.key.map((k) => encodeValue(values[p.sideCols.indexOf(k)] ?? null)).join(",") + "]";
}

/** The rows not carried into the canonical encoding, quarantined whole with their reason; returns how many. */
function quarantineUncarried(p: Plan, q: Quarantine): number {
  for (const u of p.uncarried) q.run(p.t.name, u.rowid, keyJson(p, u.values), rowJson(p.sideCols, u.values), `sidecar-rejected: ${u.reason}`);
  return p.uncarried.length;
}

/** Quarantines every sidecar row selected by `where` (whole row as row_json, its key as source_key); returns how many. */
function quarantineRows(db: LibsqlDatabase, p: Plan, where: string, reason: (values: SqlValue[]) => string, q: Quarantine, args: SqlValue[] = []): number {
  const rid = rowidOf(p);
  const st = db.prepare(`SELECT ${rid ?? "NULL"}, ${exactSelect(p.sideCols)} FROM ${S}.${quoteIdent(p.t.name)} s WHERE ${where}`);
  st.raw(true);
  st.safeIntegers(true);
  const rows: unknown[][] = [];
  for (const raw of (st as unknown as { iterate(...a: unknown[]): IterableIterator<unknown[]> }).iterate(...args)) rows.push(raw);
  for (const raw of rows) {
    const values = exactValues(raw, 1, p.sideCols.length, q.enc);
    q.run(p.t.name, (raw[0] ?? null) as SqlValue, keyJson(p, values), rowJson(p.sideCols, values), reason(values));
  }
  return rows.length;
}

/** Through `q` (the writer; the dry-run's heldCounter): 1. conflicts, 1b. rows not carried (both whole), 2. merged rows' extra values. */
function quarantineFirst(db: LibsqlDatabase, p: Plan, q: Quarantine): number {
  const n = quarantineRows(db, p, `${classExpr(p)} = ${CLASS_CONFLICT}`, () => "sidecar-conflict", q) + quarantineUncarried(p, q);
  const extra = `NOT EXISTS (SELECT 1 FROM main.${quoteIdent(p.t.name)} m WHERE ${p.keyMatch}) AND (${anyExtraValue(p)})`;
  if (p.extra.length) quarantineRows(db, p, extra, () => `sidecar-unknown-columns: ${p.extra.join(", ")} (row merged without them)`, q);
  return n;
}

function mergeTable(db: LibsqlDatabase, p: Plan, q: Quarantine): void {
  const name = quoteIdent(p.t.name);
  const cols = p.shared.map(quoteIdent).join(", ");
  const sCols = p.shared.map((c) => `s.${quoteIdent(c)}`).join(", ");
  const missing = `NOT EXISTS (SELECT 1 FROM main.${name} m WHERE ${p.keyMatch})`;
  p.t.conflicts = quarantineFirst(db, p, q); // 1, 1b, 2
  // 3. the missing rows, copied by SQLite itself (./copy.ts: never through an ephemeral copy, the
  //    canonical table's TEXT bytes checked after); if the canonical table refuses one (another UNIQUE
  //    index, a NOT NULL column the sidecar lacks), or the sidecar table is WITHOUT ROWID, row by
  //    row, the refused ones quarantined
  const rid = rowidOf(p);
  if (rid) {
    const net = textNet(db, p.t.name, p.shared);
    db.exec("SAVEPOINT sidecar_table");
    let copied: number | null = null;
    try {
      copied = copyMissing(db, p.t.name, p.shared, rid, missing, net);
    } catch {
      db.exec("ROLLBACK TO sidecar_table");
    }
    db.exec("RELEASE sidecar_table");
    if (copied !== null) {
      net.check();
      p.t.merged = copied;
      return;
    }
  }
  // Each candidate row is located by the sidecar's rowid (or, WITHOUT ROWID, its own key).
  const net = textNet(db, p.t.name, p.shared);
  const locator = rid ? [rid] : sideKey(db, p).map((c) => `s.${quoteIdent(c)}`);
  const locate = locator.map((c) => `${c} IS ?`).join(" AND ");
  const ids = db.prepare(`SELECT ${locator.join(", ")} FROM ${S}.${name} s WHERE ${missing}`);
  ids.raw(true);
  ids.safeIntegers(true);
  const candidates = (ids.all() as unknown[][]).map((c) => c.map((v) => (v instanceof ArrayBuffer ? new Uint8Array(v) : v)) as SqlValue[]);
  // The INSERT's SELECT never reads the canonical table (./copy.ts): whether the row is still missing is asked first.
  const ins = db.prepare(`INSERT INTO main.${name} (${cols}) SELECT ${sCols} FROM ${S}.${name} s WHERE ${locate}`);
  const state = db.prepare(`SELECT ${classExpr(p)} AS k FROM ${S}.${name} s WHERE ${locate}`);
  state.raw(true);
  let merged = 0;
  for (const args of candidates) {
    const k = Number((state.get(...args) as unknown[] | undefined)?.[0]);
    if (k !== CLASS_MISSING) {
      // An earlier sidecar row took this key (the sidecar's key is not the canonical one): same values or a conflict.
      if (k === CLASS_PRESENT) p.t.present++;
      else if (k === CLASS_CONFLICT) p.t.conflicts += quarantineRows(db, p, locate, () => "sidecar-conflict", q, args);
      continue;
    }
    try {
      const n = inSavepoint(db, () => Number(ins.run(...args).changes)); // a row quarantined must not also stay in the table
      merged += n;
      if (n) net.add(locate, args);
      else throw new Error(SKIPPED); // not inserted, no error: a trigger of the canonical table skipped it (RAISE(IGNORE))
    } catch (e) {
      // Only a row the canonical table refused, skipped or could not evaluate is quarantined (whole); a full disk or an I/O error stops the merge.
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== SKIPPED && rowRefusedBy(e, db, true) === null) throw e;
      const reason = /UNIQUE|PRIMARY KEY/i.test(msg) ? `sidecar-conflict: ${msg}` : `sidecar-rejected: ${msg}`; // a reason's key ends at its ':' (ledger.ts)
      p.t.conflicts += quarantineRows(db, p, locate, () => reason, q, args);
    }
  }
  net.check();
  p.t.merged = merged;
}

/** The primary key of a WITHOUT ROWID sidecar table (every column when it has none). */
function sideKey(db: LibsqlDatabase, p: Plan): string[] {
  const pk = columnsOf(db, SCHEMA, p.t.name)
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => c.name);
  return pk.length ? pk : p.sideCols;
}

/** Per table: rows, present, merged (= missing, what --merge would copy), conflicts. Reads only (the sidecar is attached read-only). */
export function compareSidecar(sidecarPath: string, canonical: LibsqlDatabase): SidecarTable[] {
  return withSidecar(canonical, sidecarPath, (attached) => {
    const own = !canonical.inTransaction;
    try {
      if (own) canonical.exec("BEGIN"); // one snapshot of both files for every count and comparison
      const ps = plans(canonical, attached);
      for (const p of ps) if (p.t.mergeable && p.t.rows > 0) [classify, notHeld].forEach((f) => f(canonical, p));
      if (own) canonical.exec("COMMIT");
      return ps.map((p) => p.t);
    } finally {
      if (own && canonical.inTransaction) canonical.exec("ROLLBACK");
    }
  });
}

/**
 * Runs `fn` (its own transaction) with the sidecar attached; when a UTF-16 sidecar attached itself
 * turns out, in that transaction, to hold a TEXT SQLite reads short (ReadsShort: rolled back), once
 * more with it carried (./carry.ts), which sets such rows apart.
 */
function withSidecar<T>(db: LibsqlDatabase, sidecarPath: string, fn: (a: Attached) => T): T {
  for (const carry of [false, true]) {
    const attached = attachSidecar(db, sidecarPath, carry);
    try {
      return fn(attached);
    } catch (e) {
      if (!(e instanceof ReadsShort) || carry) throw e;
    } finally {
      detachSidecar(db);
    }
  }
  throw new Error("unreachable: the carried sidecar is never checked for short reads");
}

/**
 * Opens the canonical DB for writing, attaches the sidecar read-only, and in ONE transaction
 * compares (and with `merge` copies and quarantines) and writes the ledger row.
 */
function inTransaction(sidecarPath: string, canonicalPath: string, fn: (db: LibsqlDatabase, ps: Plan[]) => SidecarTable[]): SidecarTable[] {
  const db = openReadWrite(canonicalPath);
  try {
    // As vox runs: its schema declares foreign keys it does not enforce (some reference non-unique
    // columns, which SQLite reports as a "foreign key mismatch" on any write with enforcement on).
    db.exec("PRAGMA foreign_keys = OFF");
    return withSidecar(db, sidecarPath, (attached) => inWriteTransaction(db, (d) => fn(d, plans(d, attached))));
  } finally {
    db.close();
  }
}

const total = (tables: SidecarTable[], k: "merged" | "conflicts" | "heldAlready") => tables.reduce((n, t) => n + (t[k] ?? 0), 0);

/** Merges in one transaction on the canonical DB (with its ledger row). */
function mergeSidecar(sidecarPath: string, canonicalPath: string, runId: string, backupSha256: string): SidecarTable[] {
  return inTransaction(sidecarPath, canonicalPath, (db, ps) => {
    const q = quarantineWriter(db, runId);
    for (const p of ps) {
      if (!p.t.mergeable || p.t.rows === 0) continue;
      classify(db, p);
      mergeTable(db, p, q);
      const held = q.held.get(p.t.name);
      if (held) p.t.heldAlready = held;
    }
    const tables = ps.map((p) => p.t);
    recordLedger(db, {
      runId,
      command: "sidecar",
      backupSha256,
      counts: { merged: total(tables, "merged"), conflicts: total(tables, "conflicts"), heldAlready: total(tables, "heldAlready"), tables },
    });
    return tables;
  });
}

/** Moves the sidecar and its -wal/-shm into the archive folder; never deletes. */
function archiveSidecar(sidecarPath: string, archiveDir: string): string {
  mkdirSync(archiveDir, { recursive: true });
  const to = join(archiveDir, basename(sidecarPath));
  if (existsSync(to)) throw new Error(`${to} already exists`);
  moveDatabaseFiles(sidecarPath, to);
  fsyncDir(dirname(sidecarPath));
  fsyncDir(archiveDir);
  return to;
}

interface SidecarApplied {
  backup: { path: string; sha256: string; rows: number };
  tables: SidecarTable[];
  merged: number;
  conflicts: number;
  /** Of `conflicts`, those in legacy_quarantine already from an earlier sidecar merge. */
  heldAlready: number;
  archive: string;
}

/**
 * Stage 2 --apply, for the command and the cutover step alike: a verified backup of the sidecar,
 * then (with `merge`) the missing rows copied in one transaction with its ledger row, or a ledger
 * row for an archive-only run, then the file moved into the archive.
 */
export async function applySidecar(opts: {
  sidecar: string;
  dbPath: string;
  workDir: string;
  archiveDir: string;
  runId: string;
  merge: boolean;
  baseline: { version: number; digest: string };
  /** Called once the backup is verified, before anything changes: it may stop the run (a signal) by throwing. */
  afterBackup?: () => Promise<void>;
}): Promise<SidecarApplied> {
  assertNotPrimary(opts.sidecar, opts.dbPath);
  const backup = await writeVerifiedBackup({
    dbPath: opts.sidecar,
    outPath: join(opts.workDir, "sidecar-backup.jsonl"),
    force: true,
    chain: "sidecar",
    maxVersion: null,
    baseline: opts.baseline,
  });
  await opts.afterBackup?.();
  let tables: SidecarTable[];
  if (opts.merge) {
    tables = mergeSidecar(opts.sidecar, opts.dbPath, opts.runId, backup.sha256);
  } else {
    tables = inTransaction(opts.sidecar, opts.dbPath, (db, ps) => {
      for (const p of ps) {
        if (!p.t.mergeable || p.t.rows === 0) continue;
        classify(db, p);
        p.t.merged = 0; // archive only: nothing copied, nothing quarantined; the rows stay in the archive
        p.t.conflicts = 0;
      }
      const t = ps.map((p) => p.t);
      ensureOwnTables(db);
      recordLedger(db, { runId: opts.runId, command: "sidecar", backupSha256: backup.sha256, counts: { merged: 0, archivedOnly: true, tables: t } });
      return t;
    });
  }
  let archive: string;
  try {
    archive = archiveSidecar(opts.sidecar, opts.archiveDir);
  } catch (e) {
    // The merge (or the archive-only ledger row) is committed: say so, never "no change was committed".
    throw failed({
      what: `The sidecar could not be moved into the archive (${e instanceof Error ? e.message : String(e)}), after its rows were ${opts.merge ? "merged" : "recorded"} (run ${opts.runId}, its cutover_ledger row).`,
      untouched: `The sidecar is still at ${opts.sidecar}; its verified backup is ${backup.path}.`,
      next: "Put that right and run again (a cutover: its --resume): the rows merged are present now, and no quarantine row is stored twice.",
    });
  }
  const sum = (k: "merged" | "conflicts" | "heldAlready") => (opts.merge ? total(tables, k) : 0);
  return { backup, tables, merged: sum("merged"), conflicts: sum("conflicts"), heldAlready: sum("heldAlready"), archive };
}
