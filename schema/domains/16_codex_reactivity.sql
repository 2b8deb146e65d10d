-- codex_reactivity (v8): Convex-style hooks; schema lineage is append-only.
CREATE TABLE IF NOT EXISTS codex_schema_lineage (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  baseline_version INTEGER NOT NULL,
  digest_hex TEXT NOT NULL,
  applied_at TEXT
);
CREATE TABLE IF NOT EXISTS codex_change_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  topic TEXT NOT NULL,
  entity TEXT NOT NULL,
  entity_id TEXT,
  op TEXT NOT NULL CHECK (op IN ('insert','update','delete')),
  payload_json TEXT,
  created_at TEXT
);
CREATE INDEX IF NOT EXISTS idx_codex_change_log_topic ON codex_change_log(topic, id);
CREATE TABLE IF NOT EXISTS codex_subscriptions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  topic TEXT NOT NULL,
  subscriber TEXT NOT NULL,
  cursor INTEGER NOT NULL DEFAULT 0,
  created_at TEXT
);
CREATE TABLE IF NOT EXISTS codex_query_snapshots (
  query_name TEXT NOT NULL,
  args_hash TEXT NOT NULL,
  result_json TEXT,
  computed_at TEXT,
  PRIMARY KEY (query_name, args_hash)
);
CREATE TABLE IF NOT EXISTS codex_projection_versions (
  projection TEXT PRIMARY KEY NOT NULL,
  version INTEGER NOT NULL,
  updated_at TEXT
);
