-- packages: generated from vox baseline 66 (baseline 66) by npm run schema:from-template.
CREATE TABLE IF NOT EXISTS components (
  name TEXT PRIMARY KEY,
  namespace TEXT NOT NULL,
  schema_hash TEXT,
  description TEXT,
  version TEXT NOT NULL DEFAULT '0.1.0',
  created_at TEXT NOT NULL DEFAULT (datetime('now')),
  FOREIGN KEY (schema_hash) REFERENCES objects (hash)
);
CREATE INDEX IF NOT EXISTS idx_components_namespace ON components (namespace);
CREATE TABLE IF NOT EXISTS package_deps (
  package_name TEXT NOT NULL,
  package_version TEXT NOT NULL,
  dep_name TEXT NOT NULL,
  dep_version_req TEXT NOT NULL,
  PRIMARY KEY (package_name, package_version, dep_name),
  FOREIGN KEY (package_name, package_version) REFERENCES packages (name, version)
);
CREATE TABLE IF NOT EXISTS packages (
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  hash TEXT NOT NULL,
  description TEXT,
  author TEXT,
  license TEXT,
  yanked INTEGER NOT NULL DEFAULT 0,
  published_at TEXT NOT NULL DEFAULT (datetime('now')),
  PRIMARY KEY (name, version),
  FOREIGN KEY (hash) REFERENCES objects (hash)
);
CREATE INDEX IF NOT EXISTS idx_packages_hash ON packages (hash);
