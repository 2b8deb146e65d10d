/**
 * The one way a table's rows are read for a backup line (the export, verify's live hash, the
 * import's proof): `readRows` yields each row in key order, either as its canonical line's UTF-8
 * bytes, written by SQLite, or as its values (row-source.ts) for the JS encoder (format.ts), or
 * many rows at once as a run of lines SQLite wrote and joined (LineRun).
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
 * Inside a read transaction (the export, verify, the import and its proof, and drill read in one)
 * SQLite also joins the lines, 256 rows a step (chunkSql): one crossing and one Buffer per 256 rows
 * instead of per row, handed on whole when the chunk is all lines and valid UTF-8 (docs/benchmark.md,
 * "session 10"). Outside one (the fold's check of its private copy) one statement reads the table.
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
import { affinityOf } from "./affinity.js";
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

/**
 * Rows SQLite wrote, in key order: their lines' UTF-8 bytes joined by `\n` (no newline after the
 * last one), valid UTF-8, `rows` lines. Written or hashed as `lines` and a newline, they are the
 * rows' lines one by one.
 */
export class LineRun {
  constructor(
    readonly lines: Buffer,
    readonly rows: number,
  ) {}
}

/** The lines of rows SQLite joined with `\n` (a chunk, a LineRun's bytes): a line never holds a raw newline (json_array escapes it). */
export function* linesOf(joined: Buffer): Generator<Buffer> {
  for (let at = 0; at <= joined.length;) {
    let end = joined.indexOf(10, at);
    if (end < 0) end = joined.length;
    yield joined.subarray(at, end);
    at = end + 1;
  }
}

/** Rows as the readers hand them: a row's line's UTF-8 bytes (no newline), a row's values, or a run of lines. */
export type RowItem = Buffer | RowValue[] | LineRun;

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

/**
 * A value SQLite does not write as the JS encoder would (or a big value): 1 when the row must come as
 * values, else 0. Asked of every value of every row read as a line, so it is built from SQLite's
 * cheapest operations, in an order that never loads a big value (docs/benchmark.md, "Session 25":
 * ~15 % of a 1 GB file's read against a CASE on typeof()):
 *   - `octet_length` first, which reads a value's size from the record without loading it: TEXT or a
 *     BLOB over `big` bytes is hard (an INTEGER's or a REAL's text is never longer than 24 bytes);
 *   - then SQLite's order of storage classes (NULL aside, INTEGER and REAL < TEXT < BLOB): below the
 *     empty string it is a number, hard when REAL or an integer beyond 2^53; else below the empty
 *     BLOB it is TEXT (written); else a BLOB (hard) or NULL (written).
 * The value is compared as `+r`, which has no affinity: a comparison applies the column's affinity to
 * both operands, and TEXT affinity would turn a number stored in a TEXT column (a declared type
 * changed after the rows were written, through writable_schema) into text, and so into a line with a
 * bare JSON number that the backup format does not allow (review of b9abc24; test/backup/row-lines.test.ts
 * "a number in a column declared TEXT"). `COLLATE BINARY` keeps the column's own collation (NOCASE,
 * RTRIM) out of the comparisons (a file naming one SQLite has not got is refused before it is read:
 * db/collations.ts).
 */
function hardValue(t: BackupTable, i: number, big: number): string {
  const r = valueRef(t, i);
  if (integerOnly(t, i)) return `${r} NOT BETWEEN -${SAFE} AND ${SAFE}`;
  return (
    `CASE WHEN octet_length(${r}) > ${big} THEN 1 WHEN +${r} < '' COLLATE BINARY THEN +${r} COLLATE BINARY NOT BETWEEN -${SAFE} AND ${SAFE} OR typeof(${r}) = 'real'` +
    ` WHEN +${r} < x'' COLLATE BINARY THEN 0 ELSE ${r} IS NOT NULL END`
  );
}

/** One value per row: the line as a BLOB (its bytes exact, whatever they are), or the row's key when SQLite cannot write it. */
function lineSql(t: BackupTable, key: string, op: ">=" | "=" = ">="): string {
  const hard = t.columns.map((_, i) => `(${hardValue(t, i, Math.min(LINE_TEXT_MAX, bigAbove()))})`).join(" OR ");
  const values = t.columns.map((_, i) => valueRef(t, i)).join(", ");
  return `SELECT CASE WHEN ${hard} THEN ${key} ELSE CAST(json_array(${values}) AS BLOB) END FROM ${quoteIdent(t.name)} WHERE ${key} ${op} ?${orderBy(t)}`;
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

/** Rows a chunk statement joins into one value (one driver crossing, one Buffer). */
const CHUNK_ROWS = 256;
/** A line longer than this does not go into a chunk: it comes as a marker and is read alone (a chunk stays under CHUNK_ROWS × this). */
const CHUNK_LINE_MAX = 8 << 10;
/**
 * A chunk whose lines average more than this, or where 1 row in LONG_SHARE has a line over
 * CHUNK_LINE_MAX, ends chunking for the table: the rest one line per step.
 */
const CHUNK_AVG_MAX = 4 << 10;
const LONG_SHARE = 8;
/** The largest rowid: nothing comes after it. */
const LAST_KEY = (1n << 63n) - 1n;

/**
 * Up to CHUNK_ROWS rows from a key on, as one value: their lines joined by `\n` (a line never holds a
 * raw newline: json_array escapes it), a row SQLite cannot write as `#rowid`, a line longer than
 * CHUNK_LINE_MAX as `~rowid`; with their keys joined by `,`, the last key, the row count, and the
 * counts of the two kinds of marker.
 *
 * The join's order: without an ORDER BY in the aggregate it is the order SQLite feeds the rows in,
 * which SQLite does not promise to be the subquery's. Both joins are stepped row by row in one loop,
 * so the keys come in the lines' order: readRows checks that they ascend, and reads a chunk whose
 * keys do not (never seen; test hook VOX_CUTOVER_TEST_CHUNK_ORDER=recheck takes every chunk so) again
 * with `ordered` (ORDER BY in both aggregates: SQLite then sorts the lines through a temporary
 * b-tree, which cost the 1 GB file's long-line tables ~60 % more CPU).
 */
function chunkSql(t: BackupTable, key: string, ordered: boolean): string {
  const hard = t.columns.map((_, i) => `(${hardValue(t, i, Math.min(LINE_TEXT_MAX, bigAbove()))})`).join(" OR ");
  const values = t.columns.map((_, i) => valueRef(t, i)).join(", ");
  const rows = `SELECT ${key} AS k, CASE WHEN ${hard} THEN NULL ELSE CAST(json_array(${values}) AS BLOB) END AS l FROM ${quoteIdent(t.name)} WHERE ${key} >= ? ORDER BY 1 LIMIT ${CHUNK_ROWS}`;
  const long = `length(l) > ${CHUNK_LINE_MAX}`;
  return (
    `SELECT CAST(group_concat(CASE WHEN l IS NULL THEN '#' || k WHEN ${long} THEN '~' || k ELSE l END, char(10)${ordered ? " ORDER BY k" : ""}) AS BLOB),` +
    ` group_concat(k, ','${ordered ? " ORDER BY k" : ""}), max(k), count(*), count(*) - count(l), sum(${long}) FROM (${rows})`
  );
}

/** Whether the integer at `b` (its digits from bStart, bLen of them) is greater than the one at `a`, exactly. */
function greater(keys: string, aNeg: boolean, aStart: number, aLen: number, bNeg: boolean, bStart: number, bLen: number): boolean {
  if (aNeg !== bNeg) return aNeg;
  // The sign of |b| − |a|: more digits is larger (SQLite writes no leading zeros), else the first digit that differs.
  let c = bLen - aLen;
  for (let j = 0; c === 0 && j < aLen; j++) c = keys.charCodeAt(bStart + j) - keys.charCodeAt(aStart + j);
  return aNeg ? c < 0 : c > 0;
}

/**
 * Whether the `count` integers in `keys` (decimal, joined by `,`) strictly ascend: as doubles while
 * both of two neighbours have up to 15 digits (exact there), else by their digits.
 */
export function ascending(keys: string, count: number): boolean {
  let n = 0;
  let pNeg = false;
  let pStart = 0;
  let pLen = 0;
  let pv = 0;
  for (let i = 0; ;) {
    const neg = keys.charCodeAt(i) === 45;
    if (neg) i++;
    const start = i;
    let v = 0;
    for (; i < keys.length; i++) {
      const c = keys.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
    }
    const len = i - start;
    if (len === 0 || (i < keys.length && keys.charCodeAt(i) !== 44)) return false;
    if (neg) v = -v;
    if (n > 0 && !(len <= 15 && pLen <= 15 ? v > pv : greater(keys, pNeg, pStart, pLen, neg, start, len))) return false;
    pNeg = neg;
    pStart = start;
    pLen = len;
    pv = v;
    n++;
    if (i === keys.length) return n === count;
    i++; // the comma
  }
}

/**
 * Every row of a table in key order, as a line SQLite wrote or as values (see above). `whole` hears
 * of big values read whole (a WITHOUT ROWID table its pages could not serve) once the rows are read.
 *
 * Inside a read transaction the lines come CHUNK_ROWS to a step (chunkSql): each chunk is its own
 * statement run, so only a transaction makes them one snapshot; outside one, or for a table the
 * caller counted fewer than CHUNK_ROWS rows in (fewerThanAChunk), one statement reads the table. A
 * chunk `isUtf8` accepts has only valid lines (`\n` never splits a UTF-8 sequence); one with markers
 * or invalid text is taken apart line by line. A table whose first chunk's lines are long goes on
 * one line per step (SQLite joining long lines costs more than it saves).
 */
export function* readRows(db: LibsqlDatabase, t: BackupTable, whole?: (w: ReadWhole) => void): Generator<RowItem> {
  const facts = fileFacts(db);
  // json_array writes a UTF-16 file's text in UTF-16: those files are read as values.
  const rowidIdx = facts.encoding === "UTF-8" ? pageRowid(t, facts) : null;
  if (rowidIdx === null || t.columns.length > MAX_LINE_COLUMNS || fewRows(t)) {
    // A few rows: the row statement without the fast path, cheaper to prepare than a line statement
    // (and than its by-key row statement, which a table with a REAL or a BLOB also needs).
    const src = fewRows(t) ? rowStatement(db, t, "", false) : rowStatement(db, t);
    yield* iterateRows(src);
    if (src.whole?.values) whole?.(src.whole);
    return;
  }
  const key = valueRef(t, rowidIdx);
  const seen = { rows: 0, hard: 0 };
  let from: bigint | null = FIRST_KEY;
  if (db.inTransaction && !fewerThanAChunk(t)) {
    type Chunk = [Buffer | null, string | null, bigint | null, bigint, bigint, bigint | null];
    const chunkOf = (ordered: boolean) => {
      const st = db.prepare(chunkSql(t, key, ordered));
      st.raw(true);
      st.safeIntegers(true);
      return st as unknown as { get(args: unknown[]): Chunk };
    };
    const get = chunkOf(false);
    let getOrdered: { get(args: unknown[]): Chunk } | null = null;
    const recheck = process.env.VOX_CUTOVER_TEST_CHUNK_ORDER === "recheck";
    let byKey: RowSource | null = null;
    let lineByKey: ReturnType<LibsqlDatabase["prepare"]> | null = null;
    for (;;) {
      let got = get.get([from]);
      if (got[0] !== null && (recheck || !ascending(got[1]!, Number(got[3])))) got = (getOrdered ??= chunkOf(true)).get([from]);
      const [chunk, , last, count, hardRows, longRows] = got;
      if (chunk === null || last === null) return; // no row at or after `from`
      const n = Number(count);
      from = last === LAST_KEY ? null : last + 1n;
      const long = Number(longRows ?? 0n);
      if (hardRows === 0n && long === 0 && isUtf8(chunk)) {
        seen.rows += n;
        yield new LineRun(chunk, n);
      } else {
        for (const line of linesOf(chunk)) {
          seen.rows++;
          if (line[0] === 0x5b /* [ */) {
            yield lineItem(line);
            continue;
          }
          const k = BigInt(line.subarray(1).toString("latin1"));
          if (line[0] === 0x7e /* ~ */) {
            // A long line, alone (the same snapshot: this transaction's).
            lineByKey ??= db
              .prepare(lineSql(t, key, "="))
              .raw(true)
              .safeIntegers(true);
            const [v] = (lineByKey as unknown as { get(args: unknown[]): [Buffer | bigint] }).get([k]);
            if (typeof v !== "bigint") {
              yield lineItem(v);
              droppedLines(v.length);
              continue;
            }
          }
          if (hardRowsCommon(seen)) {
            // Rows SQLite cannot write are common here: this row and the rest by the row statement.
            yield* iterateRows(rowStatement(db, t, ` WHERE ${key} >= ?`), [k]);
            return;
          }
          byKey ??= rowStatement(db, t, ` WHERE ${key} = ?`, false);
          yield* iterateRows(byKey, [k]);
        }
      }
      droppedLines(chunk.length);
      if (from === null || n < CHUNK_ROWS) return;
      if (chunk.length > n * CHUNK_AVG_MAX || long * LONG_SHARE > n) break;
    }
  }
  yield* lineRows(db, t, key, from, seen);
}

/**
 * Whether the caller counted fewer rows than one chunk holds (`BackupTable.rows`: the export's and
 * verify's count in their read transaction, the backup's claim for the import's proof and parity):
 * then the one line statement reads the table. The count only picks the statement — the line
 * statement reads every row there is, whatever the count said. A chunk statement (the line
 * statement's expressions inside a `group_concat` subquery) is the larger to prepare, and a vox file
 * of a few rows a table prepared ~150 of them in each of three passes for one run each (below 32 rows
 * fewRows reads values instead: docs/benchmark.md, "Session 11: small files").
 */
function fewerThanAChunk(t: BackupTable): boolean {
  return typeof t.rows === "number" && t.rows < CHUNK_ROWS;
}

/**
 * Below this many rows counted (BackupTable.rows, as for fewerThanAChunk: it picks the statement
 * only) a table is read as values by one row statement without the fast path: a pass over the
 * 10-row sample's 177 tables took ~90 instead of ~155 CPU-ms (in process, same hashes), while at 255
 * rows of 10 columns the values cost ~5 µs a row more than lines (docs/benchmark.md, "Session 11").
 */
const VALUES_BELOW = 32;

/**
 * Below VALUES_BELOW rows, or below a chunk's rows when a column's declared type says REAL or BLOB (REAL
 * affinity, or a type naming BLOB): such a column holds a value SQLite cannot write as a line in most
 * rows, and one row statement costs less than the line statement and the by-key reads it falls back to
 * (the 150 MB bench file's 162 small tables, in process: 233–247 → 193–215 ms a pass; docs/benchmark.md,
 * "Session 25"). The declared type only picks the statement: both give the same lines.
 */
function fewRows(t: BackupTable): boolean {
  if (typeof t.rows !== "number") return false;
  return t.rows < VALUES_BELOW || (t.rows < CHUNK_ROWS && t.types.some(likelyHard));
}

function likelyHard(declared: string): boolean {
  return affinityOf(declared) === "REAL" || declared.toUpperCase().includes("BLOB");
}

/** A line SQLite wrote: its bytes when valid UTF-8, else taken apart into its values (byte-exact). */
function lineItem(b: Buffer): RowItem {
  return isUtf8(b) ? b : lineValues(b);
}

/** One more hard row (one SQLite cannot write) seen: whether they are now common enough for the row statement to read the rest. */
function hardRowsCommon(seen: { rows: number; hard: number }): boolean {
  return ++seen.hard >= HARD_SWITCH_AFTER && seen.hard * HARD_SHARE > seen.rows;
}

/** The rows from key `from` on, one line (or key) per step. */
function* lineRows(db: LibsqlDatabase, t: BackupTable, key: string, from: bigint, seen: { rows: number; hard: number }): Generator<RowItem> {
  const st = db.prepare(lineSql(t, key));
  st.raw(true);
  st.safeIntegers(true);
  let byKey: RowSource | null = null;
  let restFrom: bigint | null = null;
  let open = true;
  try {
    for (const [v] of (st as unknown as { iterate(args: unknown[]): IterableIterator<[Buffer | bigint]> }).iterate([from])) {
      seen.rows++;
      if (typeof v !== "bigint") {
        yield lineItem(v);
        droppedLines(v.length);
        continue;
      }
      if (hardRowsCommon(seen)) {
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
