-- The queue test's deliveries, one row each time the queue handler gets a message.
CREATE TABLE deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run TEXT NOT NULL,
  queue TEXT NOT NULL,
  msg_id TEXT NOT NULL,
  n INTEGER NOT NULL,
  body TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  sent_at INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  rpc TEXT NOT NULL
);
