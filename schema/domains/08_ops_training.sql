-- ops_training: RLHF, evals and typed streams.
CREATE TABLE IF NOT EXISTS llm_interactions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT,
  model TEXT NOT NULL,
  prompt TEXT,
  response TEXT,
  latency_ms INTEGER,
  created_at TEXT
);
CREATE TABLE IF NOT EXISTS llm_feedback (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  interaction_id INTEGER NOT NULL REFERENCES llm_interactions(id),
  rating INTEGER,
  comment TEXT,
  created_at TEXT
);
CREATE TABLE IF NOT EXISTS research_metrics (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  metric TEXT NOT NULL,
  value REAL,
  tags_json TEXT,
  recorded_at TEXT
);
CREATE TABLE IF NOT EXISTS eval_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  suite TEXT NOT NULL,
  model TEXT,
  score REAL,
  details_json TEXT,
  started_at TEXT,
  finished_at TEXT
);
CREATE TABLE IF NOT EXISTS typed_stream_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  stream TEXT NOT NULL,
  seq INTEGER NOT NULL,
  event_type TEXT NOT NULL,
  payload BLOB,
  created_at TEXT,
  UNIQUE (stream, seq)
);
CREATE TABLE IF NOT EXISTS populi_reviews (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  subject TEXT NOT NULL,
  reviewer TEXT,
  verdict TEXT,
  notes TEXT,
  created_at TEXT
);
