-- topics (v14): thread and per-message tagging.
CREATE TABLE IF NOT EXISTS topics (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  description TEXT
);
CREATE TABLE IF NOT EXISTS conversation_topics (
  conversation_id INTEGER NOT NULL REFERENCES conversations(id),
  topic_id INTEGER NOT NULL REFERENCES topics(id),
  PRIMARY KEY (conversation_id, topic_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS conversation_message_topics (
  message_id INTEGER NOT NULL REFERENCES conversation_messages(id),
  topic_id INTEGER NOT NULL REFERENCES topics(id),
  score REAL,
  PRIMARY KEY (message_id, topic_id)
);
