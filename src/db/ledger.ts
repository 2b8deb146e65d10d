import { allRows, openReadOnly, type LibsqlDatabase } from "./local.js";
import { toolVersion } from "../util/paths.js";

interface LedgerEntry {
  runId: string;
  command: string;
  mode?: "apply" | "dry-run";
  planDigest?: string | null;
  backupSha256?: string | null;
  counts?: Record<string, unknown>;
  status?: string;
}

/** One cutover_ledger row: run id, mode, counts, hashes, tool version, time. */
export function recordLedger(db: LibsqlDatabase, e: LedgerEntry): void {
  db.prepare(
    "INSERT INTO cutover_ledger(run_id, command, mode, plan_digest, backup_sha256, counts_json, tool_version, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
  ).run(e.runId, e.command, e.mode ?? "apply", e.planDigest ?? null, e.backupSha256 ?? null, JSON.stringify(e.counts ?? {}), toolVersion(), e.status ?? "ok");
}

export function hasLedger(db: LibsqlDatabase): boolean {
  return allRows(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cutover_ledger'").length > 0;
}

interface LedgerRow {
  id: number;
  runId: string;
  command: string;
  mode: string;
  planDigest: string | null;
  backupSha256: string | null;
  counts: unknown;
  toolVersion: string;
  status: string;
  createdAt: string;
}

export function listLedger(db: LibsqlDatabase): LedgerRow[] {
  if (!hasLedger(db)) return [];
  return allRows(db, "SELECT * FROM cutover_ledger ORDER BY id").map((r) => {
    let counts: unknown = r.counts_json;
    try {
      counts = JSON.parse(String(r.counts_json));
    } catch {
      /* keep the text */
    }
    return {
      id: Number(r.id),
      runId: String(r.run_id),
      command: String(r.command),
      mode: String(r.mode),
      planDigest: r.plan_digest === null ? null : String(r.plan_digest),
      backupSha256: r.backup_sha256 === null ? null : String(r.backup_sha256),
      counts,
      toolVersion: String(r.tool_version),
      status: String(r.status),
      createdAt: String(r.created_at),
    };
  });
}

/** The last applied cutover the ledger of the file at dbPath records (null: none, or no ledger, or unreadable). */
export function lastCutoverLedger(dbPath: string): { run_id: string; created_at: string } | null {
  try {
    const db = openReadOnly(dbPath);
    try {
      const has = allRows(db, "SELECT 1 FROM sqlite_master WHERE name = 'cutover_ledger'").length;
      if (!has) return null;
      const r = allRows(
        db,
        "SELECT run_id, created_at FROM cutover_ledger WHERE command IN ('cutover', 'rehearse', 'wizard') AND mode = 'apply' ORDER BY id DESC LIMIT 1",
      );
      return r.length ? { run_id: String(r[0]!.run_id), created_at: String(r[0]!.created_at) } : null;
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}

/** A legacy_quarantine reason's key, the text before its first ':' (`unknown-columns: karma (…)` → `unknown-columns`): what every count by reason groups by. */
export const reasonKey = (reason: string): string => reason.split(":")[0]!;
/** reasonKey in SQL, over a `reason` column. */
const REASON_KEY_SQL = "CASE WHEN instr(reason, ':') > 0 THEN substr(reason, 1, instr(reason, ':') - 1) ELSE reason END";

/** What legacy_quarantine holds, per reason key (reasonKey), and in all. */
export interface QuarantineTable {
  rows: number;
  byReason: Record<string, number>;
}

/** What legacy_quarantine holds now in `db` (an open connection: a transaction's own rows too). */
export function quarantineByReason(db: LibsqlDatabase): QuarantineTable {
  const byReason: Record<string, number> = {};
  let rows = 0;
  if (!allRows(db, "SELECT 1 FROM sqlite_master WHERE name = 'legacy_quarantine'").length) return { rows, byReason };
  for (const r of allRows(db, `SELECT ${REASON_KEY_SQL} AS k, count(*) AS n FROM legacy_quarantine GROUP BY 1`)) {
    byReason[String(r.k)] = Number(r.n);
    rows += Number(r.n);
  }
  return { rows, byReason };
}

/** What legacy_quarantine holds now, per reason key: the count the summary shows is the table's. */
export function quarantineTableRows(dbPath: string): QuarantineTable | null {
  try {
    const db = openReadOnly(dbPath);
    try {
      return quarantineByReason(db);
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}
