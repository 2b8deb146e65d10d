-- routing_calibration (v10): Socrates-style routing scores (ADR 005).
CREATE TABLE IF NOT EXISTS agent_reliability (
  agent_id TEXT NOT NULL,
  task_kind TEXT NOT NULL,
  successes INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  score REAL NOT NULL DEFAULT 0.5,
  updated_at TEXT,
  PRIMARY KEY (agent_id, task_kind)
);
