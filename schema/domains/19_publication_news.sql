-- publication_news: syndication gated by content digests (content_sha3_256, SHA3-256 hex).
-- publication_attempts is canonical for attempt history; news_publish_* are legacy, kept for import.
CREATE TABLE IF NOT EXISTS publication_manifests (
  publication_id TEXT PRIMARY KEY NOT NULL,
  content_type TEXT NOT NULL,
  source_ref TEXT,
  title TEXT NOT NULL,
  author TEXT,
  abstract_text TEXT,
  body_markdown TEXT,
  citations_json TEXT,
  metadata_json TEXT,
  content_sha3_256 TEXT,
  created_at TEXT,
  updated_at TEXT
);
CREATE TABLE IF NOT EXISTS published_news (
  news_id TEXT PRIMARY KEY NOT NULL,
  publication_id TEXT REFERENCES publication_manifests(publication_id),
  title TEXT NOT NULL,
  body_markdown TEXT,
  content_sha3_256 TEXT,
  published_at TEXT
);
CREATE TABLE IF NOT EXISTS publication_approvals (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  publication_id TEXT NOT NULL REFERENCES publication_manifests(publication_id),
  approver TEXT NOT NULL,
  content_sha3_256 TEXT NOT NULL,
  approved_at TEXT,
  UNIQUE (publication_id, approver, content_sha3_256)
);
CREATE TABLE IF NOT EXISTS publication_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  publication_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  content_sha3_256 TEXT,
  outcome_json TEXT,
  attempted_at TEXT,
  legacy_attempt_id INTEGER UNIQUE
);
CREATE INDEX IF NOT EXISTS idx_publication_attempts_pub ON publication_attempts(publication_id);
CREATE TABLE IF NOT EXISTS news_publish_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  news_id TEXT NOT NULL,
  channel TEXT,
  content_sha3_256 TEXT,
  result_json TEXT,
  attempted_at TEXT
);
CREATE TABLE IF NOT EXISTS news_publish_approvals (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  news_id TEXT NOT NULL,
  approver TEXT NOT NULL,
  content_sha3_256 TEXT,
  approved_at TEXT
);
