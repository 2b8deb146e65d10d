/**
 * Writes legacy_quarantine for the import: whole rows that do not load, and the values of a loaded
 * row that have no place in the target. Append-only, and idempotent: a row already quarantined with
 * the same source, key, values and reason (an earlier import of the same backup) is not added twice.
 * A fresh file's quarantine is empty, so the cutover's own build takes the plain INSERT (no lookup
 * per row). A row holding a large value has its row_json written in slices (big-insert.ts), and is
 * compared in slices too: a row of the same source, key, reason and byte length is read from the
 * file's pages and compared byte for byte with the new row_json (never loaded whole).
 */
import { allRows, textEncoding, type LibsqlDatabase } from "../db/local.js";
import { PageReader } from "../db/pages.js";
import { RowInserter, type SqlValue } from "../db/value.js";
import { encodeValue, rowJson } from "./format.js";
import { hasBig } from "./tables.js";
import { BigValue, bigValueBytes } from "./big-value.js";
import { BigInserter, bigRowJson, materialize } from "./big-insert.js";
import { Utf16Text } from "./big-utf16.js";
import type { Plan } from "./import-plan.js";
import { reasonKey } from "../db/ledger.js";

const COLUMNS = ["source_table", "source_rowid", "source_key", "row_json", "reason", "run_id", "quarantined_at"];

/** How a quarantine row is the same row: its source table, rowid, key, row_json and reason (not its run or time). */
const SAME: Record<string, "=" | "IS"> = { source_table: "=", source_rowid: "IS", source_key: "IS", row_json: "=", reason: "=" };

/** A legacy_quarantine row `q` that is the VALUES row `n` (SAME, over the `columns` the row gives: a table without source_key too). */
function held(columns: readonly string[]): string {
  const match = columns.flatMap((c, i) => (SAME[c] ? [`q.${c} ${SAME[c]} n.column${i + 1}`] : [])).join(" AND ");
  return `SELECT 1 FROM legacy_quarantine AS q WHERE ${match}`;
}

/**
 * legacy_quarantine's INSERT of one row (`row`: its VALUES tuple, in `columns`' order) that adds
 * nothing when the table holds that row already (SAME): the import's and the sidecar merge's.
 */
export function insertUnlessHeld(columns: readonly string[], row: string): string {
  return `INSERT INTO legacy_quarantine(${columns.join(", ")}) SELECT * FROM (VALUES ${row}) AS n WHERE NOT EXISTS (${held(columns)})`;
}

/** Whether legacy_quarantine holds that row already, by insertUnlessHeld's match, asked without writing it (a row of 1 when it does). */
export function selectHeld(columns: readonly string[], row: string): string {
  return `SELECT 1 FROM (VALUES ${row}) AS n WHERE EXISTS (${held(columns)})`;
}

/** rowJson, or a big TEXT written in slices when the row holds a large value. */
function anyRowJson(columns: readonly string[], values: readonly SqlValue[]): string | BigValue {
  return hasBig(values) ? bigRowJson(columns, values) : rowJson(columns, values);
}

export class QuarantineWriter {
  /** Whole rows quarantined by `whole`. */
  quarantined = 0;
  private readonly plain: RowInserter;
  private readonly big: BigInserter;
  /** Moves a row this import wrote to the table's end (makeRoom). */
  private readonly move: { run(...params: unknown[]): { changes: number } };
  /** The largest id the quarantine held before this import: the rows above it are this import's (one transaction). */
  private readonly ownAbove: bigint;
  /** Set when the quarantine already holds rows: how a big row already there is found. */
  private readonly held: { candidates: { all(...params: unknown[]): unknown[] }; pages?: { reader: PageReader; root: number; col: number } } | null;

  constructor(
    private readonly db: LibsqlDatabase,
    private readonly runId: string,
    private readonly now: string,
  ) {
    const before = allRows(db, "SELECT count(*) AS n, coalesce(max(rowid), 0) AS m FROM legacy_quarantine")[0]!;
    const held = Number(before.n) > 0;
    this.ownAbove = BigInt(before.m as bigint | number);
    this.move = db.prepare(
      "UPDATE legacy_quarantine SET id = (SELECT max(id) FROM legacy_quarantine) + 1 WHERE id = ?1 AND id > ?2 AND octet_length(row_json) <= ?3",
    );
    // Values are placed by RowInserter (placeOf: in a UTF-16 file a row_json holding U+FFFE or U+FFFF is bound as its UTF-16 bytes, never converted).
    // A quarantine that holds rows already takes a row only when it is not there yet (a VALUES subquery: each value placed once).
    this.plain = new RowInserter(
      db,
      held ? (row) => insertUnlessHeld(COLUMNS, row) : `INSERT INTO legacy_quarantine(${COLUMNS.join(", ")})`,
      COLUMNS.length,
      textEncoding(db),
    );
    this.big = new BigInserter(db, "legacy_quarantine", COLUMNS, `INSERT INTO legacy_quarantine(${COLUMNS.join(", ")})`);
    // octet_length and typeof do not load the value.
    this.held = held
      ? {
          candidates: db.prepare(
            "SELECT rowid AS r FROM legacy_quarantine WHERE source_table = ?1 AND source_rowid IS ?2 AND source_key IS ?3 AND reason = ?4 AND typeof(row_json) = 'text' AND octet_length(row_json) = ?5",
          ),
        }
      : null;
  }

  /** Whether the quarantine already holds this big row (same source, key, reason and row_json bytes). */
  private heldAlready(values: (SqlValue | BigValue)[], json0: BigValue): boolean {
    if (!this.held) return false;
    // A UTF-16 file holds row_json's UTF-16 bytes: compared as such.
    const enc = textEncoding(this.db);
    const json = enc !== "UTF-8" ? new Utf16Text(json0, enc) : json0;
    const rows = this.held.candidates.all(values[0], values[1], values[2], values[4], json.length) as { r: bigint | number }[];
    if (!rows.length) return false;
    if (!this.held.pages) {
      const root = Number(allRows(this.db, "SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = 'legacy_quarantine'")[0]!.rootpage);
      const cols = allRows(this.db, "SELECT name, hidden FROM pragma_table_xinfo('legacy_quarantine')").filter((c) => Number(c.hidden) !== 2);
      this.held.pages = { reader: new PageReader(this.db), root, col: cols.findIndex((c) => c.name === "row_json") };
    }
    const { reader, root, col } = this.held.pages;
    return rows.some((row) => sameBytes(reader.value(root, BigInt(row.r), col, { storage: "text", length: json.length }), json.open()));
  }

  /**
   * A row of the backup's own legacy_quarantine (the file was cut over before) keeps its id: when a row
   * this import wrote earlier in its transaction holds that id (a table before it in the backup put
   * values here), that row moves to the table's end. False when the id is not this import's (held
   * before it: the backup's row is compared as a held one) or the row holds a value over the big-value
   * size (a move rewrites the row whole, in memory: it stays, and the backup's row is quarantined whole).
   */
  makeRoom(p: Plan, values: readonly SqlValue[]): boolean {
    // The id the INSERT gives the row: the value mapped onto the table's id (the backup's id column, or its rowid when it
    // has none), not the backup's rowid, which is another value when its id is no rowid alias (`id INT PRIMARY KEY`).
    const at = p.target?.rowidAlias ? p.map.indexOf(p.target.rowidAlias) : -1;
    const id = at >= 0 ? values[at] : undefined;
    if (typeof id !== "bigint") return false;
    try {
      return this.move.run(id, this.ownAbove, bigValueBytes()).changes === 1;
    } catch (e) {
      if (!this.db.inTransaction) throw e; // not the row's: the import stops
      return false; // the end of the id space
    }
  }

  /** One quarantine row, its seven columns in order. */
  insert(values: (SqlValue | BigValue)[]): void {
    if (values[3] instanceof BigValue) {
      if (!this.heldAlready(values, values[3])) this.big.run(values);
    } else this.plain.run(values as SqlValue[]);
  }

  private keyOf(p: Plan, values: SqlValue[]): { rid: SqlValue; key: string | null } {
    const rid = p.ridIdx >= 0 && typeof values[p.ridIdx] === "bigint" ? values[p.ridIdx]! : null;
    // A key value above the big-value size (never seen in practice) is read whole for the key text.
    const key = p.keyIdx
      ? `[${p.keyIdx
          .map((i) => {
            const v = values[i] ?? null;
            return encodeValue(v instanceof BigValue ? materialize(v) : v);
          })
          .join(",")}]`
      : null;
    return { rid, key };
  }

  /** The whole row to quarantine (not loaded); `raw` is the line as written when it could not be read as a row. */
  whole(p: Plan, values: SqlValue[], reason: string, raw?: string | BigValue): void {
    const { rid, key } = this.keyOf(p, values);
    this.insert([p.bt.name, rid, key, raw ?? anyRowJson(p.bt.columns, values), reason, this.runId, this.now]);
    p.report.quarantined++;
    const k = reasonKey(reason);
    p.report.reasons[k] = (p.report.reasons[k] ?? 0) + 1;
    this.quarantined++;
  }

  /** Values of a loaded row that have no place in the target, quarantined with the row's key; false when all were NULL. */
  values(p: Plan, values: SqlValue[], idx: number[], kind: "unknown-columns" | "unlisted-key"): boolean {
    const held = idx.filter((i) => values[i] !== null);
    if (!held.length) return false;
    for (const i of held) p.report.columns[p.bt.columns[i]!]!++;
    const { rid, key } = this.keyOf(p, values);
    // With neither a key nor a rowid the values could not be matched to their row: keep the whole row.
    const keep = key === null && rid === null ? p.bt.columns.map((_, i) => i) : held;
    const names = held.map((i) => p.bt.columns[i]).join(", ");
    const why =
      kind === "unknown-columns"
        ? `unknown-columns: ${names} (the baseline's ${p.target!.name} has no such column; the row loaded without ${held.length > 1 ? "them" : "it"})`
        : `unlisted-key: ${names} (a row key the line's "columns" does not list; the row loaded without ${held.length > 1 ? "them" : "it"})`;
    this.insert([
      p.bt.name,
      rid,
      key,
      anyRowJson(
        keep.map((i) => p.bt.columns[i]!),
        keep.map((i) => values[i]!),
      ),
      why,
      this.runId,
      this.now,
    ]);
    p.report.partialReasons[kind] = (p.report.partialReasons[kind] ?? 0) + 1;
    return true;
  }
}

/** Whether two streams of slices hold the same bytes (each slice is used before the next is asked for). */
function sameBytes(a: Iterable<Uint8Array>, b: Iterable<Uint8Array>): boolean {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  let x: Buffer = Buffer.alloc(0);
  let y: Buffer = Buffer.alloc(0);
  for (;;) {
    if (!x.length) {
      const n = ia.next();
      if (!n.done) x = Buffer.from(n.value.buffer, n.value.byteOffset, n.value.byteLength);
    }
    if (!y.length) {
      const n = ib.next();
      if (!n.done) y = Buffer.from(n.value.buffer, n.value.byteOffset, n.value.byteLength);
    }
    if (!x.length || !y.length) return !x.length && !y.length;
    const k = Math.min(x.length, y.length);
    if (!x.subarray(0, k).equals(y.subarray(0, k))) return false;
    x = x.subarray(k);
    y = y.subarray(k);
  }
}
