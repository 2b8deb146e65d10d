-- gamification_coordination: generated from vox baseline 66 (baseline 66) by npm run schema:from-template.
CREATE TABLE IF NOT EXISTS a2a_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  message_uuid TEXT NOT NULL,
  sender_agent TEXT NOT NULL,
  receiver_agent TEXT NOT NULL,
  msg_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 1,
  thread_id TEXT,
  acknowledged INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL DEFAULT (datetime('now')),
  repository_id TEXT NOT NULL DEFAULT '',
  claim_owner TEXT,
  claim_until_ms INTEGER,
  delivery_attempts INTEGER NOT NULL DEFAULT 0,
  last_claim_error TEXT,
  processed_at_ms INTEGER,
  UNIQUE (message_uuid)
);
CREATE INDEX IF NOT EXISTS idx_a2a_ack_created ON a2a_messages (acknowledged, created_at);
CREATE INDEX IF NOT EXISTS idx_a2a_acknowledged ON a2a_messages (acknowledged);
CREATE INDEX IF NOT EXISTS idx_a2a_inbox_claim ON a2a_messages (receiver_agent, repository_id, acknowledged, claim_until_ms);
CREATE INDEX IF NOT EXISTS idx_a2a_receiver ON a2a_messages (receiver_agent);
CREATE INDEX IF NOT EXISTS idx_a2a_thread ON a2a_messages (thread_id);
CREATE TABLE IF NOT EXISTS agent_oplog (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  agent_id TEXT NOT NULL,
  operation_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  description TEXT NOT NULL,
  predecessor_hash TEXT,
  model_id TEXT,
  change_id INTEGER,
  timestamp_ms INTEGER NOT NULL,
  undone INTEGER NOT NULL DEFAULT 0,
  repository_id TEXT NOT NULL DEFAULT '',
  UNIQUE (operation_id)
);
CREATE INDEX IF NOT EXISTS idx_agent_oplog_agent ON agent_oplog (agent_id);
CREATE INDEX IF NOT EXISTS idx_agent_oplog_repo ON agent_oplog (repository_id);
CREATE INDEX IF NOT EXISTS idx_agent_oplog_repo_ts ON agent_oplog (repository_id, timestamp_ms);
CREATE INDEX IF NOT EXISTS idx_agent_oplog_ts ON agent_oplog (timestamp_ms);
CREATE TABLE IF NOT EXISTS distributed_locks (
  lock_key TEXT NOT NULL,
  holder_node TEXT NOT NULL,
  holder_agent TEXT NOT NULL,
  fence_token INTEGER NOT NULL,
  acquired_at TEXT NOT NULL DEFAULT (datetime('now')),
  expires_at TEXT NOT NULL,
  repository_id TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (lock_key, repository_id)
);
CREATE INDEX IF NOT EXISTS idx_distributed_locks_expires ON distributed_locks (expires_at);
CREATE INDEX IF NOT EXISTS idx_distributed_locks_key_repo_exp ON distributed_locks (lock_key, repository_id, expires_at);
CREATE TABLE IF NOT EXISTS gamify_battles (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  companion_id TEXT NOT NULL,
  bug_type TEXT NOT NULL,
  bug_description TEXT NOT NULL,
  bug_code TEXT,
  submitted_code TEXT,
  success INTEGER NOT NULL DEFAULT 0,
  crystals_earned INTEGER NOT NULL DEFAULT 0,
  xp_earned INTEGER NOT NULL DEFAULT 0,
  duration_secs INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE INDEX IF NOT EXISTS idx_gamify_battles_companion ON gamify_battles (companion_id);
CREATE INDEX IF NOT EXISTS idx_gamify_battles_user ON gamify_battles (user_id);
CREATE TABLE IF NOT EXISTS gamify_companions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT,
  code_hash TEXT,
  language TEXT NOT NULL DEFAULT 'vox',
  ascii_sprite TEXT,
  mood TEXT NOT NULL DEFAULT 'neutral',
  health INTEGER NOT NULL DEFAULT 100,
  max_health INTEGER NOT NULL DEFAULT 100,
  energy INTEGER NOT NULL DEFAULT 100,
  max_energy INTEGER NOT NULL DEFAULT 100,
  code_quality INTEGER NOT NULL DEFAULT 50,
  last_active INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE INDEX IF NOT EXISTS idx_gamify_companions_user ON gamify_companions (user_id);
CREATE TABLE IF NOT EXISTS gamify_profiles (
  user_id TEXT PRIMARY KEY,
  level INTEGER NOT NULL DEFAULT 1,
  xp INTEGER NOT NULL DEFAULT 0,
  crystals INTEGER NOT NULL DEFAULT 100,
  energy INTEGER NOT NULL DEFAULT 100,
  max_energy INTEGER NOT NULL DEFAULT 100,
  last_energy_regen INTEGER NOT NULL DEFAULT 0,
  last_active INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS gamify_quests (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  quest_type TEXT NOT NULL,
  description TEXT NOT NULL,
  target INTEGER NOT NULL DEFAULT 1,
  progress INTEGER NOT NULL DEFAULT 0,
  crystal_reward INTEGER NOT NULL DEFAULT 10,
  xp_reward INTEGER NOT NULL DEFAULT 15,
  completed INTEGER NOT NULL DEFAULT 0,
  expires_at TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE INDEX IF NOT EXISTS idx_gamify_quests_expires ON gamify_quests (expires_at);
CREATE INDEX IF NOT EXISTS idx_gamify_quests_user ON gamify_quests (user_id);
CREATE TABLE IF NOT EXISTS mesh_heartbeats (
  node_id TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  activity TEXT NOT NULL DEFAULT 'idle',
  repository_id TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (node_id, repository_id)
);
CREATE INDEX IF NOT EXISTS idx_mesh_heartbeats_seen ON mesh_heartbeats (last_seen_ms);
CREATE TABLE IF NOT EXISTS orchestration_lineage_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  repository_id TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL,
  task_id INTEGER NOT NULL,
  agent_id INTEGER,
  session_id TEXT,
  workflow_id TEXT,
  plan_session_id TEXT,
  plan_node_id TEXT,
  payload_json TEXT,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_orch_lineage_repo_kind ON orchestration_lineage_events (repository_id, kind);
CREATE INDEX IF NOT EXISTS idx_orch_lineage_repo_task ON orchestration_lineage_events (repository_id, task_id);
CREATE INDEX IF NOT EXISTS idx_orch_lineage_repo_ts ON orchestration_lineage_events (repository_id, created_at_ms);
