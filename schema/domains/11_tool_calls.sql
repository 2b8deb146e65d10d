-- tool_calls (v12): tool invocations tied to assistant messages, ordinal per turn.
CREATE TABLE IF NOT EXISTS conversation_tool_calls (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id INTEGER NOT NULL REFERENCES conversation_messages(id),
  ordinal INTEGER NOT NULL,
  tool_name TEXT NOT NULL,
  arguments_json TEXT,
  result_json TEXT,
  UNIQUE (message_id, ordinal)
);
