-- cutover_meta: vox-cutover's own bookkeeping (vox ignores these two tables).
CREATE TABLE IF NOT EXISTS cutover_ledger (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  command TEXT NOT NULL,
  mode TEXT NOT NULL,
  plan_digest TEXT,
  backup_sha256 TEXT,
  counts_json TEXT,
  tool_version TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'ok',
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_cutover_ledger_command ON cutover_ledger(command, plan_digest);
CREATE TABLE IF NOT EXISTS legacy_quarantine (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  source_table TEXT NOT NULL,
  source_rowid INTEGER,
  source_key TEXT,
  row_json TEXT NOT NULL,
  reason TEXT NOT NULL,
  run_id TEXT,
  quarantined_at TEXT
);
CREATE INDEX IF NOT EXISTS idx_legacy_quarantine_table ON legacy_quarantine(source_table);
