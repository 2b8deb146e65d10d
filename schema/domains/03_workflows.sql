-- workflows: execution log, scheduled jobs, components.
CREATE TABLE IF NOT EXISTS execution_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workflow TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  input_json TEXT,
  output_json TEXT,
  duration_ms INTEGER,
  started_at TEXT,
  finished_at TEXT
);
CREATE INDEX IF NOT EXISTS idx_execution_log_workflow ON execution_log(workflow, started_at);
CREATE TABLE IF NOT EXISTS scheduled (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workflow TEXT NOT NULL,
  cron TEXT NOT NULL,
  next_run_at TEXT,
  enabled INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS components (
  name TEXT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL,
  object_hash TEXT,
  config_json TEXT
);
