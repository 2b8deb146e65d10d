import { createHash } from "node:crypto";
import { countsIn, countStatements, readCatalogSync, virtualArgs, type TableInfo } from "../db/catalog.js";
import { allRows, openReadOnly, type LibsqlDatabase } from "../db/local.js";
import { assertKnownCollations } from "../db/collations.js";
import type { SqlValue } from "../db/value.js";
import { encodeRow, encodeValue, type BackupTable } from "./format.js";
import { BigValue, writeBigValue, type RowOut } from "./big-value.js";
import type { RowValue } from "./row-source.js";
import { LineRun, readRows, type RowItem } from "./row-lines.js";

const ROWID_NAMES = ["rowid", "_rowid_", "oid"];

/**
 * A virtual table carried through its rows: FTS3/FTS4/FTS5 that hold their own content and rtree
 * (backed up as rowid + columns, re-indexed by inserting). External-content FTS tables are rebuilt
 * from their content table; contentless ones hold nothing that can be read back.
 */
function carriesRows(t: TableInfo): boolean {
  return t.virtual && t.carry === "rows";
}
/** @deprecated the name predates FTS3/FTS4/rtree: same as carriesRows. */
export const isContentFts = carriesRows;

/** How a table is carried in a backup: which values, in which order, with or without its rowid. */
export function backupTable(t: TableInfo, rows: bigint): BackupTable {
  // Not a virtual table's hidden columns, not generated ones; but FTS4's languageid column, which
  // SQLite reports hidden, holds each row's language id: carried (a MATCH finds a row only under it).
  const lang = t.module === "fts4" ? virtualArgs(t.sql)?.options.languageid?.toLowerCase() : undefined;
  const cols = t.columns.filter((c) => c.hidden === 0 || (lang !== undefined && c.name.toLowerCase() === lang));
  const colNames = cols.map((c) => c.name);
  const lower = new Set(colNames.map((c) => c.toLowerCase()));
  const rowidColumn = t.withoutRowid || t.rowidAlias ? null : t.virtual ? "rowid" : (ROWID_NAMES.find((n) => !lower.has(n)) ?? null);
  const primaryKey = cols
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => c.name);
  return {
    name: t.name,
    sql: t.sql,
    columns: rowidColumn ? [rowidColumn, ...colNames] : colNames,
    rowidColumn,
    rowidAlias: t.rowidAlias,
    withoutRowid: t.withoutRowid,
    primaryKey,
    types: rowidColumn ? ["", ...cols.map((c) => c.type)] : cols.map((c) => c.type),
    rows: rows <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(rows) : rows.toString(),
  };
}

/** Every table a backup carries as rows (ordinary tables, virtual tables with own content), plus sqlite_sequence last. */
export function listBackupTables(db: LibsqlDatabase): BackupTable[] {
  const carried = readCatalogSync(db).filter((t) => t.carry === "rows");
  const seq = allRows(db, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'");
  const counts = countsOf(db, [...carried, ...(seq.length ? ["sqlite_sequence"] : [])]);
  const out = carried.map((t, i) => backupTable(t, counts[i]!));
  if (seq.length) {
    out.push({
      name: "sqlite_sequence",
      sql: String(seq[0]!.sql),
      columns: ["name", "seq"],
      rowidColumn: null,
      rowidAlias: null,
      withoutRowid: false,
      primaryKey: [],
      types: ["", ""],
      rows: Number(counts[carried.length]!),
    });
  }
  return out;
}

/** Virtual tables rebuilt, not carried: external-content FTS indexes (CREATE statement, rebuilt from their content table). */
export function listRebuiltTables(db: LibsqlDatabase): { name: string; sql: string }[] {
  return readCatalogSync(db)
    .filter((t) => t.carry === "rebuild")
    .map((t) => ({ name: t.name, sql: t.sql }));
}

/** `count(*)` of each table (the one counting rule: src/db/catalog.ts countStatements). */
function countsOf(db: LibsqlDatabase, names: (string | TableInfo)[]): bigint[] {
  return countsIn(
    names.length,
    countStatements(names).flatMap((sql) => allRows(db, sql)),
  );
}

/** Whether a row holds a big value (then it is encoded in pieces: encodeRowParts). */
export function hasBig(values: readonly RowValue[]): boolean {
  for (const v of values) if (v instanceof BigValue) return true;
  return false;
}

/** A row's canonical line (without its newline) written to `out` in pieces, big values in slices. */
export function encodeRowParts(values: readonly RowValue[], out: RowOut): void {
  let s = "[";
  for (let i = 0; i < values.length; i++) {
    if (i) s += ",";
    const v = values[i]!;
    if (v instanceof BigValue) {
      out.part(s);
      s = "";
      writeBigValue(v, out);
    } else s += encodeValue(v);
  }
  out.part(s + "]");
}

/**
 * The 1 MB batching buffer every LineHasher of the thread shares: the import keeps one hasher per
 * table until its parity check, and one buffer each (175 MB for a vox file of 175 tables) was most
 * of the cutover's peak RSS. The bytes in it belong to `owner`; another hasher flushes them into the
 * owner's hash before it writes, so each hash still sees its own bytes in order.
 */
const batch = { buf: Buffer.allocUnsafe(1 << 20), used: 0, owner: null as LineHasher | null };

/**
 * SHA-256 over lines (each + "\n"), fed through the shared 1 MB buffer: no string is built and
 * flattened per chunk and the hash is updated once per MB (a line longer than the buffer: directly).
 */
export class LineHasher implements RowOut {
  private readonly hash = createHash("sha256");
  line(text: string): void {
    this.part(text);
    this.part("\n");
  }
  /** Rows as readRows hands them: a line SQLite wrote, values, or a run of lines (their bytes and a newline). */
  item(r: RowItem): void {
    if (Buffer.isBuffer(r)) this.lineBytes(r);
    else if (r instanceof LineRun) this.lineBytes(r.lines);
    else this.row(r);
  }
  /** A row: in pieces when it holds a big value. */
  row(values: readonly RowValue[]): void {
    if (hasBig(values)) {
      encodeRowParts(values, this);
      this.part("\n");
    } else this.line(encodeRow(values as SqlValue[]));
  }
  bytes(b: Buffer): void {
    this.flush();
    this.hash.update(b);
  }
  /** A line given as its UTF-8 bytes (SQLite wrote it): copied into the batch like a string. */
  lineBytes(b: Uint8Array): void {
    if (batch.owner !== this) {
      batch.owner?.flush();
      batch.owner = this;
    }
    if (batch.used + b.length + 1 > batch.buf.length) {
      this.flush();
      if (b.length + 1 > batch.buf.length) {
        this.hash.update(b);
        this.hash.update("\n");
        return;
      }
    }
    batch.buf.set(b, batch.used);
    batch.buf[batch.used + b.length] = 10;
    batch.used += b.length + 1;
  }
  /** Part of a line (no newline added). */
  part(text: string): void {
    if (batch.owner !== this) {
      batch.owner?.flush();
      batch.owner = this;
    }
    if (batch.used + text.length * 3 + 1 > batch.buf.length) {
      this.flush();
      if (text.length * 3 + 1 > batch.buf.length) {
        this.hash.update(text, "utf8");
        return;
      }
    }
    batch.used += batch.buf.write(text, batch.used, "utf8");
  }
  private flush(): void {
    if (batch.owner !== this) return;
    if (batch.used) this.hash.update(batch.buf.subarray(0, batch.used));
    batch.used = 0;
  }
  digest(): string {
    this.flush();
    if (batch.owner === this) batch.owner = null;
    return this.hash.digest("hex");
  }
}

/** Row count and content hash of a table as the backup would carry it (nothing written). */
export function hashTable(db: LibsqlDatabase, t: BackupTable): { rows: number; sha256: string } {
  const h = new LineHasher();
  let rows = 0;
  for (const r of readRows(db, t)) {
    h.item(r);
    rows += r instanceof LineRun ? r.rows : 1;
  }
  return { rows, sha256: h.digest() };
}

/** Every table's columns, row count and content hash of a live database, in one read transaction (nothing written). */
export function hashDatabase(dbPath: string): { name: string; columns: string[]; rows: number; sha256: string }[] {
  const db = openReadOnly(dbPath);
  try {
    db.exec("BEGIN");
    assertKnownCollations(db, dbPath); // before any row is read, in the rows' snapshot (db/collations.ts)
    const tables = listBackupTables(db).map((t) => ({ name: t.name, columns: t.columns, ...hashTable(db, t) }));
    db.exec("COMMIT");
    return tables;
  } finally {
    db.close();
  }
}
