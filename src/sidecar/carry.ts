/**
 * How the sidecar's tables are put beside the canonical DB for Stage 2 (compare and merge). SQLite
 * attaches only files of the main database's text encoding; since issue 17 keeps a UTF-16 vox.db
 * UTF-16, its UTF-8 sidecar (vox writes UTF-8) cannot be attached to it.
 *
 * - Same encoding: the sidecar itself is attached read-only (SQLite's own locking, `mode=ro`) —
 *   unless both are UTF-16 and the sidecar holds a long text starting with U+FEFF/U+FFFE, which
 *   SQLite 3.45 reads (and would copy) without that character: then it is carried as below.
 * - Other encodings: the sidecar is read through its own read-only connection in ONE read
 *   transaction (one snapshot) and the data tables Stage 2 merges (shapeOf) are carried into a private scratch database
 *   attached under the same name (`ATTACH ''`: SQLite's temporary file, removed when detached,
 *   created in the canonical DB's encoding). Values keep their storage class (integers as BigInt,
 *   REAL as double, BLOB as bytes, rowids kept, columns of the same affinity); each TEXT is decoded
 *   from the sidecar's bytes strictly and written as the canonical encoding's bytes
 *   (TEXT_FROM_BYTES, src/db/value.ts, takes a function's BLOB as the database's own encoding: no
 *   conversion inside SQLite, so U+FFFE/U+FFFF and a NUL inside stay, which a bound string would not:
 *   SQLite's UTF-8→UTF-16 conversion turns U+FFFE/U+FFFF into U+FFFD). A row holding a TEXT that
 *   cannot be carried exactly (bytes that are not valid text of the sidecar's encoding; a long
 *   UTF-16 text SQLite reads short) is not carried: it is returned, so that the merge quarantines it
 *   whole with the reason and the comparison counts it as a conflict (it stays in the archived
 *   sidecar and its backup either way). Afterwards every carried column's storage classes are
 *   counted on both sides: a difference refuses. A table Stage 2 does not merge gets an empty
 *   scratch table and its rows are only counted (they stay in the archived sidecar).
 */
import { isUtf8 } from "node:buffer";
import { attachUri, allRows, openReadOnly, textEncoding, type LibsqlDatabase } from "../db/local.js";
import { countsIn, countStatements } from "../db/catalog.js";
import { affinityOf } from "../backup/affinity.js";
import { quoteIdent, RawText, TEXT_FROM_BYTES, textBytesOf, type Row, type SqlValue, type TextEncoding } from "../db/value.js";
import { failed } from "../errors.js";
import { droppedLines } from "../util/gc.js";

export const SCHEMA = "vox_sidecar";
export const S = quoteIdent(SCHEMA);
/** The sidecar's own bookkeeping, never merged: its schema_version rows would change the canonical chain. */
export const NOT_DATA = new Set(["schema_version", "sqlite_sequence", "cutover_ledger", "legacy_quarantine"]);

interface Col {
  name: string;
  type: string;
  pk: number;
  generated: boolean;
}

export function columnsOf(db: LibsqlDatabase, schema: string, table: string): Col[] {
  return allRows(db, "SELECT name, type, pk, hidden FROM pragma_table_xinfo(?, ?) ORDER BY cid", [table, schema]).map(toCol);
}

/** A `pragma_table_xinfo` row as a column (hidden 2 and 3: generated). */
function toCol(r: Row): Col {
  return { name: String(r.name), type: String(r.type ?? ""), pk: Number(r.pk), generated: Number(r.hidden) >= 2 };
}

/**
 * columnsOf for many tables of a schema in one statement (a statement per table was ~230 of a
 * cutover's Stage 2 on vox's 114-table sidecar). The tables are ordinary ones (ordinaryTables): a
 * table SQLite cannot list would fail columnsOf alike, so there is no per-table fallback.
 */
function columnsOfAll(db: LibsqlDatabase, schema: string, tables: readonly string[]): Map<string, Col[]> {
  const out = new Map<string, Col[]>(tables.map((t) => [t, []]));
  if (!tables.length) return out;
  for (const r of allRows(
    db,
    "SELECT j.value AS t, x.name, x.type, x.pk, x.hidden FROM json_each(?) AS j, pragma_table_xinfo(j.value, ?) AS x ORDER BY j.key, x.cid",
    [JSON.stringify(tables), schema],
  ))
    out.get(String(r.t))!.push(toCol(r));
  return out;
}

/**
 * What Stage 2's plans need of every table, in a few statements instead of a few per table: the row
 * counts of the tables the carrying did not count (the counting rule's statements, countStatements),
 * and the columns of each table in the sidecar and, where it has one, in the canonical DB.
 */
export function sideFacts(db: LibsqlDatabase, names: string[], inMain: (name: string) => boolean, counted: Map<string, number>) {
  const toCount = names.filter((name) => !counted.has(name));
  const counts = countsIn(
    toCount.length,
    countStatements(toCount, SCHEMA).flatMap((sql) => allRows(db, sql)),
  );
  return {
    countOf: new Map(toCount.map((name, i) => [name, Number(counts[i]!)])),
    side: columnsOfAll(db, SCHEMA, names),
    main: columnsOfAll(db, "main", names.filter(inMain)),
  };
}

export interface SideTable {
  name: string;
  withoutRowid: boolean;
}

/** Ordinary tables of a schema (virtual and shadow tables are rebuilt from their content tables, never merged). */
export function ordinaryTables(db: LibsqlDatabase, schema: string): Map<string, SideTable> {
  const out = new Map<string, SideTable>();
  for (const r of allRows(db, `PRAGMA ${quoteIdent(schema)}.table_list`)) {
    const name = String(r.name);
    if (String(r.type) !== "table" || /^sqlite_/i.test(name)) continue;
    out.set(name, { name, withoutRowid: Number(r.wr) === 1 });
  }
  return out;
}

/** The name a rowid table's rowid is read by (one no column shadows), or null. */
export function rowidName(cols: readonly string[]): string | null {
  const lower = new Set(cols.map((c) => c.toLowerCase()));
  return ["rowid", "_rowid_", "oid"].find((x) => !lower.has(x)) ?? null;
}

/** How a sidecar table meets the canonical one: the columns both have, the canonical key, and whether Stage 2 merges it (else why not). */
interface Shape {
  shared: string[];
  extra: string[];
  key: string[];
  /** False when the canonical table declares no key (the key is then every shared column). */
  declaredKey: boolean;
  mergeable: boolean;
  note?: string;
}

/** The one rule of which sidecar tables Stage 2 compares and merges (`sideCols`: its non-generated columns; `inMain`: the canonical DB has such a table). */
export function shapeOf(db: LibsqlDatabase, table: string, sideCols: readonly string[], inMain: boolean, mainColumns?: readonly Col[]): Shape {
  const out: Shape = { shared: [], extra: [], key: [], declaredKey: false, mergeable: false };
  if (!inMain) return { ...out, note: "the canonical DB has no such table: its rows stay in the archived sidecar (and its backup)" };
  const mainCols = mainColumns ?? columnsOf(db, "main", table);
  const insertable = new Set(mainCols.filter((c) => !c.generated).map((c) => c.name));
  out.shared = sideCols.filter((c) => insertable.has(c));
  out.extra = sideCols.filter((c) => !insertable.has(c));
  const pk = mainCols
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => c.name);
  // A table without a declared key: a row is the same row only when every shared value is.
  out.key = pk.length ? pk : out.shared;
  out.declaredKey = pk.length > 0;
  const missingKey = out.key.filter((k) => !out.shared.includes(k));
  if (!out.shared.length) return { ...out, note: "no column in common with the canonical table: its rows stay in the archived sidecar" };
  if (missingKey.length)
    return { ...out, note: `the sidecar table lacks the canonical key column(s) ${missingKey.join(", ")}: its rows stay in the archived sidecar` };
  return { ...out, mergeable: true };
}

/** What attachSidecar leaves: per table, the rows that could not be carried, and the row counts of tables not carried (Stage 2 does not merge them). */
export interface Attached {
  uncarried: Map<string, Uncarried[]>;
  counted: Map<string, number>;
  /** Both UTF-16, the sidecar attached itself: each merged table is checked for a TEXT SQLite reads short (assertNoShortText) in the comparison's own transaction. */
  checkShort: boolean;
}

/** A UTF-16 sidecar attached itself holds a TEXT SQLite reads short: the caller rolls back, detaches and attaches it again carried. */
export class ReadsShort extends Error {}

/** A sidecar row that could not be carried into the canonical encoding: quarantined whole by the merge. */
export interface Uncarried {
  rowid: SqlValue;
  /** The row's values in the order of the table's (non-generated) columns; a text that could not be carried as RawText with its stored bytes. */
  values: SqlValue[];
  reason: string;
}

/**
 * Attaches the sidecar to `db` as `vox_sidecar` (see the file's comment); returns the rows that
 * could not be carried, per table (empty when the encodings are the same). Detach with detachSidecar.
 */
export function attachSidecar(db: LibsqlDatabase, sidecarPath: string, carry = false): Attached {
  // Opened first: a file that is no database, or a hot journal beside it, is refused in words here.
  const side = openReadOnly(sidecarPath);
  try {
    const from = textEncoding(side);
    const to = textEncoding(db);
    // libsql keeps temporary databases in memory by default: the scratch (and SQLite's own sorts and
    // automatic indexes over the sidecar) would grow with the sidecar. On disk they stay flat
    // (a 600,000-row sidecar: peak RSS 375 → 135 MB).
    db.exec("PRAGMA temp_store = FILE");
    // UTF-16 on both sides: attached, and checked in the comparison's transaction (assertNoShortText);
    // carried when a text reads short there (see LONG_BOM_ROW): SQLite's own copy would drop its first character.
    if (from === to && (from === "UTF-8" || !carry)) {
      db.prepare(`ATTACH DATABASE ? AS ${S}`).run(attachUri(sidecarPath));
      return { uncarried: new Map(), counted: new Map(), checkShort: from !== "UTF-8" };
    }
    db.exec(`ATTACH DATABASE '' AS ${S}`);
    try {
      // A big page: a row of up to ~64 KB stays on its page (see LONG_BOM_ROW).
      db.exec(`PRAGMA ${S}.page_size = 65536; PRAGMA ${S}.journal_mode = OFF; PRAGMA ${S}.synchronous = OFF; PRAGMA ${S}.cache_size = -4096`);
      return carryAll(side, db, from, to, sidecarPath);
    } catch (e) {
      detachSidecar(db);
      throw e;
    }
  } finally {
    side.close();
  }
}

export function detachSidecar(db: LibsqlDatabase): void {
  try {
    db.exec(`DETACH DATABASE ${S}`);
  } catch {
    /* closing the connection detaches it too */
  }
}

/**
 * Throws ReadsShort when the attached UTF-16 sidecar's `table` holds a TEXT that SQLite hands over
 * shorter than stored (a long one starting with U+FEFF/U+FFFE). Called inside the transaction the
 * rows are compared and merged in: the decision is about the same snapshot. It reads each TEXT whole:
 * the record header holds only the stored length, and `substr` loads the whole value too.
 */
export function assertNoShortText(db: LibsqlDatabase, table: string, cols: readonly string[]): void {
  if (!cols.length) return;
  const short = cols
    .map((c) => `(typeof(${quoteIdent(c)}) = 'text' AND octet_length(${quoteIdent(c)}) <> length(CAST(${quoteIdent(c)} AS BLOB)))`)
    .join(" OR ");
  if (allRows(db, `SELECT 1 AS x FROM ${S}.${quoteIdent(table)} WHERE ${short} LIMIT 1`).length) throw new ReadsShort(table);
}

/**
 * SQLite 3.45 drops a leading U+FEFF/U+FFFE of a UTF-16 text it reads from an overflow page (see
 * src/backup/row-source.ts). The scratch has 64 KiB pages: a row below this many bytes stays on its
 * page; a longer row whose UTF-16 text starts with one of them is not carried (the merge would
 * copy it short).
 */
const LONG_BOM_ROW = 60_000;

const CLASSES = ["integer", "real", "text", "blob", "null"] as const;

function carryAll(side: LibsqlDatabase, db: LibsqlDatabase, from: TextEncoding, to: TextEncoding, path: string): Attached {
  const out: Attached = { uncarried: new Map(), counted: new Map(), checkShort: false };
  side.exec("BEGIN"); // one snapshot of the sidecar for every table
  db.exec("BEGIN");
  try {
    const tables = [...ordinaryTables(side, "main").values()].filter((t) => !NOT_DATA.has(t.name));
    const inMain = ordinaryTables(db, "main");
    for (const t of tables) {
      const cols = columnsOf(side, "main", t.name).filter((c) => !c.generated);
      createScratch(db, t, cols);
      // A table Stage 2 does not merge stays in the archived sidecar: its rows are counted, not carried.
      if (
        !shapeOf(
          db,
          t.name,
          cols.map((c) => c.name),
          inMain.has(t.name),
        ).mergeable
      ) {
        out.counted.set(t.name, Number(allRows(side, `SELECT count(*) AS n FROM main.${quoteIdent(t.name)}`)[0]!.n));
        continue;
      }
      const un = carryTable(side, db, t, cols, from, to, path);
      if (un.length) out.uncarried.set(t.name, un);
    }
    db.exec("COMMIT");
  } finally {
    if (db.inTransaction) db.exec("ROLLBACK");
    side.exec("ROLLBACK");
  }
  return out;
}

function decodeStrict(bytes: Buffer, enc: TextEncoding): string | null {
  if (enc === "UTF-8") return isUtf8(bytes) ? bytes.toString("utf8") : null;
  try {
    return new TextDecoder(enc === "UTF-16le" ? "utf-16le" : "utf-16be", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

function asBuffer(v: unknown): Buffer {
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  const u = v as Uint8Array;
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** The scratch table of a sidecar table: its (non-generated) columns with the same affinity, its key if WITHOUT ROWID. */
function createScratch(db: LibsqlDatabase, t: SideTable, cols: Col[]): void {
  const pk = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
  // A column declared with its affinity's name has that affinity (BLOB as a type name: BLOB affinity, as no type).
  const defs = cols.map((c) => `${quoteIdent(c.name)} ${affinityOf(c.type)}`);
  if (t.withoutRowid) defs.push(`PRIMARY KEY (${pk.map((c) => quoteIdent(c.name)).join(", ")})`);
  db.exec(`CREATE TABLE ${S}.${quoteIdent(t.name)} (${defs.join(", ")})${t.withoutRowid ? " WITHOUT ROWID" : ""}`);
}

function carryTable(side: LibsqlDatabase, db: LibsqlDatabase, t: SideTable, cols: Col[], from: TextEncoding, to: TextEncoding, path: string): Uncarried[] {
  const names = cols.map((c) => c.name);
  const q = quoteIdent(t.name);
  const rid = t.withoutRowid ? null : rowidName(names);
  if (!cols.length) return [];
  const sel = side.prepare(
    `SELECT ${rid ?? "NULL"}, ${names
      .map((n) => quoteIdent(n))
      .map(
        (c) =>
          `typeof(${c}), CASE WHEN typeof(${c}) = 'text' THEN CAST(${c} AS BLOB) ELSE ${c} END, CASE WHEN typeof(${c}) = 'text' THEN octet_length(${c}) END`,
      )
      .join(", ")} FROM main.${q}`,
  );
  sel.raw(true);
  sel.safeIntegers(true);
  const head = `INSERT INTO ${S}.${q} (${[...(rid ? [rid] : []), ...names].map(quoteIdent).join(", ")}) VALUES `;
  const inserts = new Map<string, { run(args: unknown[]): unknown }>();
  const insertFor = (textAt: boolean[]) => {
    const key = textAt.map((x) => (x ? "t" : "v")).join("");
    let st = inserts.get(key);
    if (!st) {
      st = db.prepare(`${head}(${[...(rid ? ["?"] : []), ...textAt.map((x) => (x ? TEXT_FROM_BYTES : "?"))].join(", ")})`) as { run(args: unknown[]): unknown };
      inserts.set(key, st);
    }
    return st;
  };
  const tally = names.map(() => new Map<string, number>());
  const uncarried: Uncarried[] = [];
  for (const raw of (sel as unknown as { iterate(): IterableIterator<unknown[]> }).iterate()) {
    const values: SqlValue[] = [];
    const args: unknown[] = rid ? [raw[0]] : [];
    const textAt: boolean[] = [];
    const problems: string[] = [];
    let bomAt: string | null = null;
    let rowBytes = 9 * names.length; // a value's header and a number's bytes at most
    names.forEach((name, i) => {
      const type = raw[1 + 3 * i];
      const v = raw[2 + 3 * i];
      textAt.push(type === "text");
      if (type === "text") {
        const bytes = asBuffer(v);
        const text = decodeStrict(bytes, from);
        const short = Number(raw[3 + 3 * i]) !== bytes.length;
        if (text === null || short) {
          problems.push(
            short
              ? `${name}: a long ${from} text starting with U+FEFF or U+FFFE, which SQLite reads without that character (row_json holds what SQLite reads; the exact value is in the archived sidecar and its backup)`
              : `${name}: its bytes are not valid ${from} text`,
          );
          values.push(text ?? new RawText(new Uint8Array(bytes)));
          return;
        }
        const out = textBytesOf(text, to);
        if (to !== "UTF-8" && /^[\uFEFF\uFFFE]/.test(text)) bomAt = name;
        rowBytes += out.length;
        values.push(text);
        args.push(out);
      } else {
        const val = type === "null" ? null : type === "blob" ? new Uint8Array(asBuffer(v)) : (v as bigint | number);
        if (val instanceof Uint8Array) rowBytes += val.length;
        values.push(val);
        args.push(val);
      }
    });
    if (bomAt && rowBytes > LONG_BOM_ROW) problems.push(`${bomAt}: a long ${to} text starting with U+FEFF or U+FFFE, which SQLite reads without it`);
    if (problems.length) {
      uncarried.push({
        rowid: (raw[0] ?? null) as SqlValue,
        values,
        reason: `cannot be carried exactly into the ${to} database (${problems.join("; ")})`,
      });
      continue;
    }
    insertFor(textAt).run(args);
    // Each TEXT and BLOB came as a small driver buffer and went as another: garbage once bound (src/util/gc.ts).
    droppedLines(2 * rowBytes);
    values.forEach((v, i) => {
      const cls = v === null ? "null" : typeof v === "bigint" ? "integer" : typeof v === "number" ? "real" : typeof v === "string" ? "text" : "blob";
      tally[i]!.set(cls, (tally[i]!.get(cls) ?? 0) + 1);
    });
  }
  assertSameClasses(db, t.name, names, tally, path);
  return uncarried;
}

/** Every carried column holds the same number of values of each storage class as was read: a class changed by the scratch column's affinity refuses. */
function assertSameClasses(db: LibsqlDatabase, table: string, names: string[], tally: Map<string, number>[], path: string): void {
  const exprs = names.flatMap((n) => CLASSES.map((c) => `sum(typeof(${quoteIdent(n)}) = '${c}')`));
  const st = db.prepare(`SELECT ${exprs.join(", ")} FROM ${S}.${quoteIdent(table)}`);
  st.raw(true);
  const got = (st.get() as unknown[]).map((x) => Number(x ?? 0));
  names.forEach((n, i) => {
    CLASSES.forEach((c, j) => {
      const want = tally[i]!.get(c) ?? 0;
      if (got[i * CLASSES.length + j] !== want)
        throw failed({
          what: `The sidecar ${path}'s table ${table}, column ${n}: ${want} ${c} value(s) read, ${got[i * CLASSES.length + j]} after carrying them into the canonical DB's text encoding: a value would change its storage class.`,
          untouched: "Nothing was merged or moved: the sidecar and the canonical DB are as they were.",
          next: "Report this with the sidecar's schema (sqlite3 vox_training_telemetry.db .schema).",
          details: { sidecar: path, table, column: n },
        });
    });
  });
}
