/**
 * vox-cutover backup format, version 1 (JSONL). Documented in docs/backup-format.md.
 *
 *   line 1      {"k":"header","format":"vox-cutover-backup","version":1,…,"tables":[{name,sql,columns,rowid,…}]}
 *   per table   {"k":"table","name":…,"columns":[…]}   then one JSON array per row   then
 *               {"k":"end","name":…,"rows":N,"sha256":…}
 *   last line   {"k":"trailer","tables":[{name,rows,sha256}],"totalRows":N,"fileSha256":…}
 *
 * A row is a JSON array of typed values, storage class explicit:
 *   NULL → null · INTEGER → a JSON integer when |v| < 2^53, else {"i":"<decimal>"}
 *   REAL → {"r":<number>} ({"r":"-0"}, {"r":"Infinity"}, {"r":"-Infinity"} for the specials)
 *   TEXT → a JSON string when its bytes are valid UTF-8 (a NUL inside included; text beginning
 *          "base64:" is just text), else {"t":"<base64 of the exact bytes>"} · BLOB → {"b":"<base64>"}
 * The encoding is canonical: a table's sha256 is over its row lines (each + "\n") as written, and
 * verification re-encodes every decoded row and requires the same bytes.
 */
import { isUtf8 } from "node:buffer";
import { RawText, type SqlValue } from "../db/value.js";
import type { FileSettings } from "../db/file-settings.js";
import type { FileObject } from "../db/objects.js";

export const FORMAT_NAME = "vox-cutover-backup";
export const FORMAT_VERSION = 1;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

export function encodeValue(v: SqlValue): string {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "bigint":
      return v <= MAX_SAFE && v >= MIN_SAFE ? v.toString() : `{"i":"${v.toString()}"}`;
    case "number":
      if (Number.isFinite(v)) return Object.is(v, -0) ? '{"r":"-0"}' : `{"r":${JSON.stringify(v)}}`;
      return v > 0 ? '{"r":"Infinity"}' : v < 0 ? '{"r":"-Infinity"}' : "null"; // NaN cannot be stored by SQLite
    case "object":
      if (v === null) return "null";
      if (v instanceof RawText) return `{"t":"${Buffer.from(v.bytes.buffer, v.bytes.byteOffset, v.bytes.byteLength).toString("base64")}"}`;
      return `{"b":"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64")}"}`;
    default:
      throw new Error(`cannot encode a value of type ${typeof v}`);
  }
}

export function encodeRow(values: readonly SqlValue[]): string {
  let s = "[";
  for (let i = 0; i < values.length; i++) {
    if (i) s += ",";
    s += encodeValue(values[i]!);
  }
  return s + "]";
}

export class DecodeError extends Error {}

export function decodeValue(x: unknown): SqlValue {
  if (x === null) return null;
  if (typeof x === "string") return x;
  if (typeof x === "number") {
    if (!Number.isSafeInteger(x)) throw new DecodeError(`bare number ${x} is not a safe integer`);
    return BigInt(x);
  }
  if (typeof x === "object" && !Array.isArray(x)) {
    const o = x as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length !== 1) throw new DecodeError(`typed value must have exactly one key, got ${JSON.stringify(o).slice(0, 60)}`);
    if ("i" in o) {
      if (typeof o.i !== "string" || !/^-?\d+$/.test(o.i)) throw new DecodeError("bad integer");
      const b = BigInt(o.i);
      if (b > 9223372036854775807n || b < -9223372036854775808n) throw new DecodeError("integer out of 64-bit range");
      return b;
    }
    if ("r" in o) {
      if (typeof o.r === "number") return o.r;
      if (o.r === "-0") return -0;
      if (o.r === "Infinity") return Infinity;
      if (o.r === "-Infinity") return -Infinity;
      throw new DecodeError("bad real");
    }
    if ("b" in o) {
      // Bad base64 decodes to other bytes, which the canonical re-encoding check then refuses.
      if (typeof o.b !== "string") throw new DecodeError("bad base64 blob");
      return new Uint8Array(Buffer.from(o.b, "base64"));
    }
    if ("t" in o) {
      if (typeof o.t !== "string") throw new DecodeError("bad base64 text");
      const bytes = Buffer.from(o.t, "base64");
      // Canonical: text that is valid UTF-8 is written as a JSON string, never as {"t"}.
      if (isUtf8(bytes)) throw new DecodeError('{"t"} holds valid UTF-8 text, which is written as a string');
      return new RawText(new Uint8Array(bytes));
    }
  }
  throw new DecodeError(`not a typed value: ${JSON.stringify(x).slice(0, 60)}`);
}

export interface BackupTable {
  name: string;
  /** CREATE statement as stored in sqlite_master. */
  sql: string;
  /** Names of the values in each row, in order; a rowid (when kept) comes first as `rowidColumn`. */
  columns: string[];
  /** The name under which the table's rowid is carried as the first value (null: no rowid kept). */
  rowidColumn: string | null;
  /** The INTEGER PRIMARY KEY column that aliases the rowid (rows carry it as a normal column). */
  rowidAlias: string | null;
  withoutRowid: boolean;
  /** Primary key columns (WITHOUT ROWID order key). */
  primaryKey: string[];
  /** Declared types, parallel to `columns` ("" for the rowid). */
  types: string[];
  /** Row count read at the start of the export (same snapshot). */
  rows: number | string;
}

export interface BackupHeader {
  k: "header";
  format: typeof FORMAT_NAME;
  version: number;
  tool: string;
  createdAt: string;
  source: { path?: string; url?: string; sizeBytes: number | null; walBytes: number | null; changeCounter: number | null };
  chain: string;
  maxVersion: number | string | null;
  baseline: { version: number; digest: string };
  tables: BackupTable[];
  /**
   * Virtual tables the backup does not carry as rows but rebuilds: external-content FTS indexes
   * (their content table is carried). A restore creates them and runs their 'rebuild'.
   */
  rebuilt?: { name: string; sql: string }[];
  /** The source file's settings, given to a new file the backup is imported into (absent in older backups: SQLite's defaults). */
  settings?: FileSettings;
  /** The source's own indexes, triggers and views (absent in older backups: none are carried or reported). */
  objects?: FileObject[];
}

export interface Trailer {
  k: "trailer";
  tables: { name: string; rows: number; sha256: string }[];
  totalRows: number;
  fileSha256: string;
}

/** Values of a decoded row as a type-faithful JSON object, for legacy_quarantine.row_json. */
export function rowJson(columns: readonly string[], values: readonly SqlValue[]): string {
  let s = "{";
  columns.forEach((c, i) => {
    if (i) s += ",";
    s += `${JSON.stringify(c)}:${encodeValue(values[i] ?? null)}`;
  });
  return s + "}";
}

/**
 * The one counting rule: "table rows" are the rows of every table a backup carries, sqlite_sequence
 * excepted; sqlite_sequence's rows are counted apart as `sequences`.
 */
export function splitSequences<T extends { name: string; rows: number }>(tables: readonly T[]): { tables: T[]; totalRows: number; sequences: number } {
  const rest = tables.filter((t) => t.name !== "sqlite_sequence");
  return {
    tables: rest,
    totalRows: rest.reduce((n, t) => n + t.rows, 0),
    sequences: tables.filter((t) => t.name === "sqlite_sequence").reduce((n, t) => n + t.rows, 0),
  };
}
