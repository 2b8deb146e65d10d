-- skills: published skill rows with CAS-backed content.
CREATE TABLE IF NOT EXISTS skill_manifests (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  version TEXT NOT NULL,
  content_hash TEXT,
  manifest_json TEXT,
  published_at TEXT
);
