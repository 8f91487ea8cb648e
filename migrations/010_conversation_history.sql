-- History for the expert reads a conversation's turns newest first, and a re-routed turn's later answer first: the
-- index now covers that order (turn, then created_at), so the read needs no sort.
DROP INDEX decisions_conversation;
CREATE INDEX decisions_conversation ON decisions(conversation_id, turn, created_at) WHERE conversation_id IS NOT NULL;

-- A running bot keeps recent conversations' turns in memory; this count of decisions whose question or answer text was
-- removed (retention, `moe forget`, from any process) tells it when to read them back from the log.
CREATE TABLE text_removals (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  removals INTEGER NOT NULL
);
INSERT INTO text_removals (id, removals) VALUES (1, 0);
CREATE TRIGGER decisions_text_removed AFTER UPDATE OF query, answer ON decisions
  WHEN (OLD.query IS NOT NULL AND NEW.query IS NULL) OR (OLD.answer IS NOT NULL AND NEW.answer IS NULL)
  BEGIN UPDATE text_removals SET removals = removals + 1 WHERE id = 1; END;
CREATE TRIGGER decisions_text_deleted AFTER DELETE ON decisions
  WHEN OLD.query IS NOT NULL OR OLD.answer IS NOT NULL
  BEGIN UPDATE text_removals SET removals = removals + 1 WHERE id = 1; END;
