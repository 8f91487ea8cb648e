-- The admin dashboard's counts per UTC hour, kept by triggers, so its reads cost the hours shown instead of the rows
-- logged (scanning 100k decisions took 100-450 ms; the dashboard answers in 50 ms p99). `routed_expert` is the routing
-- choice being judged: the follow-up rule's chosen_expert when there is one, else the gate's; for a re-route, the
-- original gate's choice (copied into gate_expert). A question counts once it is answered or failed: counting the
-- pending row too would cost two more writes per question on the bot's hot path, for a few seconds of visibility.
-- The routing choice a decision is judged by, defined once (a virtual column: computed on read, nothing stored).
ALTER TABLE decisions ADD COLUMN routed_expert TEXT
  GENERATED ALWAYS AS (CASE WHEN rerouted_from IS NOT NULL THEN gate_expert ELSE COALESCE(chosen_expert, gate_expert) END) VIRTUAL;

CREATE TABLE decision_hours (
  hour          INTEGER NOT NULL,                 -- created_at / 3600000
  expert        TEXT NOT NULL,                    -- who answered
  routed_expert TEXT NOT NULL,
  status        TEXT NOT NULL,                    -- answered or failed
  n             INTEGER NOT NULL,
  fallbacks     INTEGER NOT NULL,                 -- fallback_reason IS NOT NULL
  busy          INTEGER NOT NULL,                 -- fallback_reason = 'expert_busy' (routed_expert was busy)
  reroutes      INTEGER NOT NULL,
  follow_ups    INTEGER NOT NULL,
  sticky        INTEGER NOT NULL,
  switched      INTEGER NOT NULL,
  timed         INTEGER NOT NULL,                 -- answers with completion_tokens and latency_ms
  tokens        INTEGER NOT NULL,
  latency_ms    INTEGER NOT NULL,
  PRIMARY KEY (hour, expert, routed_expert, status)
) WITHOUT ROWID;

INSERT INTO decision_hours
SELECT CAST(created_at / 3600000 AS INTEGER), expert,
  routed_expert, status,
  COUNT(*), SUM(fallback_reason IS NOT NULL), SUM(fallback_reason IS 'expert_busy'), SUM(rerouted_from IS NOT NULL),
  SUM(follow_up = 1), SUM(route_reason IS 'sticky'), SUM(route_reason IS 'switched'),
  SUM(completion_tokens IS NOT NULL AND latency_ms IS NOT NULL),
  COALESCE(SUM(CASE WHEN latency_ms IS NOT NULL THEN completion_tokens END), 0),
  COALESCE(SUM(CASE WHEN completion_tokens IS NOT NULL THEN latency_ms END), 0)
FROM decisions WHERE status <> 'pending' GROUP BY 1, 2, 3, 4;

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

-- An update moves the row's contribution out of its old hour/expert/status and into the new one (completing a pending
-- row only adds it).
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

-- Votes per UTC hour of the vote (a vote's decision is never deleted before it: `moe forget` and retention keep the rows), with what the rated decision was: its answering expert, the routing choice, whether it
-- was a re-route ("ask another expert"), and the correction ('' for none).
CREATE TABLE vote_hours (
  hour             INTEGER NOT NULL,              -- feedback.created_at / 3600000
  expert           TEXT NOT NULL,
  routed_expert    TEXT NOT NULL,
  rerouted         INTEGER NOT NULL,
  vote             INTEGER NOT NULL,
  corrected_expert TEXT NOT NULL,
  n                INTEGER NOT NULL,
  PRIMARY KEY (hour, expert, routed_expert, rerouted, vote, corrected_expert)
) WITHOUT ROWID;

INSERT INTO vote_hours
SELECT CAST(f.created_at / 3600000 AS INTEGER), d.expert,
  d.routed_expert,
  d.rerouted_from IS NOT NULL, f.vote, COALESCE(f.corrected_expert, ''), COUNT(*)
FROM feedback f JOIN decisions d ON d.id = f.decision_id GROUP BY 1, 2, 3, 4, 5, 6;

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

CREATE TRIGGER vote_hours_delete AFTER DELETE ON feedback BEGIN
  UPDATE vote_hours SET n = n - 1 WHERE hour = CAST(OLD.created_at / 3600000 AS INTEGER) AND vote = OLD.vote
    AND corrected_expert = COALESCE(OLD.corrected_expert, '')
    AND (expert, routed_expert, rerouted) = (SELECT d.expert,
      d.routed_expert,
      d.rerouted_from IS NOT NULL FROM decisions d WHERE d.id = OLD.decision_id);
END;
