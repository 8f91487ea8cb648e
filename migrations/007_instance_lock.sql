-- The bot process that owns this database now (at most one row): a second `moe start` on the same file refuses at
-- once, and start-up marks pending rows failed only after taking the row from an owner that is gone.
CREATE TABLE instance_lock (
  name         TEXT PRIMARY KEY,                 -- 'bot'
  instance_id  TEXT NOT NULL,
  pid          INTEGER NOT NULL,
  host         TEXT NOT NULL,
  started_at   INTEGER NOT NULL,                 -- ms since epoch
  heartbeat_at INTEGER NOT NULL                  -- refreshed while it runs; a stale one means a hung or reused pid
);
