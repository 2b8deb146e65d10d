-- spec::CORPUS_SNAPSHOTS_DDL: generated from vox baseline 66 (baseline 66) by npm run schema:from-template.
CREATE TABLE IF NOT EXISTS corpus_snapshots (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  fingerprint TEXT NOT NULL,
  generator_version TEXT NOT NULL,
  total_pairs INTEGER NOT NULL,
  pair_breakdown_json TEXT,
  created_at INTEGER NOT NULL DEFAULT (strftime('%s', 'now')),
  UNIQUE (fingerprint)
);
