-- context_memory: agent/session/cost telemetry.
CREATE TABLE IF NOT EXISTS memories (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  agent_id TEXT NOT NULL,
  kind TEXT NOT NULL DEFAULT 'fact',
  content TEXT NOT NULL,
  importance REAL NOT NULL DEFAULT 0.5,
  created_at TEXT
);
CREATE INDEX IF NOT EXISTS idx_memories_agent ON memories(agent_id);
CREATE TABLE IF NOT EXISTS session_turns (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL,
  turn_index INTEGER NOT NULL,
  role TEXT NOT NULL,
  content TEXT,
  tokens INTEGER,
  created_at TEXT,
  UNIQUE (session_id, turn_index)
);
CREATE TABLE IF NOT EXISTS builder_sessions (
  id TEXT PRIMARY KEY NOT NULL,
  project TEXT,
  state_json TEXT,
  started_at TEXT,
  ended_at TEXT
);
CREATE TABLE IF NOT EXISTS agent_sessions (
  id TEXT PRIMARY KEY NOT NULL,
  agent_id TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active',
  started_at TEXT,
  ended_at TEXT
);
CREATE TABLE IF NOT EXISTS agent_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT REFERENCES agent_sessions(id),
  event_type TEXT NOT NULL,
  payload_json TEXT,
  created_at TEXT
);
CREATE INDEX IF NOT EXISTS idx_agent_events_session ON agent_events(session_id);
CREATE TABLE IF NOT EXISTS a2a_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  from_agent TEXT NOT NULL,
  to_agent TEXT NOT NULL,
  body TEXT,
  sent_at TEXT
);
CREATE TABLE IF NOT EXISTS cost_records (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT,
  model TEXT,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0.0,
  recorded_at TEXT
);
CREATE TABLE IF NOT EXISTS agent_metrics (
  agent_id TEXT NOT NULL,
  metric TEXT NOT NULL,
  value REAL,
  window_start TEXT NOT NULL,
  PRIMARY KEY (agent_id, metric, window_start)
);
