/**
 * sqlite_sequence entries in an import, counted apart from rows: a table that loads into an
 * AUTOINCREMENT table of the baseline gets the backup's value (never below its loaded rowids); every
 * other entry is kept in legacy_quarantine with the reason it is not carried.
 */
import { allRows, type LibsqlDatabase } from "../db/local.js";
import { quoteIdent, type SqlValue } from "../db/value.js";
import { rowJson } from "./format.js";
import type { Plan } from "./import-plan.js";
import type { QuarantineWriter } from "./quarantine-writer.js";
import { reasonKey } from "../db/ledger.js";

/** One row of the backup's sqlite_sequence: the table it names, its value, and the row as read. */
export interface SequenceRow {
  name: string;
  seq: bigint;
  values: SqlValue[];
}

export function restoreSequences(
  db: LibsqlDatabase,
  sequences: readonly SequenceRow[],
  plans: ReadonlyMap<string, Plan>,
  autoincrement: ReadonlySet<string>,
  q: QuarantineWriter,
  stamp: { runId: string; now: string },
): { restored: number; quarantined: number } {
  let restored = 0;
  let quarantined = 0;
  const seqPlan = plans.get("sqlite_sequence");
  for (const s of sequences) {
    const target = plans.get(s.name)?.target?.name;
    if (!target || !autoincrement.has(target)) {
      const why = !plans.has(s.name)
        ? `sequence-not-carried: the backup holds no table ${s.name}`
        : !target
          ? `sequence-not-carried: no row of ${s.name} loads (its rows are in quarantine)`
          : `sequence-not-carried: the baseline's ${target} has no AUTOINCREMENT`;
      q.insert(["sqlite_sequence", null, JSON.stringify([s.name]), rowJson(seqPlan!.bt.columns, s.values), why, stamp.runId, stamp.now]);
      seqPlan!.report.quarantined++;
      const k = reasonKey(why);
      seqPlan!.report.reasons[k] = (seqPlan!.report.reasons[k] ?? 0) + 1;
      quarantined++;
      continue;
    }
    const maxRow = allRows(db, `SELECT coalesce(max(rowid), 0) AS m FROM ${quoteIdent(target)}`)[0]!.m as bigint;
    // Never below what the file held (replace semantics' DELETE keeps it): an id the target gave out is not given out again (helper-105).
    const held = (allRows(db, "SELECT CAST(seq AS INTEGER) AS seq FROM sqlite_sequence WHERE name = ?", [target])[0]?.seq ?? 0n) as bigint; // as SQLite reads it (TEXT '5000', REAL 7000.5: helper-106)
    const seq = [s.seq, maxRow, held].reduce((a, b) => (b > a ? b : a));
    db.prepare("DELETE FROM sqlite_sequence WHERE name = ?").run(target);
    db.prepare("INSERT INTO sqlite_sequence(name, seq) VALUES (?, ?)").run(target, seq);
    restored++;
    seqPlan!.report.loaded++;
  }
  if (seqPlan) seqPlan.report.target = "sqlite_sequence";
  return { restored, quarantined };
}
