-- vox_mesh: generated from vox baseline 66 (baseline 66) by npm run schema:from-template.
CREATE TABLE IF NOT EXISTS activity_result_cache (
  activity_id TEXT NOT NULL,
  arg_hash TEXT NOT NULL,
  result_json TEXT NOT NULL,
  produced_at_unix_ms INTEGER NOT NULL,
  dedup_window_ms INTEGER NOT NULL,
  dedup_window_until INTEGER NOT NULL,
  PRIMARY KEY (activity_id, arg_hash)
);
CREATE INDEX IF NOT EXISTS idx_activity_result_cache_until ON activity_result_cache (dedup_window_until);
CREATE TABLE IF NOT EXISTS convergence_op_log (
  op_id INTEGER PRIMARY KEY,
  set_id BLOB NOT NULL,
  parent_op_ids TEXT NOT NULL DEFAULT '[]',
  kind_json TEXT NOT NULL,
  payload BLOB NOT NULL DEFAULT X'',
  payload_blake3 BLOB NOT NULL,
  predecessor_hash TEXT,
  signature TEXT,
  signing_key_id TEXT,
  agent_id INTEGER NOT NULL,
  daemon_id TEXT NOT NULL,
  produced_at INTEGER NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  change_id INTEGER,
  model_id TEXT,
  undone INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS convergence_op_log_change_id ON convergence_op_log (change_id) WHERE change_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS convergence_op_log_daemon_produced ON convergence_op_log (daemon_id, produced_at);
CREATE INDEX IF NOT EXISTS convergence_op_log_set_id_produced_at ON convergence_op_log (set_id, produced_at);
CREATE TABLE IF NOT EXISTS convergence_op_log_backfill_dlq (
  op_id INTEGER PRIMARY KEY,
  payload BLOB NOT NULL,
  parent_op_ids TEXT NOT NULL,
  first_seen_at INTEGER NOT NULL,
  retry_count INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
);
CREATE TABLE IF NOT EXISTS lock_leader (
  repository_id TEXT PRIMARY KEY NOT NULL,
  leader_node_id TEXT NOT NULL,
  elected_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  epoch INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS idx_lock_leader_expires ON lock_leader (expires_at);
CREATE TABLE IF NOT EXISTS mesh_a2a_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sender_agent_id TEXT NOT NULL,
  receiver_agent_id TEXT NOT NULL,
  message_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  idempotency_key TEXT,
  idempotency_dedupe_key TEXT,
  privacy_class TEXT,
  payload_blake3_hex TEXT,
  worker_ed25519_sig_b64 TEXT,
  jwe_payload TEXT,
  priority INTEGER NOT NULL DEFAULT 128,
  task_kind TEXT,
  model_id TEXT,
  sender_node_id TEXT,
  traceparent TEXT,
  created_at INTEGER NOT NULL,
  acked_at INTEGER,
  acknowledged INTEGER NOT NULL DEFAULT 0,
  lease_holder_node_id TEXT,
  lease_expires_unix_ms INTEGER
);
CREATE INDEX IF NOT EXISTS idx_mesh_a2a_idempotency ON mesh_a2a_messages (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_mesh_a2a_receiver ON mesh_a2a_messages (receiver_agent_id, acknowledged);
CREATE TABLE IF NOT EXISTS mesh_dispatch_results (
  "key" TEXT PRIMARY KEY,
  value_json TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS mesh_exec_leases (
  lease_id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL,
  scope_key TEXT NOT NULL,
  holder_node_id TEXT NOT NULL,
  granted_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'granted'
);
CREATE INDEX IF NOT EXISTS idx_mesh_lease_state ON mesh_exec_leases (state, expires_at);
CREATE TABLE IF NOT EXISTS vcs_lock (
  path TEXT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL,
  holder TEXT NOT NULL,
  holder_node_id TEXT NOT NULL,
  repository_id TEXT NOT NULL,
  acquired_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  lease_id TEXT,
  fence_token INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS idx_vcs_lock_expires ON vcs_lock (expires_at);
CREATE INDEX IF NOT EXISTS idx_vcs_lock_holder ON vcs_lock (holder_node_id, repository_id);
CREATE TABLE IF NOT EXISTS vox_kudos (
  vox_user_id TEXT NOT NULL,
  node_id TEXT NOT NULL,
  primitive TEXT NOT NULL,
  amount INTEGER NOT NULL,
  task_id TEXT,
  created_unix_ms INTEGER NOT NULL,
  metadata_json TEXT,
  PRIMARY KEY (vox_user_id, node_id, created_unix_ms)
);
CREATE INDEX IF NOT EXISTS idx_vox_kudos_node ON vox_kudos (node_id);
CREATE INDEX IF NOT EXISTS idx_vox_kudos_user ON vox_kudos (vox_user_id);
CREATE TABLE IF NOT EXISTS vox_peer_reputation (
  node_id TEXT PRIMARY KEY,
  success_count INTEGER NOT NULL DEFAULT 0,
  fail_count INTEGER NOT NULL DEFAULT 0,
  timeout_count INTEGER NOT NULL DEFAULT 0,
  invalid_output_count INTEGER NOT NULL DEFAULT 0,
  last_updated_unix_ms INTEGER NOT NULL
);
