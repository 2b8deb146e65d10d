-- spec::CODEX_CAPABILITY_MAP_DDL: generated from vox baseline 66 (baseline 66) by npm run schema:from-template.
CREATE TABLE IF NOT EXISTS codex_capability_map (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  topic TEXT NOT NULL,
  vendor TEXT NOT NULL,
  area TEXT NOT NULL,
  openclaw_capability TEXT NOT NULL,
  vox_evidence TEXT NOT NULL,
  status TEXT NOT NULL,
  advantage_direction TEXT NOT NULL,
  recommended_action TEXT NOT NULL,
  linked_paths_json TEXT NOT NULL,
  metadata_json TEXT,
  created_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE INDEX IF NOT EXISTS idx_codex_cap_vendor_topic ON codex_capability_map (vendor, topic);
