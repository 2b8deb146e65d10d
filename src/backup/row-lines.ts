/**
 * The one way a table's rows are read for a backup line (the export, verify's live hash, the
 * import's proof): `readRows` yields each row in key order, either as its canonical line's UTF-8
 * bytes, written by SQLite, or as its values (row-source.ts) for the JS encoder (format.ts).
 *
 * Why: the driver's cost is per value handed to JS, not per byte, so a row of ten values costs ten
 * crossings. For a row whose values are all NULL, INTEGER with |v| < 2^53, or TEXT up to 1 MB,
 * SQLite's `json_array(v1, …, vn)` is byte for byte the line `encodeRow` writes:
 * NULL → `null`, an integer → its decimal, TEXT → a JSON string escaped as `JSON.stringify` does
 * (`"` and `\`, U+0000–U+001F as `\b \t \n \f \r` or `\u00xx` in lowercase, a NUL inside included,
 * U+007F and every byte ≥ 0x80 as they are; test/backup/row-lines.test.ts checks every byte). So
 * one value crosses per row. Text that is not valid UTF-8 is copied by json_array byte for byte and
 * escapes only put ASCII for ASCII, so a line is valid UTF-8 exactly when all its text is: a line
 * `isUtf8` refuses is taken apart byte-exact (latin1) and its text encoded by JS as `{"t"}` where
 * needed. Every other row — a REAL (JS's shortest round-trip text is not SQLite's), a BLOB
 * (base64), an integer beyond 2^53 (`{"i"}`), TEXT over 1 MB (and so any big value, read from
 * the pages) — comes as its rowid instead of a line and is read by the row statement; a table where
 * such rows are common (1 in 8 after the first 16) is read by the row statement from there on.
 *
 * Only ordinary rowid tables (the tables whose big values can be read from the pages by rowid:
 * row-source.ts pageRowid) of UTF-8 files take the line path; WITHOUT ROWID, virtual tables,
 * sqlite_sequence and UTF-16 files are read as values, as before.
 */
import { isUtf8 } from "node:buffer";
import type { LibsqlDatabase } from "../db/local.js";
import { decodeText, quoteIdent } from "../db/value.js";
import { droppedLines } from "../util/gc.js";
import type { BackupTable } from "./format.js";
import { bigAbove } from "./big-source.js";
import {
  fileFacts,
  integerOnly,
  iterateRows,
  orderBy,
  pageRowid,
  rowStatement,
  valueRef,
  type ReadWhole,
  type RowSource,
  type RowValue,
} from "./row-source.js";

/** A row as the readers hand it: its line's UTF-8 bytes (no newline), or its values. */
export type RowItem = Buffer | RowValue[];

/** |v| ≤ 2^53 − 1: written bare (format.ts encodeValue); beyond it `{"i":"…"}`. */
const SAFE = "9007199254740991";

/** json_array takes at most 127 arguments in this SQLite; wider tables are read as values. */
const MAX_LINE_COLUMNS = 127;

/** After this many rows that SQLite could not write, a table that has 1 in HARD_SHARE of them is read as values. */
const HARD_SWITCH_AFTER = 16;
const HARD_SHARE = 8;

/** The smallest rowid: the line statement starts there (`key >= ?`, so that it can also be run over no row). */
const FIRST_KEY = -(1n << 63n);

/**
 * TEXT longer than this goes by the row statement (the per-value cost is nothing next to its bytes):
 * a line of 127 such values escaped at worst (`\u0000`, 6 bytes a byte) stays under SQLite's 1 GB
 * string limit.
 */
const LINE_TEXT_MAX = 1 << 20;

/** A value SQLite does not write as the JS encoder would (or a big value): the row comes as values. */
function hardValue(t: BackupTable, i: number, big: number): string {
  const r = valueRef(t, i);
  if (integerOnly(t, i)) return `${r} NOT BETWEEN -${SAFE} AND ${SAFE}`;
  return `CASE typeof(${r}) WHEN 'null' THEN 0 WHEN 'integer' THEN ${r} NOT BETWEEN -${SAFE} AND ${SAFE} WHEN 'text' THEN octet_length(${r}) > ${big} ELSE 1 END`;
}

/** One value per row: the line as a BLOB (its bytes exact, whatever they are), or the row's key when SQLite cannot write it. */
function lineSql(t: BackupTable, key: string): string {
  const hard = t.columns.map((_, i) => `(${hardValue(t, i, Math.min(LINE_TEXT_MAX, bigAbove()))})`).join(" OR ");
  const values = t.columns.map((_, i) => valueRef(t, i)).join(", ");
  return `SELECT CASE WHEN ${hard} THEN ${key} ELSE CAST(json_array(${values}) AS BLOB) END FROM ${quoteIdent(t.name)} WHERE ${key} >= ?${orderBy(t)}`;
}

/**
 * A line SQLite wrote whose text is not all valid UTF-8: its values, byte-exact. Read as latin1, each
 * character is one byte; JSON.parse undoes the escapes (all ASCII), so each string's latin1 bytes are
 * the stored text's. Every value is NULL, a safe integer or TEXT (the others never get a line).
 */
function lineValues(line: Buffer): RowValue[] {
  return (JSON.parse(line.toString("latin1")) as (null | number | string)[]).map((v) =>
    v === null ? null : typeof v === "number" ? BigInt(v) : decodeText(Buffer.from(v, "latin1")),
  );
}

/**
 * Every row of a table in key order, as a line SQLite wrote or as values (see above). `whole` hears
 * of big values read whole (a WITHOUT ROWID table its pages could not serve) once the rows are read.
 */
export function* readRows(db: LibsqlDatabase, t: BackupTable, whole?: (w: ReadWhole) => void): Generator<RowItem> {
  const facts = fileFacts(db);
  // json_array writes a UTF-16 file's text in UTF-16: those files are read as values.
  const rowidIdx = facts.encoding === "UTF-8" ? pageRowid(t, facts) : null;
  if (rowidIdx === null || t.columns.length > MAX_LINE_COLUMNS) {
    const src = rowStatement(db, t);
    yield* iterateRows(src);
    if (src.whole?.values) whole?.(src.whole);
    return;
  }
  const key = valueRef(t, rowidIdx);
  const st = db.prepare(lineSql(t, key));
  st.raw(true);
  st.safeIntegers(true);
  let byKey: RowSource | null = null;
  let rows = 0;
  let hard = 0;
  let restFrom: bigint | null = null;
  let open = true;
  try {
    for (const [v] of (st as unknown as { iterate(args: unknown[]): IterableIterator<[Buffer | bigint]> }).iterate([FIRST_KEY])) {
      rows++;
      if (typeof v !== "bigint") {
        yield isUtf8(v) ? v : lineValues(v);
        droppedLines(v.length);
        continue;
      }
      if (++hard >= HARD_SWITCH_AFTER && hard * HARD_SHARE > rows) {
        restFrom = v;
        break;
      }
      // One row at a time: without the short-ASCII fast path, half the statement to prepare (150 MB
      // bench file: the read pass's CPU unchanged, 1.42–1.52 s either way).
      byKey ??= rowStatement(db, t, ` WHERE ${key} = ?`, false);
      yield* iterateRows(byKey, [v]);
    }
    open = false;
  } finally {
    // The driver's iterator has no return(): a statement left part way stays active, and its read
    // keeps every database of the connection in a transaction (a DETACH then fails: "database … is
    // locked"). Run again over no row (`>= NULL`), it ends.
    if (open || restFrom !== null) (st as unknown as { iterate(args: unknown[]): Iterator<unknown> }).iterate([null]).next();
  }
  // Rows SQLite cannot write are common here: this row and the rest by the row statement.
  if (restFrom !== null) yield* iterateRows(rowStatement(db, t, ` WHERE ${key} >= ?`), [restFrom]);
}
