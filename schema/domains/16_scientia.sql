-- scientia: generated from vox baseline 66 (baseline 66) by npm run schema:from-template.
CREATE TABLE IF NOT EXISTS agent_telemetry_flat (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  agent_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  tenant_id TEXT,
  repository_id TEXT NOT NULL DEFAULT '',
  event_kind TEXT NOT NULL,
  tool_name TEXT,
  model_id TEXT,
  provider TEXT,
  duration_ms INTEGER,
  input_tokens INTEGER,
  output_tokens INTEGER,
  cost_usd REAL,
  trust_score REAL,
  payload_json TEXT,
  recorded_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_agt_tel_flat_agent_ev ON agent_telemetry_flat (agent_id, event_kind, recorded_at_ms);
CREATE INDEX IF NOT EXISTS idx_agt_tel_flat_repo ON agent_telemetry_flat (repository_id, recorded_at_ms);
CREATE INDEX IF NOT EXISTS idx_agt_tel_flat_session ON agent_telemetry_flat (session_id, recorded_at_ms);
CREATE TABLE IF NOT EXISTS model_pricing_catalog (
  model_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  observed_blended_per_1k REAL,
  observed_input_per_1k REAL,
  observed_output_per_1k REAL,
  catalog_input_per_1k REAL NOT NULL DEFAULT 0.0,
  catalog_output_per_1k REAL NOT NULL DEFAULT 0.0,
  n_provider_reported INTEGER NOT NULL DEFAULT 0,
  n_estimated INTEGER NOT NULL DEFAULT 0,
  n_free INTEGER NOT NULL DEFAULT 0,
  confidence TEXT NOT NULL DEFAULT 'low',
  last_observed_at_ms INTEGER,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (model_id, provider)
);
CREATE INDEX IF NOT EXISTS idx_model_pricing_catalog_model ON model_pricing_catalog (model_id, confidence);
CREATE TABLE IF NOT EXISTS model_scoreboard (
  model_id TEXT NOT NULL,
  task_category TEXT NOT NULL,
  strength_tag TEXT NOT NULL,
  window_days INTEGER NOT NULL,
  n_calls INTEGER NOT NULL DEFAULT 0,
  success_rate REAL NOT NULL DEFAULT 0.0,
  p50_latency_ms INTEGER,
  p99_latency_ms INTEGER,
  cost_per_success_usd REAL,
  quality_score REAL NOT NULL DEFAULT 1.0,
  updated_at_ms INTEGER NOT NULL,
  success_count INTEGER NOT NULL DEFAULT 0,
  cumulative_cost_usd REAL NOT NULL DEFAULT 0.0,
  PRIMARY KEY (model_id, task_category, strength_tag, window_days)
);
CREATE INDEX IF NOT EXISTS idx_model_scoreboard_task ON model_scoreboard (task_category, strength_tag, success_rate);
CREATE TABLE IF NOT EXISTS reliability_scores (
  entity_type TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  reliability REAL NOT NULL DEFAULT 0.5,
  success_count INTEGER NOT NULL DEFAULT 0,
  failure_count INTEGER NOT NULL DEFAULT 0,
  updated_at_ms INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (entity_type, entity_id)
);
CREATE INDEX IF NOT EXISTS idx_reliability_scores_val ON reliability_scores (reliability);
CREATE TABLE IF NOT EXISTS research_eval_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  model_id TEXT NOT NULL,
  config_json TEXT NOT NULL,
  metrics_json TEXT NOT NULL,
  latency_p50_ms INTEGER,
  latency_p99_ms INTEGER,
  tier_distribution_json TEXT,
  created_at_ms INTEGER NOT NULL,
  UNIQUE (run_id)
);
CREATE TABLE IF NOT EXISTS research_eval_samples (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  "query" TEXT NOT NULL,
  gold_answer TEXT,
  model_answer TEXT NOT NULL,
  recall_at_5 REAL,
  groundedness REAL,
  quality_score REAL,
  latency_ms INTEGER,
  evidence_json TEXT,
  recorded_at_ms INTEGER NOT NULL,
  FOREIGN KEY (run_id) REFERENCES research_eval_runs (run_id)
);
CREATE INDEX IF NOT EXISTS idx_res_eval_samples_run ON research_eval_samples (run_id);
CREATE TABLE IF NOT EXISTS scientia_citations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  discovery_id TEXT NOT NULL,
  citation_key TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source_ref TEXT NOT NULL,
  title TEXT,
  authors_json TEXT,
  year INTEGER,
  doi TEXT,
  url TEXT,
  created_at_ms INTEGER NOT NULL,
  UNIQUE (discovery_id, citation_key)
);
CREATE TABLE IF NOT EXISTS scientia_claim_verdicts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  claim_id INTEGER NOT NULL,
  verdict TEXT NOT NULL,
  confidence REAL NOT NULL DEFAULT 0.0,
  verifier_model TEXT,
  span_start INTEGER,
  span_end INTEGER,
  span_text TEXT,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_scientia_verdicts_claim ON scientia_claim_verdicts (claim_id);
CREATE TABLE IF NOT EXISTS scientia_claims (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  claim_id INTEGER NOT NULL,
  session_id INTEGER NOT NULL DEFAULT 0,
  text TEXT NOT NULL,
  is_numeric INTEGER NOT NULL DEFAULT 0,
  is_recent INTEGER NOT NULL DEFAULT 0,
  is_named_event INTEGER NOT NULL DEFAULT 0,
  verifiability_score REAL,
  created_at_ms INTEGER NOT NULL,
  UNIQUE (claim_id)
);
CREATE INDEX IF NOT EXISTS idx_scientia_claims_session ON scientia_claims (session_id, created_at_ms);
CREATE TABLE IF NOT EXISTS scientia_discoveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  discovery_id TEXT NOT NULL,
  session_key TEXT NOT NULL,
  repository_id TEXT NOT NULL DEFAULT '',
  title TEXT NOT NULL,
  summary TEXT NOT NULL,
  claims_json TEXT NOT NULL,
  evidence_json TEXT NOT NULL,
  novelty_score REAL NOT NULL DEFAULT 0.0,
  confidence_score REAL NOT NULL DEFAULT 0.0,
  human_gate_status TEXT NOT NULL DEFAULT 'pending',
  human_gate_reason TEXT,
  publication_id TEXT,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  UNIQUE (discovery_id)
);
CREATE INDEX IF NOT EXISTS idx_scientia_discoveries_session ON scientia_discoveries (session_key, created_at_ms);
CREATE INDEX IF NOT EXISTS idx_scientia_discoveries_status ON scientia_discoveries (human_gate_status);
CREATE TABLE IF NOT EXISTS scientia_finding_candidates (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  candidate_id TEXT NOT NULL,
  candidate_class TEXT NOT NULL,
  publication_id TEXT,
  title_hint TEXT,
  internal_signals_json TEXT NOT NULL,
  novelty_evidence_bundle_id TEXT,
  worthiness_decision_ref TEXT,
  confidence_json TEXT,
  repository_id TEXT,
  producer_name TEXT NOT NULL,
  signal_fingerprint TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  UNIQUE (candidate_id)
);
CREATE INDEX IF NOT EXISTS idx_scientia_finding_candidates_class ON scientia_finding_candidates (candidate_class);
CREATE UNIQUE INDEX IF NOT EXISTS idx_scientia_finding_candidates_fingerprint ON scientia_finding_candidates (producer_name, signal_fingerprint);
CREATE INDEX IF NOT EXISTS idx_scientia_finding_candidates_repo ON scientia_finding_candidates (repository_id);
CREATE TABLE IF NOT EXISTS scientia_model_profile_learning (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  provider TEXT NOT NULL,
  model_id TEXT NOT NULL,
  profile_key TEXT NOT NULL,
  profile_value REAL NOT NULL,
  sample_count INTEGER NOT NULL DEFAULT 0,
  window_start_ms INTEGER NOT NULL,
  window_end_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  UNIQUE (provider, model_id, profile_key)
);
CREATE TABLE IF NOT EXISTS scientia_prereg (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  prereg_id TEXT NOT NULL,
  hypothesis TEXT NOT NULL,
  signed_at_ms INTEGER NOT NULL,
  signing_key TEXT NOT NULL,
  payload_json TEXT NOT NULL,
  supersedes_id TEXT,
  created_at_ms INTEGER NOT NULL,
  UNIQUE (prereg_id)
);
CREATE TABLE IF NOT EXISTS scientia_provider_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id INTEGER NOT NULL,
  provider_name TEXT NOT NULL,
  hit_count INTEGER NOT NULL DEFAULT 0,
  elapsed_ms INTEGER NOT NULL DEFAULT 0,
  started_at_ms INTEGER NOT NULL,
  finished_at_ms INTEGER
);
CREATE INDEX IF NOT EXISTS idx_scientia_provider_runs_session ON scientia_provider_runs (session_id);
CREATE TABLE IF NOT EXISTS scientia_publication_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  manifest_id TEXT NOT NULL,
  venue TEXT NOT NULL,
  attempt_number INTEGER NOT NULL DEFAULT 1,
  status TEXT NOT NULL DEFAULT 'pending',
  doi TEXT,
  error TEXT,
  attempted_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_scientia_pub_attempts ON scientia_publication_attempts (manifest_id, attempted_at_ms);
CREATE TABLE IF NOT EXISTS scientia_publication_queue (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  discovery_id TEXT NOT NULL,
  publication_id TEXT NOT NULL,
  stage TEXT NOT NULL DEFAULT 'draft',
  zenodo_deposition_id TEXT,
  prereserved_doi TEXT,
  last_error TEXT,
  attempt_count INTEGER NOT NULL DEFAULT 0,
  next_retry_at_ms INTEGER,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  UNIQUE (discovery_id)
);
CREATE INDEX IF NOT EXISTS idx_scientia_queue_stage ON scientia_publication_queue (stage, next_retry_at_ms);
CREATE TABLE IF NOT EXISTS scientia_research_artifacts (
  session_id INTEGER PRIMARY KEY,
  artifact_json TEXT NOT NULL,
  report_markdown TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS scientia_research_sessions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_key TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active',
  started_at_ms INTEGER NOT NULL,
  finished_at_ms INTEGER,
  query_text TEXT,
  hit_count INTEGER NOT NULL DEFAULT 0,
  claim_count INTEGER NOT NULL DEFAULT 0,
  quality_score INTEGER NOT NULL DEFAULT 0,
  UNIQUE (session_key)
);
CREATE INDEX IF NOT EXISTS idx_scientia_sessions_status ON scientia_research_sessions (status, started_at_ms);
CREATE TABLE IF NOT EXISTS scientia_training_pairs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id INTEGER NOT NULL,
  query_text TEXT NOT NULL,
  answer_text TEXT NOT NULL,
  quality_score INTEGER NOT NULL DEFAULT 0,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_scientia_training_pairs_session ON scientia_training_pairs (session_id);
