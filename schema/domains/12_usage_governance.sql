-- usage_governance (v13): limits and counted usage.
CREATE TABLE IF NOT EXISTS usage_limit_definitions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  metric TEXT NOT NULL,
  scope TEXT NOT NULL,
  window_seconds INTEGER NOT NULL,
  max_value INTEGER NOT NULL,
  UNIQUE (metric, scope, window_seconds)
);
CREATE TABLE IF NOT EXISTS usage_counter_snapshots (
  metric TEXT NOT NULL,
  scope TEXT NOT NULL,
  window_start TEXT NOT NULL,
  value INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (metric, scope, window_start)
) WITHOUT ROWID;
