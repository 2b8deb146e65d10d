import { isUtf8 } from "node:buffer";
import { failed } from "../errors.js";

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
 * RawText with the bytes. Strict: nothing is replaced or dropped. A UTF-16 database's text is a
 * string when it is valid UTF-16; else (a lone surrogate) RawText holding its code units as UTF-8
 * would encode them (Utf16Units: never valid UTF-8, so `{"t"}` in the backup, as encoded
 * surrogates of a UTF-8 file are); `placeOf` writes them back exactly.
 */
export function decodeText(bytes: Uint8Array, encoding: TextEncoding = "UTF-8"): string | RawText {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (encoding === "UTF-8") return isUtf8(buf) ? buf.toString("utf8") : new RawText(new Uint8Array(buf));
  try {
    return (encoding === "UTF-16le" ? UTF16LE : UTF16BE).decode(buf);
  } catch {
    const u = new Utf16Units(encoding);
    return new RawText(new Uint8Array(Buffer.concat([u.push(buf), u.end()])));
  }
}

/**
 * UTF-16 bytes, in any slices, as UTF-8 would encode their code units: a surrogate pair as its
 * 4-byte form, a lone surrogate as its 3-byte form (ED A0 80…ED BF BF; "generalized UTF-8", never
 * valid UTF-8). The form a UTF-16 text that is not valid UTF-16 takes in the backup (`{"t"}`), the
 * same whether it is read whole (decodeText) or in slices (src/backup/big-utf16.ts). An odd number
 * of bytes in all has no such form: a worded error.
 */
export class Utf16Units {
  private odd = -1;
  private lead = -1;
  constructor(private readonly encoding: Exclude<TextEncoding, "UTF-8">) {}
  push(b: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(Math.ceil((b.length + 1) / 2) * 3 + 3);
    let o = 0;
    const put = (c: number) => {
      if (c < 0x80) out[o++] = c;
      else if (c < 0x800) {
        out[o++] = 0xc0 | (c >> 6);
        out[o++] = 0x80 | (c & 63);
      } else if (c < 0x10000) {
        out[o++] = 0xe0 | (c >> 12);
        out[o++] = 0x80 | ((c >> 6) & 63);
        out[o++] = 0x80 | (c & 63);
      } else {
        out[o++] = 0xf0 | (c >> 18);
        out[o++] = 0x80 | ((c >> 12) & 63);
        out[o++] = 0x80 | ((c >> 6) & 63);
        out[o++] = 0x80 | (c & 63);
      }
    };
    const le = this.encoding === "UTF-16le";
    let i = 0;
    while (i < b.length) {
      let x: number;
      let y: number;
      if (this.odd >= 0) {
        x = this.odd;
        y = b[i++]!;
        this.odd = -1;
      } else if (i + 1 < b.length) {
        x = b[i++]!;
        y = b[i++]!;
      } else {
        this.odd = b[i++]!;
        break;
      }
      const c = le ? x | (y << 8) : (x << 8) | y;
      if (this.lead >= 0) {
        if (c >= 0xdc00 && c <= 0xdfff) {
          put(0x10000 + ((this.lead - 0xd800) << 10) + (c - 0xdc00));
          this.lead = -1;
          continue;
        }
        put(this.lead);
        this.lead = -1;
      }
      if (c >= 0xd800 && c <= 0xdbff) this.lead = c;
      else put(c);
    }
    return out.subarray(0, o);
  }
  end(): Buffer {
    if (this.odd >= 0)
      throw failed({
        what: `A TEXT value of this ${this.encoding} file has an odd number of bytes: it is not UTF-16 text, and a backup has no exact form for it.`,
        untouched: "Nothing was written from it; the database was only read.",
        next: "Find it (SELECT … WHERE typeof(col) = 'text' AND octet_length(col) % 2 = 1), store it as a BLOB or fix it in a copy of the file, then run again.",
      });
    const c = this.lead;
    this.lead = -1;
    return c < 0 ? Buffer.alloc(0) : Buffer.from([0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)]);
  }
}

/**
 * RawText's bytes as UTF-16 code units (a string, lone surrogates kept): the inverse of
 * Utf16Units. Null when the bytes are not that form (Latin-1 bytes, an overlong form, a
 * surrogate pair encoded as two 3-byte forms): such text has no UTF-16 form.
 */
function unitsOf(b: Uint8Array): string | null {
  // Code units into a buffer, decoded once: appending to a string while reading its last unit back
  // flattens it every character (minutes for a 150k-character text).
  const units = Buffer.allocUnsafe(b.length * 2); // each byte yields at most one code unit
  let o = 0;
  let last = -1;
  const unit = (u: number): void => {
    units.writeUInt16LE(u, o);
    o += 2;
    last = u;
  };
  for (let i = 0; i < b.length;) {
    const x = b[i]!;
    const n = x < 0x80 ? 1 : x >= 0xc2 && x < 0xe0 ? 2 : x >= 0xe0 && x < 0xf0 ? 3 : x >= 0xf0 && x < 0xf5 ? 4 : 0;
    if (!n || i + n > b.length) return null;
    let c = n === 1 ? x : x & (0x7f >> n);
    for (let k = 1; k < n; k++) {
      if ((b[i + k]! & 0xc0) !== 0x80) return null;
      c = (c << 6) | (b[i + k]! & 63);
    }
    if ((n === 3 && c < 0x800) || (n === 4 && (c < 0x10000 || c > 0x10ffff))) return null;
    // A trail surrogate right after a lead one would read back as a pair: not this form.
    if (c >= 0xdc00 && c <= 0xdfff && last >= 0xd800 && last <= 0xdbff) return null;
    if (c < 0x10000) unit(c);
    else {
      unit(0xd800 + ((c - 0x10000) >> 10));
      unit(0xdc00 + ((c - 0x10000) & 0x3ff));
    }
    i += n;
  }
  // Node's utf16le decoding keeps lone surrogates as they are.
  return units.toString("utf16le", 0, o);
}

/**
 * Text SQLite would change on its way into a UTF-16 file if bound as a string: the driver binds
 * UTF-8 and SQLite converts it with its READ_UTF8, which makes U+FFFE, U+FFFF and any surrogate
 * U+FFFD (utf.c). A lone surrogate cannot even be bound (it becomes EF BF BD in UTF-8).
 */
/** A UTF-16 code unit of half a surrogate pair, without its other half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CHANGED_IN_UTF16 = new RegExp(`[\\uFFFE\\uFFFF]|${LONE_SURROGATE.source}`);
/** Any code unit CHANGED_IN_UTF16 looks at: a plain class, ~15× faster to rule a string out (most are). */
const MAYBE_CHANGED_IN_UTF16 = /[\uD800-\uDFFF\uFFFE\uFFFF]/;

/** Whether `s` holds half a surrogate pair without its other half (no UTF-8 text holds it: Node writes U+FFFD). */
export function hasLoneSurrogate(s: string): boolean {
  return MAYBE_CHANGED_IN_UTF16.test(s) && LONE_SURROGATE.test(s);
}

export function changedInUtf16(s: string): boolean {
  return MAYBE_CHANGED_IN_UTF16.test(s) && CHANGED_IN_UTF16.test(s);
}

/**
 * Text bound as its stored bytes, in a file of any encoding: SQLite 3.45 reads a *bound* BLOB cast
 * to TEXT as UTF-8 and converts it (and one read back from a table once it overflows); a
 * function's BLOB result is given the database's encoding, so the cast takes its bytes as they
 * are, at any size (checked with libsql and with Python's sqlite3 3.40, U+FEFF-led and 80 KB texts
 * included): no conversion inside SQLite, so U+FFFE/U+FFFF and a NUL inside stay. Not for empty
 * bytes (`substr` of an empty BLOB is NULL): bind the empty string itself (textBytesOf).
 */
export const TEXT_FROM_BYTES = "CAST(substr(?, 1) AS TEXT)";

/** A string as UTF-16 bytes (lone surrogates kept as they are). */
export function utf16Bytes(s: string, enc: Exclude<TextEncoding, "UTF-8">): Buffer {
  const b = Buffer.from(s, "utf16le");
  return enc === "UTF-16be" ? b.swap16() : b;
}

/** A string as the bytes of a file of `enc`, to bind for TEXT_FROM_BYTES (the empty string as itself). */
export function textBytesOf(s: string, enc: TextEncoding): Buffer | string {
  if (s === "") return "";
  return enc === "UTF-8" ? Buffer.from(s, "utf8") : utf16Bytes(s, enc);
}

/** A UTF-16 file's text given as its (non-empty) stored bytes: its placeholder and argument (TEXT_FROM_BYTES). */
export function utf16TextOf(bytes: Uint8Array): { sql: string; arg: Uint8Array } {
  return { sql: TEXT_FROM_BYTES, arg: bytes };
}

/**
 * A value's place in an INSERT of a file of `encoding`, so that its stored bytes and storage class
 * are the backup's: `?` (bind `arg`) for most; `CAST(? AS TEXT)` with the bytes for RawText of a
 * UTF-8 file. In a UTF-16 file, TEXT that binding would change (CHANGED_IN_UTF16) and RawText
 * (lone surrogates: Utf16Units) bind their UTF-16 bytes (utf16TextOf); RawText that is no UTF-16
 * text's form is refused with a worded error.
 */
/** The detail of placeOf's refusal: an import keeps that row whole in legacy_quarantine (import-plan.ts rowRefusal) instead of failing. */
export const NO_EXACT_TEXT = "noExactText";

export function placeOf(v: SqlValue, encoding: TextEncoding): { sql: string; arg?: unknown } {
  if (encoding !== "UTF-8" && (v instanceof RawText || (typeof v === "string" && changedInUtf16(v)))) {
    const s = v instanceof RawText ? unitsOf(v.bytes) : v;
    if (s === null)
      throw failed({
        what: `A TEXT value whose bytes are not UTF-8 (${v instanceof RawText ? v.bytes.length : 0} bytes) has no exact form in this ${encoding} file.`,
        untouched: "The import was rolled back; nothing was written.",
        next: "Import into a UTF-8 file (a new path: the backup's own settings), or store the value as a BLOB in the source.",
        details: { [NO_EXACT_TEXT]: encoding },
      });
    return utf16TextOf(utf16Bytes(s, encoding));
  }
  return v instanceof RawText ? { sql: "CAST(? AS TEXT)", arg: v.bytes } : { sql: "?", arg: v };
}

/**
 * Binds a row's values for a statement whose placeholders are `placeOf`'s: a RawText binds its
 * bytes (the statement casts them back to TEXT). Always one array argument: the driver takes a
 * lone object argument (a blob, a null) for named parameters.
 */
export function bindable(values: readonly SqlValue[]): unknown[] {
  return values.map((v) => (v instanceof RawText ? v.bytes : v));
}

interface RunStatement {
  run(args: unknown[]): unknown;
}

/**
 * An INSERT of whole rows that keeps every value's bytes and storage class: one prepared statement
 * for rows of plain values, and one per pattern of placeholders (`placeOf`: raw text cast back to
 * TEXT; in a UTF-16 file, also text binding would change), prepared once, reused.
 */
export class RowInserter {
  private readonly plain: RunStatement;
  private readonly variants = new Map<string, RunStatement>();
  private readonly sql: (row: string) => string;
  constructor(
    private readonly db: { prepare(sql: string): unknown },
    /** `INSERT INTO "t" ("a", "b")` (or INSERT OR … ) without the VALUES list; or the statement around one row's `(…)`. */
    head: string | ((row: string) => string),
    n: number,
    /** The file's text encoding (`textEncoding`, src/db/local.ts). */
    private readonly encoding: TextEncoding,
  ) {
    this.sql = typeof head === "string" ? (row) => `${head} VALUES ${row}` : head;
    this.plain = db.prepare(this.sql(`(${Array.from({ length: n }, () => "?").join(", ")})`)) as RunStatement;
  }
  run(values: readonly SqlValue[]): void {
    const utf16 = this.encoding !== "UTF-8";
    if (!values.some((v) => v instanceof RawText || (utf16 && typeof v === "string" && changedInUtf16(v)))) {
      this.plain.run(values as unknown[]);
      return;
    }
    const places = values.map((v) => placeOf(v, this.encoding));
    const key = places.map((p) => p.sql).join(", ");
    let st = this.variants.get(key);
    if (!st) {
      st = this.db.prepare(this.sql(`(${key})`)) as RunStatement;
      this.variants.set(key, st);
    }
    st.run(places.flatMap((p) => ("arg" in p ? [p.arg] : [])));
  }
}
