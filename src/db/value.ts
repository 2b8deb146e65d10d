import { isUtf8 } from "node:buffer";

/**
 * TEXT whose bytes are not valid UTF-8 (Latin-1 legacy data, overlong forms, encoded surrogates):
 * a JS string cannot hold it, so it is carried as its exact bytes and written back as TEXT
 * (`CAST(? AS TEXT)` keeps the bytes). Valid UTF-8 TEXT (a NUL inside included) is a plain string.
 */
export class RawText {
  constructor(readonly bytes: Uint8Array) {}
}

/** A value as a driver hands it back (TEXT as a JS string: cut at a NUL, never raw bytes). */
export type PlainValue = null | bigint | number | string | Uint8Array;
/** A SQLite value as the product carries it: the storage class is the JS type. */
export type SqlValue = PlainValue | RawText;
/** A row of a catalog or bookkeeping query (`allRows`). */
export type Row = Record<string, PlainValue>;

/** Normalises what a driver hands back (ArrayBuffer blobs, JS ints from remote). */
export function normalizeValue(v: unknown): PlainValue {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint" || typeof v === "string" || typeof v === "number") return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (v instanceof Uint8Array) return v;
  if (typeof v === "boolean") return v ? 1n : 0n;
  return String(v);
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A string as an SQL literal ('it''s'): the one home for quoting a value into SQL text. */
export function quoteString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** SQLite's text encodings (`PRAGMA encoding`). */
export type TextEncoding = "UTF-8" | "UTF-16le" | "UTF-16be";

const UTF16LE = new TextDecoder("utf-16le", { fatal: true, ignoreBOM: true });
const UTF16BE = new TextDecoder("utf-16be", { fatal: true, ignoreBOM: true });

/**
 * TEXT read as its stored bytes (`CAST(c AS BLOB)`) → a string when the bytes are valid UTF-8, else
 * RawText with the bytes. Strict: nothing is replaced or dropped. (A UTF-16 database's text must be
 * valid UTF-16: a lone surrogate throws.)
 */
export function decodeText(bytes: Uint8Array, encoding: TextEncoding = "UTF-8"): string | RawText {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (encoding === "UTF-8") return isUtf8(buf) ? buf.toString("utf8") : new RawText(new Uint8Array(buf));
  // A UTF-16 database: its text is written back into a UTF-8 file, so it must be valid UTF-16.
  return (encoding === "UTF-16le" ? UTF16LE : UTF16BE).decode(buf);
}

/**
 * Binds a row's values for a statement built with `valuesSql`: a RawText binds its bytes (the
 * statement casts them back to TEXT). Always one array argument: the driver takes a lone object
 * argument (a blob, a null) for named parameters.
 */
export function bindable(values: readonly SqlValue[]): unknown[] {
  return values.map((v) => (v instanceof RawText ? v.bytes : v));
}

/**
 * `(?, ?, CAST(? AS TEXT), …)`: the VALUES list for one row, raw text positions (`rawAt`, null:
 * none) cast back to TEXT.
 */
function valuesSql(n: number, rawAt: readonly boolean[] | null): string {
  let s = "(";
  for (let i = 0; i < n; i++) s += (i ? ", " : "") + (rawAt?.[i] ? "CAST(? AS TEXT)" : "?");
  return s + ")";
}

interface RunStatement {
  run(args: unknown[]): unknown;
}

/**
 * An INSERT of whole rows that keeps every value's bytes and storage class: one prepared statement
 * for rows of plain values, and one per pattern of raw-text positions (prepared once, reused).
 */
export class RowInserter {
  private readonly plain: RunStatement;
  private readonly variants = new Map<string, RunStatement>();
  constructor(
    private readonly db: { prepare(sql: string): unknown },
    /** `INSERT INTO "t" ("a", "b")` (or INSERT OR … ) without the VALUES list. */
    private readonly head: string,
    private readonly n: number,
  ) {
    this.plain = db.prepare(`${head} VALUES ${valuesSql(n, null)}`) as RunStatement;
  }
  run(values: readonly SqlValue[]): void {
    let key = "";
    for (let i = 0; i < values.length; i++) if (values[i] instanceof RawText) key += `${i},`;
    if (!key) {
      this.plain.run(values as unknown[]);
      return;
    }
    let st = this.variants.get(key);
    if (!st) {
      const raw = values.map((v) => v instanceof RawText);
      st = this.db.prepare(`${this.head} VALUES ${valuesSql(this.n, raw)}`) as RunStatement;
      this.variants.set(key, st);
    }
    st.run(bindable(values));
  }
}
