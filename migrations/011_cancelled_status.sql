-- A question whose asker went away (a client that disconnected, a cancelled request) is `cancelled`, not `failed`: it
-- did not go wrong, and the dashboard and metrics count it apart. SQLite cannot change a CHECK constraint in place, so
-- the table is rebuilt (the runner turns foreign keys off around migrations, or dropping it would cascade to votes).
DROP TRIGGER decision_hours_delete;
DROP TRIGGER decision_hours_insert;
DROP TRIGGER decision_hours_update;
DROP TRIGGER decisions_text_deleted;
DROP TRIGGER decisions_text_removed;
-- Triggers on other tables that read decisions: the rename below checks every trigger naming it.
DROP TRIGGER vote_hours_delete;
DROP TRIGGER vote_hours_insert;
DROP TRIGGER vote_hours_update;

CREATE TABLE decisions_new (
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
  status             TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'answered', 'failed', 'cancelled')),
  answer             TEXT,
  error              TEXT,
  latency_ms         INTEGER,
  prompt_tokens      INTEGER,
  completion_tokens  INTEGER,
  rerouted_from      TEXT REFERENCES decisions(id) ON DELETE SET NULL,
  completed_at       INTEGER,
  conversation_id    TEXT,
  turn               INTEGER,
  follow_up          INTEGER NOT NULL DEFAULT 0,
  chosen_expert      TEXT,
  route_reason       TEXT CHECK (route_reason IN ('fresh', 'sticky', 'switched')),
  routed_expert      TEXT
  GENERATED ALWAYS AS (CASE WHEN rerouted_from IS NOT NULL THEN gate_expert ELSE COALESCE(chosen_expert, gate_expert) END) VIRTUAL);

INSERT INTO decisions_new (id, created_at, platform, channel_id, user_id, query, query_chars, gate_version, label, gate_expert, expert, confidence, probabilities_json, fallback_reason, status, answer, error, latency_ms, prompt_tokens, completion_tokens, rerouted_from, completed_at, conversation_id, turn, follow_up, chosen_expert, route_reason) SELECT id, created_at, platform, channel_id, user_id, query, query_chars, gate_version, label, gate_expert, expert, confidence, probabilities_json, fallback_reason, status, answer, error, latency_ms, prompt_tokens, completion_tokens, rerouted_from, completed_at, conversation_id, turn, follow_up, chosen_expert, route_reason FROM decisions;
DROP TABLE decisions;
ALTER TABLE decisions_new RENAME TO decisions;
CREATE INDEX decisions_conversation ON decisions(conversation_id, turn, created_at) WHERE conversation_id IS NOT NULL;
CREATE INDEX decisions_created_at ON decisions(created_at);

-- The triggers as migrations 008 (hourly counts) and 010 (text removals) made them.
CREATE TRIGGER decision_hours_delete AFTER DELETE ON decisions WHEN OLD.status <> 'pending' BEGIN
  INSERT INTO decision_hours VALUES (
    CAST(OLD.created_at / 3600000 AS INTEGER), OLD.expert,
    OLD.routed_expert, OLD.status,
    -1, -(OLD.fallback_reason IS NOT NULL), -(OLD.fallback_reason IS 'expert_busy'), -(OLD.rerouted_from IS NOT NULL),
    -(OLD.follow_up = 1), -(OLD.route_reason IS 'sticky'), -(OLD.route_reason IS 'switched'),
    -(OLD.completion_tokens IS NOT NULL AND OLD.latency_ms IS NOT NULL),
    -(CASE WHEN OLD.latency_ms IS NOT NULL THEN COALESCE(OLD.completion_tokens, 0) ELSE 0 END),
    -(CASE WHEN OLD.completion_tokens IS NOT NULL THEN COALESCE(OLD.latency_ms, 0) ELSE 0 END))
  ON CONFLICT (hour, expert, routed_expert, status) DO UPDATE SET
    n = n + excluded.n, fallbacks = fallbacks + excluded.fallbacks, busy = busy + excluded.busy, reroutes = reroutes + excluded.reroutes,
    follow_ups = follow_ups + excluded.follow_ups, sticky = sticky + excluded.sticky, switched = switched + excluded.switched,
    timed = timed + excluded.timed, tokens = tokens + excluded.tokens, latency_ms = latency_ms + excluded.latency_ms;
END;

CREATE TRIGGER decision_hours_insert AFTER INSERT ON decisions WHEN NEW.status <> 'pending' BEGIN
  INSERT INTO decision_hours VALUES (
    CAST(NEW.created_at / 3600000 AS INTEGER), NEW.expert,
    NEW.routed_expert, NEW.status,
    1, NEW.fallback_reason IS NOT NULL, NEW.fallback_reason IS 'expert_busy', NEW.rerouted_from IS NOT NULL,
    NEW.follow_up = 1, NEW.route_reason IS 'sticky', NEW.route_reason IS 'switched',
    NEW.completion_tokens IS NOT NULL AND NEW.latency_ms IS NOT NULL,
    CASE WHEN NEW.latency_ms IS NOT NULL THEN COALESCE(NEW.completion_tokens, 0) ELSE 0 END,
    CASE WHEN NEW.completion_tokens IS NOT NULL THEN COALESCE(NEW.latency_ms, 0) ELSE 0 END)
  ON CONFLICT (hour, expert, routed_expert, status) DO UPDATE SET
    n = n + excluded.n, fallbacks = fallbacks + excluded.fallbacks, busy = busy + excluded.busy, reroutes = reroutes + excluded.reroutes,
    follow_ups = follow_ups + excluded.follow_ups, sticky = sticky + excluded.sticky, switched = switched + excluded.switched,
    timed = timed + excluded.timed, tokens = tokens + excluded.tokens, latency_ms = latency_ms + excluded.latency_ms;
END;

CREATE TRIGGER decision_hours_update AFTER UPDATE OF created_at, expert, gate_expert, chosen_expert, status, fallback_reason,
  rerouted_from, follow_up, route_reason, completion_tokens, latency_ms ON decisions BEGIN
  INSERT INTO decision_hours SELECT
    CAST(OLD.created_at / 3600000 AS INTEGER), OLD.expert,
    OLD.routed_expert, OLD.status,
    -1, -(OLD.fallback_reason IS NOT NULL), -(OLD.fallback_reason IS 'expert_busy'), -(OLD.rerouted_from IS NOT NULL),
    -(OLD.follow_up = 1), -(OLD.route_reason IS 'sticky'), -(OLD.route_reason IS 'switched'),
    -(OLD.completion_tokens IS NOT NULL AND OLD.latency_ms IS NOT NULL),
    -(CASE WHEN OLD.latency_ms IS NOT NULL THEN COALESCE(OLD.completion_tokens, 0) ELSE 0 END),
    -(CASE WHEN OLD.completion_tokens IS NOT NULL THEN COALESCE(OLD.latency_ms, 0) ELSE 0 END)
  WHERE OLD.status <> 'pending'
  ON CONFLICT (hour, expert, routed_expert, status) DO UPDATE SET
    n = n + excluded.n, fallbacks = fallbacks + excluded.fallbacks, busy = busy + excluded.busy, reroutes = reroutes + excluded.reroutes,
    follow_ups = follow_ups + excluded.follow_ups, sticky = sticky + excluded.sticky, switched = switched + excluded.switched,
    timed = timed + excluded.timed, tokens = tokens + excluded.tokens, latency_ms = latency_ms + excluded.latency_ms;
  INSERT INTO decision_hours SELECT
    CAST(NEW.created_at / 3600000 AS INTEGER), NEW.expert,
    NEW.routed_expert, NEW.status,
    1, NEW.fallback_reason IS NOT NULL, NEW.fallback_reason IS 'expert_busy', NEW.rerouted_from IS NOT NULL,
    NEW.follow_up = 1, NEW.route_reason IS 'sticky', NEW.route_reason IS 'switched',
    NEW.completion_tokens IS NOT NULL AND NEW.latency_ms IS NOT NULL,
    CASE WHEN NEW.latency_ms IS NOT NULL THEN COALESCE(NEW.completion_tokens, 0) ELSE 0 END,
    CASE WHEN NEW.completion_tokens IS NOT NULL THEN COALESCE(NEW.latency_ms, 0) ELSE 0 END
  WHERE NEW.status <> 'pending'
  ON CONFLICT (hour, expert, routed_expert, status) DO UPDATE SET
    n = n + excluded.n, fallbacks = fallbacks + excluded.fallbacks, busy = busy + excluded.busy, reroutes = reroutes + excluded.reroutes,
    follow_ups = follow_ups + excluded.follow_ups, sticky = sticky + excluded.sticky, switched = switched + excluded.switched,
    timed = timed + excluded.timed, tokens = tokens + excluded.tokens, latency_ms = latency_ms + excluded.latency_ms;
END;

CREATE TRIGGER decisions_text_deleted AFTER DELETE ON decisions
  WHEN OLD.query IS NOT NULL OR OLD.answer IS NOT NULL
  BEGIN UPDATE text_removals SET removals = removals + 1 WHERE id = 1; END;

CREATE TRIGGER decisions_text_removed AFTER UPDATE OF query, answer ON decisions
  WHEN (OLD.query IS NOT NULL AND NEW.query IS NULL) OR (OLD.answer IS NOT NULL AND NEW.answer IS NULL)
  BEGIN UPDATE text_removals SET removals = removals + 1 WHERE id = 1; END;

CREATE TRIGGER vote_hours_delete AFTER DELETE ON feedback BEGIN
  UPDATE vote_hours SET n = n - 1 WHERE hour = CAST(OLD.created_at / 3600000 AS INTEGER) AND vote = OLD.vote
    AND corrected_expert = COALESCE(OLD.corrected_expert, '')
    AND (expert, routed_expert, rerouted) = (SELECT d.expert,
      d.routed_expert,
      d.rerouted_from IS NOT NULL FROM decisions d WHERE d.id = OLD.decision_id);
END;

CREATE TRIGGER vote_hours_insert AFTER INSERT ON feedback BEGIN
  INSERT INTO vote_hours
  SELECT CAST(NEW.created_at / 3600000 AS INTEGER), d.expert,
    d.routed_expert,
    d.rerouted_from IS NOT NULL, NEW.vote, COALESCE(NEW.corrected_expert, ''), 1
  FROM decisions d WHERE d.id = NEW.decision_id
  ON CONFLICT (hour, expert, routed_expert, rerouted, vote, corrected_expert) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER vote_hours_update AFTER UPDATE OF created_at, vote, corrected_expert ON feedback BEGIN
  UPDATE vote_hours SET n = n - 1 WHERE hour = CAST(OLD.created_at / 3600000 AS INTEGER) AND vote = OLD.vote
    AND corrected_expert = COALESCE(OLD.corrected_expert, '')
    AND (expert, routed_expert, rerouted) = (SELECT d.expert,
      d.routed_expert,
      d.rerouted_from IS NOT NULL FROM decisions d WHERE d.id = OLD.decision_id);
  INSERT INTO vote_hours
  SELECT CAST(NEW.created_at / 3600000 AS INTEGER), d.expert,
    d.routed_expert,
    d.rerouted_from IS NOT NULL, NEW.vote, COALESCE(NEW.corrected_expert, ''), 1
  FROM decisions d WHERE d.id = NEW.decision_id
  ON CONFLICT (hour, expert, routed_expert, rerouted, vote, corrected_expert) DO UPDATE SET n = n + 1;
END;
