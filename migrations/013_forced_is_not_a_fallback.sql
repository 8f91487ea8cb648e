-- A forced choice (the caller named the expert, e.g. /v1 `model: "finance"`) is logged with fallback_reason `forced`,
-- but it is not a fallback: /stats already left it out of the fallback rate, the dashboard's hourly counts did not.
-- The triggers are migration 011's with `fallbacks` excluding `forced`; the stored counts are rebuilt from the rows.
DROP TRIGGER decision_hours_delete;
DROP TRIGGER decision_hours_insert;
DROP TRIGGER decision_hours_update;

UPDATE decision_hours SET fallbacks = fallbacks - (SELECT COUNT(*) FROM decisions d
  WHERE d.fallback_reason = 'forced' AND d.status = decision_hours.status AND d.expert = decision_hours.expert
    AND d.routed_expert = decision_hours.routed_expert AND CAST(d.created_at / 3600000 AS INTEGER) = decision_hours.hour)
WHERE EXISTS (SELECT 1 FROM decisions d WHERE d.fallback_reason = 'forced');

CREATE TRIGGER decision_hours_delete AFTER DELETE ON decisions WHEN OLD.status <> 'pending' BEGIN
  INSERT INTO decision_hours VALUES (
    CAST(OLD.created_at / 3600000 AS INTEGER), OLD.expert,
    OLD.routed_expert, OLD.status,
    -1, -(OLD.fallback_reason IS NOT NULL AND OLD.fallback_reason IS NOT 'forced'), -(OLD.fallback_reason IS 'expert_busy'), -(OLD.rerouted_from IS NOT NULL),
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
    1, NEW.fallback_reason IS NOT NULL AND NEW.fallback_reason IS NOT 'forced', NEW.fallback_reason IS 'expert_busy', NEW.rerouted_from IS NOT NULL,
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
    -1, -(OLD.fallback_reason IS NOT NULL AND OLD.fallback_reason IS NOT 'forced'), -(OLD.fallback_reason IS 'expert_busy'), -(OLD.rerouted_from IS NOT NULL),
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
    1, NEW.fallback_reason IS NOT NULL AND NEW.fallback_reason IS NOT 'forced', NEW.fallback_reason IS 'expert_busy', NEW.rerouted_from IS NOT NULL,
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
