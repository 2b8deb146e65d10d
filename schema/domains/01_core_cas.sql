-- core_cas: content-addressed blobs and their bindings (Arca CodeStore).
CREATE TABLE IF NOT EXISTS objects (
  hash TEXT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL DEFAULT 'blob',
  size_bytes INTEGER NOT NULL DEFAULT 0,
  content BLOB,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE IF NOT EXISTS names (
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  object_hash TEXT NOT NULL REFERENCES objects(hash),
  updated_at TEXT,
  PRIMARY KEY (namespace, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS causal (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  cause_hash TEXT NOT NULL,
  effect_hash TEXT NOT NULL,
  relation TEXT NOT NULL DEFAULT 'derived',
  recorded_at TEXT
);
CREATE INDEX IF NOT EXISTS idx_causal_cause ON causal(cause_hash);
CREATE INDEX IF NOT EXISTS idx_causal_effect ON causal(effect_hash);
CREATE TABLE IF NOT EXISTS metadata (
  object_hash TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT,
  PRIMARY KEY (object_hash, key)
);
