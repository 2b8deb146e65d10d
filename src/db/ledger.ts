import { allRows, type LibsqlDatabase } from "./local.js";
import { toolVersion } from "../util/paths.js";

export interface LedgerEntry {
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

export interface LedgerRow {
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
