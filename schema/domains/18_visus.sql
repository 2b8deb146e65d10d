-- visus: generated from vox baseline 66 (baseline 66) by npm run schema:from-template.
CREATE TABLE IF NOT EXISTS visus_audit_log (
  id TEXT PRIMARY KEY,
  baseline_id TEXT,
  target_url TEXT NOT NULL,
  outcome TEXT NOT NULL,
  findings_json TEXT NOT NULL,
  screenshot_cas TEXT,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  FOREIGN KEY (baseline_id) REFERENCES visus_baselines (id)
);
CREATE INDEX IF NOT EXISTS idx_visus_audit_target ON visus_audit_log (target_url);
CREATE TABLE IF NOT EXISTS visus_baselines (
  id TEXT PRIMARY KEY,
  target_url TEXT NOT NULL,
  viewport TEXT NOT NULL,
  theme TEXT NOT NULL DEFAULT 'auto',
  screenshot_cas TEXT NOT NULL,
  ax_tree_cas TEXT NOT NULL,
  metadata_json TEXT,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  UNIQUE (target_url, viewport, theme)
);
CREATE INDEX IF NOT EXISTS idx_visus_baselines_target ON visus_baselines (target_url);
