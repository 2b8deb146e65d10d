-- processing_audit (v16): durable run tracking and the audit trail.
CREATE TABLE IF NOT EXISTS processing_runs (
  id TEXT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'running',
  started_at TEXT,
  finished_at TEXT,
  summary_json TEXT
);
CREATE TABLE IF NOT EXISTS processing_run_steps (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL REFERENCES processing_runs(id),
  step TEXT NOT NULL,
  status TEXT NOT NULL,
  detail TEXT,
  at TEXT
);
CREATE TABLE IF NOT EXISTS audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  actor TEXT,
  action TEXT NOT NULL,
  target TEXT,
  detail_json TEXT,
  at TEXT
);
CREATE INDEX IF NOT EXISTS idx_audit_log_at ON audit_log(at);
