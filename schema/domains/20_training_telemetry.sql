-- training_telemetry: Mens training rows; older releases kept them in the vox_training_telemetry.db sidecar.
CREATE TABLE IF NOT EXISTS training_runs (
  run_id TEXT PRIMARY KEY NOT NULL,
  model TEXT NOT NULL,
  config_json TEXT,
  status TEXT NOT NULL DEFAULT 'running',
  started_at TEXT,
  finished_at TEXT
);
CREATE TABLE IF NOT EXISTS training_step_metrics (
  run_id TEXT NOT NULL REFERENCES training_runs(run_id),
  step INTEGER NOT NULL,
  loss REAL,
  learning_rate REAL,
  steps_per_sec REAL,
  ts_ms INTEGER NOT NULL,
  PRIMARY KEY (run_id, step)
);
CREATE TABLE IF NOT EXISTS training_telemetry_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT,
  event TEXT NOT NULL,
  payload_json TEXT NOT NULL,
  ts_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_training_telemetry_events_run ON training_telemetry_events(run_id, ts_ms);
