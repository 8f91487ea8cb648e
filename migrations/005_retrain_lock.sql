-- At most one retraining at a time across processes (bot and CLI on the same DB): the holder's row, with its pid.
CREATE TABLE retrain_lock (
  name       TEXT PRIMARY KEY,
  owner      TEXT NOT NULL,                        -- who asked (user id, "cli", "schedule")
  pid        INTEGER NOT NULL,
  host       TEXT NOT NULL,
  started_at INTEGER NOT NULL                      -- ms since epoch
);
