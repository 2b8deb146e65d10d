-- users_marketplace: users and the marketplace.
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  handle TEXT NOT NULL UNIQUE,
  email TEXT,
  display_name TEXT,
  created_at TEXT
);
CREATE TABLE IF NOT EXISTS user_preferences (
  user_id INTEGER NOT NULL REFERENCES users(id),
  key TEXT NOT NULL,
  value TEXT,
  PRIMARY KEY (user_id, key)
);
CREATE TABLE IF NOT EXISTS behavior_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER REFERENCES users(id),
  event TEXT NOT NULL,
  props_json TEXT,
  occurred_at TEXT
);
CREATE TABLE IF NOT EXISTS learned_patterns (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER REFERENCES users(id),
  pattern TEXT NOT NULL,
  confidence REAL,
  updated_at TEXT
);
CREATE TABLE IF NOT EXISTS artifacts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  owner_id INTEGER REFERENCES users(id),
  name TEXT NOT NULL,
  kind TEXT,
  object_hash TEXT,
  price_cents INTEGER NOT NULL DEFAULT 0,
  created_at TEXT
);
CREATE TABLE IF NOT EXISTS artifact_reviews (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  artifact_id INTEGER NOT NULL REFERENCES artifacts(id),
  user_id INTEGER REFERENCES users(id),
  stars INTEGER CHECK (stars BETWEEN 1 AND 5),
  body TEXT,
  created_at TEXT
);
CREATE TABLE IF NOT EXISTS agents (
  id TEXT PRIMARY KEY NOT NULL,
  owner_id INTEGER REFERENCES users(id),
  name TEXT NOT NULL,
  config_json TEXT,
  created_at TEXT
);
