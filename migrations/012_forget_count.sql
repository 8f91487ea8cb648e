-- `moe forget` with LOG_QUERY_TEXT=false clears only the user's id (there is no text to remove): count that as well, so
-- a running bot drops the user's turns it keeps in memory when the count changes, instead of checking every turn it
-- holds whenever any other connection commits (the background checkpointer's commits included).
CREATE TRIGGER decisions_user_forgotten AFTER UPDATE OF user_id ON decisions
  WHEN OLD.user_id IS NOT NULL AND NEW.user_id IS NULL
  BEGIN UPDATE text_removals SET removals = removals + 1 WHERE id = 1; END;
