-- The decision log: one row per question, written as 'pending' before generation and completed after.
CREATE TABLE decisions (
  id                 TEXT PRIMARY KEY,
  created_at         INTEGER NOT NULL,             -- ms since epoch
  platform           TEXT NOT NULL,
  channel_id         TEXT,
  user_id            TEXT,
  query              TEXT,                         -- NULL when LOG_QUERY_TEXT=false, after retention, or forgotten
  query_chars        INTEGER NOT NULL,
  gate_version       TEXT NOT NULL,
  label              TEXT NOT NULL,                -- gate's top label before the fallback rule
  gate_expert        TEXT NOT NULL,                -- expert the gate chose
  expert             TEXT NOT NULL,                -- expert that answers (fallback when gate expert unavailable/busy)
  confidence         REAL NOT NULL,
  probabilities_json TEXT NOT NULL,
  fallback_reason    TEXT,
  status             TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'answered', 'failed')),
  answer             TEXT,
  error              TEXT,
  latency_ms         INTEGER,
  prompt_tokens      INTEGER,
  completion_tokens  INTEGER,
  rerouted_from      TEXT REFERENCES decisions(id) ON DELETE SET NULL,
  completed_at       INTEGER
);
-- Only retention needs an index; start-up (pending rows) and `moe forget` (by user) are rare full scans, and every
-- index here costs each answered question two more writes.
CREATE INDEX decisions_created_at ON decisions(created_at);

-- One vote per (decision, user); a second vote replaces the first.
CREATE TABLE feedback (
  decision_id      TEXT NOT NULL REFERENCES decisions(id) ON DELETE CASCADE,
  user_id          TEXT NOT NULL,
  vote             INTEGER NOT NULL CHECK (vote IN (1, -1)),
  corrected_expert TEXT,
  created_at       INTEGER NOT NULL,
  PRIMARY KEY (decision_id, user_id)
);
CREATE INDEX feedback_user ON feedback(user_id);
