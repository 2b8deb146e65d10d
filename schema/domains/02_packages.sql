-- packages: registry rows and dependency edges; yanked flag from fragment v4.
CREATE TABLE IF NOT EXISTS packages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  description TEXT,
  manifest_hash TEXT,
  yanked INTEGER NOT NULL DEFAULT 0,
  published_at TEXT,
  UNIQUE (name, version)
);
CREATE TABLE IF NOT EXISTS package_deps (
  package_id INTEGER NOT NULL REFERENCES packages(id),
  dep_name TEXT NOT NULL,
  version_req TEXT NOT NULL DEFAULT '*',
  optional INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (package_id, dep_name)
) WITHOUT ROWID;
