/**
 * Writes legacy_quarantine for the import: whole rows that do not load, and the values of a loaded
 * row that have no place in the target. Append-only, and idempotent: a row already quarantined with
 * the same source, key, values and reason (an earlier import of the same backup) is not added twice.
 * A fresh file's quarantine is empty, so the cutover's own build takes the plain INSERT (no lookup
 * per row). A row holding a large value has its row_json written in slices (big-insert.ts).
 */
import { allRows, type LibsqlDatabase } from "../db/local.js";
import type { SqlValue } from "../db/value.js";
import { encodeValue, rowJson } from "./format.js";
import { hasBig } from "./tables.js";
import { BigValue } from "./big-value.js";
import { BigInserter, bigRowJson, materialize } from "./big-insert.js";
import type { Plan } from "./import-plan.js";

const COLUMNS = ["source_table", "source_rowid", "source_key", "row_json", "reason", "run_id", "quarantined_at"];

/** rowJson, or a big TEXT written in slices when the row holds a large value. */
function anyRowJson(columns: readonly string[], values: readonly SqlValue[]): string | BigValue {
  return hasBig(values) ? bigRowJson(columns, values) : rowJson(columns, values);
}

export class QuarantineWriter {
  /** Whole rows quarantined by `whole`. */
  quarantined = 0;
  private readonly plain: { run(...params: unknown[]): unknown };
  private readonly big: BigInserter;

  constructor(
    db: LibsqlDatabase,
    private readonly runId: string,
    private readonly now: string,
  ) {
    const held = Number(allRows(db, "SELECT count(*) AS n FROM legacy_quarantine")[0]!.n) > 0;
    this.plain = db.prepare(
      held
        ? `INSERT INTO legacy_quarantine(${COLUMNS.join(", ")}) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE NOT EXISTS (SELECT 1 FROM legacy_quarantine WHERE source_table = ?1 AND source_rowid IS ?2 AND source_key IS ?3 AND row_json = ?4 AND reason = ?5)`
        : `INSERT INTO legacy_quarantine(${COLUMNS.join(", ")}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.big = new BigInserter(db, "legacy_quarantine", COLUMNS, `INSERT INTO legacy_quarantine(${COLUMNS.join(", ")})`);
  }

  /** One quarantine row, its seven columns in order. */
  insert(values: (SqlValue | BigValue)[]): void {
    if (values[3] instanceof BigValue) this.big.run(values);
    else this.plain.run(...values);
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
  whole(p: Plan, values: SqlValue[], reason: string, raw?: string): void {
    const { rid, key } = this.keyOf(p, values);
    this.insert([p.bt.name, rid, key, raw ?? anyRowJson(p.bt.columns, values), reason, this.runId, this.now]);
    p.report.quarantined++;
    const k = reason.split(":")[0]!;
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
