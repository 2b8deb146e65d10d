import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { refused, VoxError } from "../errors.js";
import type { SqlValue } from "../db/value.js";
import { materialize } from "./big-insert.js";
import { BigValue } from "./big-value.js";
import { LineSource, type Line } from "../util/lines.js";
import { parseLongRow, streamAbove, wholeLine } from "./long-line.js";
import type { RowValue } from "./row-source.js";
import {
  decodeValue,
  DecodeError,
  splitSequences,
  encodeRow,
  FORMAT_NAME,
  FORMAT_VERSION,
  type BackupHeader,
  type BackupTable,
  type Trailer,
} from "./format.js";
import { envInteger } from "../util/env.js";

/** The longest line a reader accepts: V8 cannot hold a longer string, so no JSON line beyond it can be read. */
const MAX_LINE_BYTES = 0x1fffffe8;

/** A line longer than `MAX_LINE_BYTES`: a refusal naming the file and the line, never an out-of-memory crash. */
class LineTooLong extends VoxError {
  constructor(
    readonly path: string,
    readonly no: number,
  ) {
    super("refused", {
      what: `${path}: line ${no} is longer than ${Math.floor(maxLineBytes() / (1 << 20))} MB, more than any JSON line can be read (no line vox-cutover or vox writes is that long).`,
      untouched: "Nothing was written.",
      next: "Check that this is the file you meant (a backup or vox's export-legacy output); a value that large cannot be carried in a JSON line.",
      details: { line: no },
    });
  }
}

/** Test hook: VOX_CUTOVER_MAX_LINE_BYTES lowers the limit so tests need no 512 MB file. */
function maxLineBytes(): number {
  return Math.min(envInteger("VOX_CUTOVER_MAX_LINE_BYTES", MAX_LINE_BYTES, 1), MAX_LINE_BYTES);
}

/** A file's lines (src/util/lines.ts: one reused buffer, views valid until the next line); a line longer than `maxLine` is refused. */
function* readLines(path: string, chunkSize = 1 << 20, maxLine = maxLineBytes()): Generator<Line> {
  const lines = new LineSource(path, chunkSize, maxLine);
  try {
    for (let l = lines.next(); l; l = lines.next()) {
      if ("long" in l || l.bytes.length > maxLine) throw new LineTooLong(path, l.no);
      yield l;
    }
  } finally {
    lines.close();
  }
}

export interface BackupVisitor {
  /** Take rows holding big values as they are: a BigValue (read in slices with its \`open\`), and no line (null). Without it a big value is read back whole and the row's line built. */
  bigValues?: boolean;
  /**
   * The caller compares the whole-file hash with one it verified before anything read here is kept: the per-row canonical
   * re-encoding is skipped, and a `hashOnly` table's own hash is not recomputed (its end marker's is taken; the whole-file
   * hash covers its bytes). Every other hash and count is still checked.
   */
  trusted?: boolean;
  /**
   * Rows are hashed and counted, never parsed (no JSON, no decoding, no canonical or order check): only for a caller that
   * proves the rows otherwise — compare.ts, where every table's hash must equal the canonical encoding of the live
   * database's rows, read in key order. Sections, end markers, counts, the trailer and the whole-file hash are checked as always. No onRow.
   */
  rowsUnparsed?: boolean;
  /** The whole-file hash is taken by the caller on another thread (util/file-hash-beside.ts), not here: the result's `fileSha256` is the trailer's claim, which the caller must hold its own hash to. */
  wholeFileHashBeside?: boolean;
  onHeader?(h: BackupHeader): void;
  onTable?(t: BackupTable): void;
  /**
   * Asked once per table, after `onTable`: true when the table's rows are proven another way (the
   * import's native load, whose canonical hash equals this file's), so its rows are only hashed and
   * counted, never decoded or handed to `onRow` (a row streamed as a long line still is). The
   * table's hash and count, the trailer and the whole-file hash are checked as for any table.
   */
  hashOnly?(t: BackupTable): boolean;
  /** `line` is the canonical encoding (the bytes hashed). */
  onRow?(t: BackupTable, values: SqlValue[], line: string): void;
  onEnd?(t: BackupTable, summary: { rows: number; sha256: string }): void;
  onProgress?(p: { rowsDone: number; totalRows: number; table: string }): void;
}

export interface ReadResult {
  header: BackupHeader;
  /** Every section of the file, sqlite_sequence's too, in file order. */
  tables: { name: string; rows: number; sha256: string }[];
  /** Table rows: sqlite_sequence's rows are not among them (see `sequences`). */
  totalRows: number;
  /** Rows of sqlite_sequence (absent from a result that is not read from a vox-cutover backup). */
  sequences?: number;
  fileSha256: string;
  bytes: number;
}

/** Thrown for a file that is the reference runbook's unverifiable `vox codex export-legacy` format. */
export class ReferenceFormat extends Error {}

function bad(path: string, line: number | null, what: string, table?: string): Error {
  return refused({
    what: `The backup ${path} does not verify${line ? ` at line ${line}` : ""}${table ? ` (table ${table})` : ""}: ${what}.`,
    untouched: "Nothing was written.",
    next: "Do not rely on this file: take a new backup with vox-cutover export-legacy (the database itself was not touched).",
    details: { backupError: what, line, table },
  });
}

type Hash = ReturnType<typeof createHash>;
/** A hash that takes nothing: the whole-file hash when the caller takes it elsewhere. */
const NO_HASH = { update: () => NO_HASH, digest: () => "" } as unknown as Hash;

/**
 * Row lines for the table's and the whole file's hash, fed in runs of up to 1 MB: a hash update
 * costs more per call than per byte, and rows are many and short. `flush` before anything else
 * touches either hash.
 */
class RowRun {
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  table: Hash | undefined;
  constructor(private readonly file: Hash) {}
  /** A row line's bytes (without its newline), or a piece of a long one (`end` false). */
  add(b: Buffer, end = true): void {
    const n = b.length + (end ? 1 : 0);
    if (this.used + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) {
        this.update(b);
        if (end) this.update(NEWLINE);
        return;
      }
    }
    b.copy(this.buf, this.used);
    this.used += b.length;
    if (end) this.buf[this.used++] = 10;
  }
  /** The newline after a long line's pieces. */
  end(): void {
    this.add(EMPTY);
  }
  flush(): void {
    if (this.used) this.update(this.buf.subarray(0, this.used));
    this.used = 0;
  }
  private update(b: Buffer): void {
    this.table?.update(b);
    this.file.update(b);
  }
}
const NEWLINE = Buffer.from("\n");
const EMPTY = Buffer.alloc(0);

function cmpKey(a: SqlValue, b: SqlValue): number {
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  return 0;
}

/**
 * Reads a backup, checking everything: header, section order, every row decoded and re-encoded
 * to the same bytes, per-table hashes and counts, rowid order, trailer and whole-file hash.
 * Throws a `refused` error (exit 3) naming the first problem.
 */
export function readBackup(path: string, visitor: BackupVisitor = {}): ReadResult {
  const size = statSync(path).size;
  const fileHash = visitor.wholeFileHashBeside ? NO_HASH : createHash("sha256");
  let header: BackupHeader | undefined;
  let ti = 0;
  let cur: BackupTable | undefined;
  let th: ReturnType<typeof createHash> | undefined;
  let rows = 0;
  let rowsDone = 0;
  let prevKey: SqlValue = null;
  let keyIdx = -1;
  let skip = false;
  const done: { name: string; rows: number; sha256: string }[] = [];
  let trailer: Trailer | undefined;
  let fileSha256 = "";
  const lines = new LineSource(path, streamAbove(), streamAbove());
  const run = new RowRun(fileHash);
  try {
    for (;;) {
      let line = lines.next();
      if (!line) break;
      if (visitor.rowsUnparsed && cur && !trailer && ("long" in line ? line.first : line.bytes[0]) === 0x5b) {
        // A row, hashed as it is (its bytes are proven by the caller against the database).
        if ("long" in line) for (let p = line.pull(); p; p = line.pull()) run.add(p.bytes, false);
        if (!line.terminated) throw bad(path, line.no, "the file ends in the middle of a line (truncated)", cur.name);
        if ("long" in line) run.end();
        else run.add(line.bytes);
        rows++;
        rowsDone++;
        if ((rowsDone & 0xffff) === 0) visitor.onProgress?.({ rowsDone, totalRows: header!.tables.reduce((n, t) => n + Number(t.rows), 0), table: cur.name });
        continue;
      }
      if ("long" in line && (!cur || line.first !== 0x5b)) {
        // Not a row (a header, a section marker, a line outside any table): read whole, as any line.
        const no = line.no;
        line = wholeLine(line, maxLineBytes());
        if (!line)
          throw bad(
            path,
            no,
            `the line is longer than ${Math.floor(maxLineBytes() / (1 << 20))} MB: no line vox-cutover writes is that long (a value that large cannot be carried in this format)`,
            cur?.name,
          );
      }
      if ("long" in line) {
        // A row holding a big value: parsed and hashed as it streams, never held whole.
        if (trailer) throw bad(path, line.no, "there is data after the trailer");
        if (!cur) throw bad(path, line.no, "a row outside any table section");
        let values: RowValue[];
        run.flush(); // its pieces go to the hashes directly
        try {
          values = parseLongRow(line, path, (b) => {
            th?.update(b);
            fileHash.update(b);
          });
        } catch (e) {
          if (e instanceof DecodeError) throw bad(path, line.no, `a row cannot be decoded (${e.message})`, cur.name);
          throw e;
        }
        if (!line.terminated) throw bad(path, line.no, "the file ends in the middle of a line (truncated)", cur.name);
        th?.update("\n");
        fileHash.update("\n");
        if (values.length !== cur.columns.length)
          throw bad(path, line.no, `a row has ${values.length} values, the table has ${cur.columns.length} columns`, cur.name);
        if (keyIdx >= 0 && !skip) {
          const k = values[keyIdx]! as SqlValue; // (a hashOnly table's rows: proven by its hash, the others never decoded)
          if (rows > 0 && cmpKey(prevKey, k) >= 0) throw bad(path, line.no, "rows are not in ascending rowid order (reordered or duplicated)", cur.name);
          prevKey = k;
        }
        rows++;
        rowsDone++;
        if (visitor.onRow) {
          if (visitor.bigValues) visitor.onRow(cur, values as SqlValue[], null as unknown as string);
          else {
            // A visitor that takes whole values: each big value read back from the file, whole.
            const whole = values.map((v) => (v instanceof BigValue ? materialize(v) : v));
            visitor.onRow(cur, whole, encodeRow(whole));
          }
        }
        continue;
      }
      if (trailer) throw bad(path, line.no, "there is data after the trailer");
      if (!line.terminated) throw bad(path, line.no, "the file ends in the middle of a line (truncated)", cur?.name);
      if (skip && cur && line.bytes[0] === 0x5b) {
        // A row of a table proven by its hash (hashOnly): a line that is not canonical cannot give that hash.
        run.add(line.bytes);
        rows++;
        rowsDone++;
        continue;
      }
      const text = line.bytes.toString("utf8");
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw bad(path, line.no, "the line is not valid JSON", cur?.name);
      }
      if (line.no === 1) {
        const h = parsed as Partial<BackupHeader> & Record<string, unknown>;
        if (h && typeof h === "object" && "table" in h && "row" in h && "columns" in h) {
          throw new ReferenceFormat("reference vox codex export-legacy format");
        }
        if (!h || h.k !== "header" || h.format !== FORMAT_NAME) throw bad(path, 1, `it is not a vox-cutover backup (no "${FORMAT_NAME}" header)`);
        if (h.version !== FORMAT_VERSION)
          throw bad(path, 1, `format version ${String(h.version)} is not supported by this tool (it reads version ${FORMAT_VERSION})`);
        if (!Array.isArray(h.tables)) throw bad(path, 1, "the header lists no tables");
        header = h as BackupHeader;
        visitor.onHeader?.(header);
        fileHash.update(line.bytes);
        fileHash.update("\n");
        continue;
      }
      const isArray = Array.isArray(parsed);
      if (!isArray) {
        run.flush(); // a section marker or the trailer: the rows before it are hashed first
        const o = parsed as Record<string, unknown>;
        if (o.k === "trailer") {
          if (cur) throw bad(path, line.no, `the trailer comes before table ${cur.name} ended (truncated or reordered)`, cur.name);
          trailer = o as unknown as Trailer;
          fileSha256 = fileHash.digest("hex");
          continue;
        }
        fileHash.update(line.bytes);
        fileHash.update("\n");
        if (o.k === "table") {
          if (cur) throw bad(path, line.no, `table ${String(o.name)} starts before ${cur.name} ended`, cur.name);
          const expected = header!.tables[ti];
          if (!expected) throw bad(path, line.no, `table ${String(o.name)} is not in the header`);
          if (o.name !== expected.name) throw bad(path, line.no, `expected table ${expected.name} next, found ${String(o.name)} (sections reordered)`);
          if (JSON.stringify(o.columns) !== JSON.stringify(expected.columns)) throw bad(path, line.no, "the columns differ from the header", expected.name);
          cur = expected;
          rows = 0;
          prevKey = null;
          keyIdx = cur.rowidColumn ? 0 : cur.rowidAlias ? cur.columns.indexOf(cur.rowidAlias) : -1;
          visitor.onTable?.(cur);
          skip = visitor.hashOnly?.(cur) === true;
          // Trusted and proven another way: the whole-file hash alone covers its bytes (one SHA-256 pass).
          th = skip && visitor.trusted ? undefined : createHash("sha256");
          run.table = th;
          continue;
        }
        if (o.k === "end") {
          if (!cur || o.name !== cur.name) throw bad(path, line.no, `an end marker for ${String(o.name)} outside its table`);
          const sha256 = th ? th.digest("hex") : String(o.sha256);
          if (o.rows !== rows) throw bad(path, line.no, `the end marker says ${String(o.rows)} rows, the file holds ${rows}`, cur.name);
          if (o.sha256 !== sha256)
            throw bad(path, line.no, `the content hash recomputed from the rows (${sha256}) differs from the recorded one (${String(o.sha256)})`, cur.name);
          if (String(cur.rows) !== String(rows)) throw bad(path, line.no, `the header counted ${cur.rows} rows at export, the file holds ${rows}`, cur.name);
          done.push({ name: cur.name, rows, sha256 });
          visitor.onEnd?.(cur, { rows, sha256 });
          cur = undefined;
          ti++;
          continue;
        }
        throw bad(path, line.no, `unexpected line kind ${JSON.stringify(o.k)}`, cur?.name);
      }
      // a row
      if (!cur) throw bad(path, line.no, "a row outside any table section");
      const arr = parsed as unknown[];
      if (arr.length !== cur.columns.length) throw bad(path, line.no, `a row has ${arr.length} values, the table has ${cur.columns.length} columns`, cur.name);
      let values: SqlValue[];
      try {
        values = arr.map(decodeValue);
      } catch (e) {
        throw bad(path, line.no, `a value cannot be decoded (${e instanceof DecodeError ? e.message : String(e)})`, cur.name);
      }
      const canonical = visitor.trusted ? text : encodeRow(values);
      if (canonical !== text) throw bad(path, line.no, "the row is not in canonical form (edited by hand or tampered)", cur.name);
      if (keyIdx >= 0) {
        const k = values[keyIdx]!;
        if (rows > 0 && cmpKey(prevKey, k) >= 0) throw bad(path, line.no, "rows are not in ascending rowid order (reordered or duplicated)", cur.name);
        prevKey = k;
      }
      run.add(line.bytes);
      rows++;
      rowsDone++;
      visitor.onRow?.(cur, values, canonical);
      if ((rowsDone & 0xffff) === 0) visitor.onProgress?.({ rowsDone, totalRows: header!.tables.reduce((n, t) => n + Number(t.rows), 0), table: cur.name });
    }
  } finally {
    lines.close();
  }
  if (!header) throw bad(path, null, "the file is empty");
  if (!trailer) throw bad(path, null, cur ? `the file ends inside table ${cur.name} (truncated)` : "the file has no trailer (truncated)", cur?.name);
  if (ti !== header.tables.length) throw bad(path, null, `the header lists ${header.tables.length} tables, the file holds ${ti}`);
  if (visitor.wholeFileHashBeside)
    fileSha256 = typeof trailer.fileSha256 === "string" ? trailer.fileSha256 : ""; // "": no hash equals it
  else if (trailer.fileSha256 !== fileSha256)
    throw bad(path, null, `the whole-file hash (${fileSha256}) differs from the trailer's (${String(trailer.fileSha256)})`);
  if (!Array.isArray(trailer.tables) || JSON.stringify(trailer.tables) !== JSON.stringify(done)) {
    const i = done.findIndex((d, j) => JSON.stringify(d) !== JSON.stringify(trailer!.tables?.[j]));
    throw bad(path, null, `the trailer's counts and hashes differ from the file's${i >= 0 ? ` for table ${done[i]!.name}` : ""}`);
  }
  if (trailer.totalRows !== rowsDone) throw bad(path, null, `the trailer says ${trailer.totalRows} rows, the file holds ${rowsDone}`);
  const split = splitSequences(done);
  return { header, tables: done, totalRows: split.totalRows, sequences: split.sequences, fileSha256, bytes: size };
}

/** The first line only: which format a file is. One over 16 MB is not held: "unknown" (reference.ts isReferenceFile streams it). */
export function peekFormat(path: string): "vox-cutover" | "reference" | "unknown" {
  try {
    for (const line of readLines(path, 1 << 16, 16 << 20)) {
      try {
        const o = JSON.parse(line.bytes.toString("utf8")) as Record<string, unknown>;
        if (o && o.k === "header" && o.format === FORMAT_NAME) return "vox-cutover";
        if (o && "table" in o && "row" in o && "columns" in o) return "reference";
      } catch {
        /* not JSON */
      }
      return "unknown";
    }
  } catch (e) {
    if (!(e instanceof LineTooLong)) throw e;
  }
  return "unknown";
}

/** The header line of a vox-cutover backup (null: not one), without reading the rest. */
export function peekHeader(path: string): BackupHeader | null {
  for (const line of readLines(path, 1 << 16)) {
    try {
      const o = JSON.parse(line.bytes.toString("utf8")) as Partial<BackupHeader>;
      return o && o.k === "header" && o.format === FORMAT_NAME ? (o as BackupHeader) : null;
    } catch {
      return null;
    }
  }
  return null;
}

/** Whether every line of the file is at most `limit` bytes long (one pass over the bytes, no line decoded): a file whose lines are all shorter than the big-value size holds no big value. */
export function linesAtMost(path: string, limit: number): boolean {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.allocUnsafe(Math.min(4 << 20, fstatSync(fd).size + 1)); // a small file: no 4 MB touched
    let run = 0; // bytes since the last newline
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return true;
      let from = 0;
      for (let nl = buf.indexOf(10, 0); nl >= 0 && nl < n; nl = buf.indexOf(10, from)) {
        if (run + nl - from > limit) return false;
        run = 0;
        from = nl + 1;
      }
      run += n - from;
      if (run > limit) return false;
    }
  } finally {
    closeSync(fd);
  }
}

/** The trailer's claimed whole-file sha256 (read from the end of the file), for plan digests. */
export function peekTrailerSha(path: string): string | null {
  const t = peekTrailer(path);
  return t && typeof t.fileSha256 === "string" ? t.fileSha256 : null;
}

/** The trailer as the file's last line claims it (per-table rows and hashes), without reading the rest: a claim until `readBackup` has checked the whole file against it. */
export function peekTrailer(path: string): Trailer | null {
  const size = statSync(path).size;
  const n = Math.min(size, 1 << 20);
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, size - n);
    const last = buf.toString("utf8").trimEnd().split("\n").at(-1) ?? "";
    const o = JSON.parse(last) as Partial<Trailer>;
    return o.k === "trailer" ? (o as Trailer) : null;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
