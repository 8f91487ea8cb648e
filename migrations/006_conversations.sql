-- Conversations: a Discord reply chain or thread, a Slack thread, an HTTP conversationId. Follow-ups in one keep its
-- context and, unless the follow-up rule switches, its expert. One row per platform key: the conversation running
-- there now (an idle or over-long one is replaced by a fresh one under the same key, with a new id).
CREATE TABLE conversations (
  key           TEXT PRIMARY KEY,                 -- discord:<channel or thread>:<root message>, slack:<channel>:<thread_ts>, http:<id>
  id            TEXT NOT NULL UNIQUE,             -- this conversation; decisions refer to it
  platform      TEXT NOT NULL,
  started_at    INTEGER NOT NULL,                 -- ms since epoch
  updated_at    INTEGER NOT NULL,
  turns         INTEGER NOT NULL,
  expert        TEXT NOT NULL,                    -- expert of the last turn: a follow-up stays with it unless the rule switches
  evidence_json TEXT NOT NULL                     -- the rule's decayed gate probabilities of the earlier user turns (no text)
);

-- Each question's place in its conversation and how the follow-up rule routed it. For a follow-up, gate_expert, label,
-- confidence and probabilities are what the gate said about the message alone; chosen_expert is the rule's choice
-- (expert is who answered: the fallback when the chosen one was busy or unavailable).
ALTER TABLE decisions ADD COLUMN conversation_id TEXT;
ALTER TABLE decisions ADD COLUMN turn INTEGER;                                  -- 1-based
ALTER TABLE decisions ADD COLUMN follow_up INTEGER NOT NULL DEFAULT 0;
ALTER TABLE decisions ADD COLUMN chosen_expert TEXT;
ALTER TABLE decisions ADD COLUMN route_reason TEXT CHECK (route_reason IN ('fresh', 'sticky', 'switched'));
-- History for the expert: a conversation's turns, newest first.
CREATE INDEX decisions_conversation ON decisions(conversation_id, turn) WHERE conversation_id IS NOT NULL;
