-- conversation_graph (v17): research sessions and conversation lineage.
CREATE TABLE IF NOT EXISTS research_sessions (
  id TEXT PRIMARY KEY NOT NULL,
  title TEXT,
  status TEXT NOT NULL DEFAULT 'open',
  created_at TEXT,
  updated_at TEXT
);
CREATE TABLE IF NOT EXISTS conversation_versions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id),
  version INTEGER NOT NULL,
  snapshot_json TEXT,
  created_at TEXT,
  UNIQUE (conversation_id, version)
);
CREATE TABLE IF NOT EXISTS conversation_edges (
  from_conversation INTEGER NOT NULL REFERENCES conversations(id),
  to_conversation INTEGER NOT NULL REFERENCES conversations(id),
  kind TEXT NOT NULL DEFAULT 'fork',
  created_at TEXT,
  PRIMARY KEY (from_conversation, to_conversation, kind)
);
CREATE TABLE IF NOT EXISTS topic_evolution_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT REFERENCES research_sessions(id),
  topic_id INTEGER REFERENCES topics(id),
  event TEXT NOT NULL,
  detail_json TEXT,
  at TEXT
);
