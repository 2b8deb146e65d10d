-- spec::POPULI_TRAINING_RUN_DDL: generated from vox baseline 66 (baseline 66) by npm run schema:from-template.
CREATE TABLE IF NOT EXISTS populi_training_run (
  run_id TEXT PRIMARY KEY NOT NULL,
  adapter_tag TEXT,
  model_name TEXT,
  output_dir TEXT NOT NULL,
  data_dir TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'running',
  epoch INTEGER NOT NULL DEFAULT 0,
  global_step INTEGER NOT NULL DEFAULT 0,
  planned_steps INTEGER,
  last_loss REAL,
  last_checkpoint_path TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
