-- search_ingest (v15): corpus rows, chunk text with a full-text index, ingest job queue.
CREATE TABLE IF NOT EXISTS search_documents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  uri TEXT NOT NULL UNIQUE,
  title TEXT,
  content_hash TEXT,
  ingested_at TEXT
);
CREATE TABLE IF NOT EXISTS search_document_chunks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  document_id INTEGER NOT NULL REFERENCES search_documents(id),
  ordinal INTEGER NOT NULL,
  text TEXT NOT NULL,
  token_count INTEGER,
  UNIQUE (document_id, ordinal)
);
CREATE VIRTUAL TABLE IF NOT EXISTS search_chunks_fts USING fts5(
  text, content='search_document_chunks', content_rowid='id'
);
CREATE TRIGGER IF NOT EXISTS search_document_chunks_ai AFTER INSERT ON search_document_chunks BEGIN
  INSERT INTO search_chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS search_document_chunks_ad AFTER DELETE ON search_document_chunks BEGIN
  INSERT INTO search_chunks_fts(search_chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER IF NOT EXISTS search_document_chunks_au AFTER UPDATE ON search_document_chunks BEGIN
  INSERT INTO search_chunks_fts(search_chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
  INSERT INTO search_chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TABLE IF NOT EXISTS search_indexing_jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  document_id INTEGER REFERENCES search_documents(id),
  status TEXT NOT NULL DEFAULT 'queued',
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  queued_at TEXT,
  finished_at TEXT
);
CREATE INDEX IF NOT EXISTS idx_search_indexing_jobs_status ON search_indexing_jobs(status);
