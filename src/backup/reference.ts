/**
 * Reads a file written by vox's own `vox codex export-legacy`: one
 * `{"columns":[…],"row":{…},"table":"…"}` object per line, no header, no hashes (docs/import-and-quarantine.md,
 * "Reading vox's export-legacy files").
 *
 * The lines are parsed from their bytes by a small JSON parser of our own that keeps every number's
 * literal text, so nothing goes through a JS float on the way: an integer literal is a 64-bit
 * INTEGER (BigInt), a literal with `.` or an exponent is REAL (`3.0` stays REAL, `1e308` loads), an
 * integer literal outside the 64-bit range is REAL (what SQLite itself makes of such a literal; vox
 * never writes one). Strings are TEXT here; the importer turns a `"base64:…"` string into a BLOB
 * only where the target column is declared BLOB.
 *
 * Two streaming passes in constant memory (one line at a time; a line longer than the stream size,
 * a row holding a big value, is parsed as it streams: reference-long.ts): `scanReference`
 * lists the tables, their columns and row counts and hashes the whole file (the plan digest is
 * built from that hash, so it is the same for the same file); `readReference` feeds the rows to the
 * same visitor the verified format uses, and refuses a file that changed since the scan.
 */
import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { refused } from "../errors.js";
import { hasLoneSurrogate, type SqlValue } from "../db/value.js";
import { toolVersion } from "../util/paths.js";
import { FORMAT_NAME, FORMAT_VERSION, type BackupHeader, type BackupTable } from "./format.js";
import { peekFormat, type BackupVisitor, type ReadResult } from "./read.js";
import { jsonText, JsonNumber, JsonObject, JsonSyntaxError, parseJsonBytes, type JsonValue } from "../util/json-literal.js";
import { LineSource, type Line, type LongLine } from "../util/lines.js";
import { BigValue } from "./big-value.js";
import { streamAbove } from "./long-line.js";
import { parseLongReference, type LongJsonValue } from "./reference-long.js";

/** A table of a reference file, as the importer sees it. */
export interface ReferenceTable extends BackupTable {
  /** Row keys that no line's `columns` lists (appended to `columns`): never loaded, kept in quarantine. */
  unlisted: string[];
  reference: true;
}

export interface ReferenceScan {
  path: string;
  sha256: string;
  bytes: number;
  totalRows: number;
  tables: ReferenceTable[];
}

/** A line the importer cannot take as a row: it goes to legacy_quarantine whole, as written. */
export interface RowIssue {
  /** Reason key and text, e.g. "missing-value: column x is listed in columns but has no value". */
  reason: string;
  /** The line as written (JSON), or base64 of its bytes when they are not UTF-8 (a long line's: in slices). */
  raw: string | BigValue;
}

export type ReferenceVisitor = Omit<BackupVisitor, "onRow"> & {
  onRow?(t: BackupTable, values: SqlValue[], line: string, issue?: RowIssue): void;
};

// ---------------------------------------------------------------------------------------------

interface RefLine {
  table: string;
  columns: string[];
  row: [string, LongJsonValue][];
  badUtf8: boolean;
  /** A long line's bytes as written, for the quarantine (a short line's are at hand). */
  raw?: BigValue;
}

function malformed(path: string, no: number, what: string): Error {
  return refused({
    what: `${path} line ${no} is not a line of vox's export-legacy format: ${what}.`,
    untouched: "Nothing was written.",
    next: "Check the file (a truncated copy?), write it again with vox codex export-legacy, or use a verified backup from vox-cutover export-legacy.",
    details: { line: no },
  });
}

const loneSurrogate = (k: string) => `lone-surrogate: ${k} holds half a surrogate pair (a \\u escape), which UTF-8 TEXT cannot hold as written`;
const INT64_MIN = -9223372036854775808n;
const INT64_MAX = 9223372036854775807n;

/** A JSON number literal as SQLite would store it: integer literal → INTEGER (64-bit), else REAL. */
export function numberLiteral(lit: string): bigint | number {
  if (/[.eE]/.test(lit)) return Number(lit);
  const b = BigInt(lit);
  return b >= INT64_MIN && b <= INT64_MAX ? b : Number(lit);
}

function parseLine(path: string, bytes: Buffer, no: number): RefLine {
  const json = no === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  let v: JsonValue;
  try {
    v = parseJsonBytes(json);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw malformed(path, no, `not valid JSON (${e.message} at byte ${e.pos + 1})`);
    throw e;
  }
  if (!(v instanceof JsonObject)) throw malformed(path, no, "not a JSON object");
  const row = v.entries.findLast(([k]) => k === "row")?.[1];
  // Invalid UTF-8 can only sit inside strings of a line that parsed (any other byte above 0x7f is a syntax error).
  return shaped(path, no, v.entries, row instanceof JsonObject ? row.entries : null, !isUtf8(json));
}

/** A line too long to hold, parsed as it streams (each piece also to `onPiece`). */
function parseLong(path: string, line: LongLine, onPiece: (b: Buffer) => void): RefLine {
  let l;
  try {
    l = parseLongReference(line, path, onPiece);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw malformed(path, line.no, `not valid JSON (${e.message} at byte ${e.pos + 1})`);
    throw e;
  }
  return { ...shaped(path, line.no, l.entries, l.rowEntries, l.badUtf8), raw: l.raw };
}

/** The `{"columns","row","table"}` object a line must be (the last of a repeated key counts). */
function shaped(path: string, no: number, entries: [string, LongJsonValue][], row: [string, LongJsonValue][] | null, badUtf8: boolean): RefLine {
  let table: LongJsonValue | undefined;
  let columns: LongJsonValue | undefined;
  for (const [k, x] of entries) {
    if (k === "table") table = x;
    else if (k === "columns") columns = x;
  }
  if (typeof table !== "string") throw malformed(path, no, 'no "table" string');
  if (!Array.isArray(columns) || columns.some((c) => typeof c !== "string")) throw malformed(path, no, 'no "columns" array of names');
  if (!row) throw malformed(path, no, 'no "row" object');
  return { table, columns: columns as string[], row, badUtf8 };
}

/** A file's lines; one longer than the stream size comes as a LongLine (to parse before the next). */
function* refLines(path: string): Generator<Line | LongLine> {
  const lines = new LineSource(path, streamAbove(), streamAbove());
  try {
    for (let l = lines.next(); l; l = lines.next()) yield l;
  } finally {
    lines.close();
  }
}

/** A line parsed, its bytes (and newline) hashed into `h`; null for a blank line. */
function hashedLine(path: string, line: Line | LongLine, h: ReturnType<typeof createHash>): RefLine | null {
  if ("long" in line) {
    const l = parseLong(path, line, (b) => h.update(b));
    if (line.terminated) h.update("\n");
    return l;
  }
  h.update(line.bytes);
  if (line.terminated) h.update("\n");
  return isBlank(line.bytes) ? null : parseLine(path, line.bytes, line.no);
}

interface TableAcc {
  listed: string[];
  listedSet: Set<string>;
  unlisted: string[];
  unlistedSet: Set<string>;
  rows: number;
}

/**
 * First pass: tables (in first-seen order), the union of their `columns`, row keys no `columns`
 * lists, row counts, and the sha256 of the whole file. Refuses (exit 3) a line that is not a
 * `{"columns","row","table"}` JSON object, before anything is written.
 */
export function scanReference(path: string): ReferenceScan {
  const bytes = statSync(path).size;
  const h = createHash("sha256");
  const acc = new Map<string, TableAcc>();
  let totalRows = 0;
  for (const line of refLines(path)) {
    const l = hashedLine(path, line, h);
    if (!l) continue;
    let t = acc.get(l.table);
    if (!t) {
      t = { listed: [], listedSet: new Set(), unlisted: [], unlistedSet: new Set(), rows: 0 };
      acc.set(l.table, t);
    }
    for (const c of l.columns) {
      if (!t.listedSet.has(c)) {
        t.listedSet.add(c);
        t.listed.push(c);
      }
    }
    const listedHere = new Set(l.columns);
    for (const [k] of l.row) {
      if (!listedHere.has(k) && !t.unlistedSet.has(k)) {
        t.unlistedSet.add(k);
        t.unlisted.push(k);
      }
    }
    t.rows++;
    totalRows++;
  }
  const tables: ReferenceTable[] = [];
  for (const [name, t] of acc) {
    // A key listed by some lines and left out of `columns` by others stays a listed column.
    const unlisted = t.unlisted.filter((k) => !t.listedSet.has(k));
    const columns = [...t.listed, ...unlisted];
    tables.push({
      name,
      sql: "",
      columns,
      rowidColumn: null,
      rowidAlias: null,
      withoutRowid: false,
      primaryKey: [],
      types: columns.map(() => ""),
      rows: t.rows,
      unlisted,
      reference: true,
    });
  }
  return { path, sha256: h.digest("hex"), bytes, totalRows, tables };
}

function isBlank(b: Buffer): boolean {
  for (const c of b) if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  return true;
}

/** The header the importer plans from (no hashes: this format has none). */
function referenceHeader(scan: ReferenceScan): BackupHeader {
  return {
    k: "header",
    format: FORMAT_NAME,
    version: FORMAT_VERSION,
    tool: `vox codex export-legacy (read by vox-cutover ${toolVersion()}, unverified)`,
    createdAt: "",
    source: { path: scan.path, sizeBytes: scan.bytes, walBytes: null, changeCounter: null },
    chain: "legacy",
    maxVersion: null,
    baseline: { version: 0, digest: "" },
    tables: scan.tables,
  };
}

/**
 * Second pass: every line to `visitor.onRow` as values in the table's column order. A line that
 * cannot be a row as written (a listed column with no value, a value that is an object, array or
 * boolean, bytes that are not UTF-8) comes with a `RowIssue`, for the importer to quarantine whole.
 * A row key no `columns` lists is an extra value at the end (`ReferenceTable.unlisted`).
 * Refuses (exit 3) when the file is not the one scanned (its sha256 changed).
 */
export function readReference(scan: ReferenceScan, visitor: ReferenceVisitor): ReadResult {
  const header = referenceHeader(scan);
  visitor.onHeader?.(header);
  const byName = new Map(scan.tables.map((t) => [t.name, t]));
  const index = new Map(scan.tables.map((t) => [t.name, new Map(t.columns.map((c, i) => [c, i]))]));
  const counts = new Map<string, number>();
  const h = createHash("sha256");
  let cur: ReferenceTable | undefined;
  let rowsDone = 0;
  for (const line of refLines(scan.path)) {
    const l = hashedLine(scan.path, line, h);
    if (!l) continue;
    const t = byName.get(l.table);
    if (!t) throw changed(scan.path);
    if (cur !== t) {
      cur = t;
      visitor.onTable?.(t);
    }
    const idx = index.get(t.name)!;
    const values: SqlValue[] = new Array<SqlValue>(t.columns.length).fill(null);
    const present = new Uint8Array(t.columns.length);
    let issue: string | undefined;
    for (const [k, v] of l.row) {
      const i = idx.get(k);
      if (i === undefined) throw changed(scan.path);
      if (present[i]) issue ??= `duplicate-key: the row holds ${k} twice`;
      present[i] = 1;
      if (v === null) values[i] = null;
      else if (typeof v === "string") {
        values[i] = v;
        // Written as UTF-8 it would become U+FFFD: kept whole, as written, instead of changed without a word (helper-105 D4).
        if (hasLoneSurrogate(v)) issue ??= loneSurrogate(k);
      } else if (v instanceof JsonNumber) {
        values[i] = numberLiteral(v.raw);
        // SQLite would round it to a REAL: kept whole with its literal (its quarantine row held the rounded number).
        if (typeof values[i] === "number" && !/[.eE]/.test(v.raw)) issue ??= `out-of-range: ${k} holds the integer literal ${v.raw}, beyond 64-bit integers`;
      } else if (v instanceof BigValue) {
        values[i] = v as unknown as SqlValue; // a long string: read in slices (bigValues)
        if (v.loneSurrogate) issue ??= loneSurrogate(k); // a long one: found as it was scanned (reference-long.ts)
      } else {
        issue ??= `unsupported-value: ${k} holds ${Array.isArray(v) ? "an array" : typeof v === "boolean" ? "a boolean" : "an object"}, which vox's export never writes`;
        values[i] = jsonText(v);
      }
    }
    const listedHere = new Set(l.columns);
    for (const c of l.columns) {
      if (!present[idx.get(c)!]) issue ??= `missing-value: ${c} is listed in columns but the row has no value for it`;
    }
    for (let i = 0; i < t.columns.length - t.unlisted.length; i++) {
      if (!listedHere.has(t.columns[i]!) && !present[i])
        issue ??= `missing-value: this line's columns leave out ${t.columns[i]} (listed by other lines of ${t.name})`;
    }
    if (l.badUtf8) issue = "invalid-utf8: the line's bytes are not UTF-8; kept as base64 of the line";
    counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    rowsDone++;
    visitor.onRow?.(
      t,
      values,
      "",
      issue
        ? {
            reason: issue,
            raw:
              l.raw ??
              ("long" in line ? "" : l.badUtf8 ? JSON.stringify({ line_base64: Buffer.from(line.bytes).toString("base64") }) : line.bytes.toString("utf8")),
          }
        : undefined,
    );
    if ((rowsDone & 0xffff) === 0) visitor.onProgress?.({ rowsDone, totalRows: scan.totalRows, table: t.name });
  }
  const sha = h.digest("hex");
  if (sha !== scan.sha256) throw changed(scan.path);
  const tables = scan.tables.map((t) => ({ name: t.name, rows: counts.get(t.name) ?? 0, sha256: "" }));
  // Rows of sqlite_sequence (vox's export has none) are counted apart, as everywhere.
  const sequences = counts.get("sqlite_sequence") ?? 0;
  return { header, tables, totalRows: rowsDone - sequences, sequences, fileSha256: sha, bytes: scan.bytes };
}

function changed(path: string): Error {
  return refused({
    what: `${path} changed while it was being imported (its content is not the one scanned).`,
    untouched: "The import was rolled back; the target was not changed.",
    next: "Make sure nothing writes to the file, then run the command again (a new dry-run gives the new plan digest).",
  });
}

/**
 * Whether a file is in vox's export-legacy format, told from its first line without holding a long
 * one (a first row with a big value is streamed): the one check verify-backup and import-legacy make.
 */
export function isVoxExportFile(path: string, format = peekFormat(path)): boolean {
  return format === "reference" || (format === "unknown" && isReferenceFile(path));
}

/** Whether a file's first line is a vox export-legacy line (a UTF-8 BOM is allowed). */
function isReferenceFile(path: string): boolean {
  for (const line of refLines(path)) {
    if (!("long" in line) && isBlank(line.bytes)) continue;
    try {
      if ("long" in line) parseLong(path, line, () => {});
      else parseLine(path, line.bytes, 1);
      return true;
    } catch {
      return false;
    }
  }
  return false;
}

/** A `"base64:…"` string as the BLOB it encodes (canonical standard base64 only), else null. */
export function base64Blob(v: string): Uint8Array | null {
  if (!v.startsWith("base64:")) return null;
  const b64 = v.slice(7);
  if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return null;
  const buf = Buffer.from(b64, "base64");
  if (buf.toString("base64") !== b64) return null;
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
