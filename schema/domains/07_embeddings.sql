-- embeddings: vector metadata (the vector itself is a little-endian f32 BLOB).
CREATE TABLE IF NOT EXISTS embeddings (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  owner_table TEXT NOT NULL,
  owner_id INTEGER NOT NULL,
  model TEXT NOT NULL,
  dims INTEGER NOT NULL,
  vector BLOB,
  created_at TEXT
);
CREATE INDEX IF NOT EXISTS idx_embeddings_owner ON embeddings(owner_table, owner_id);
