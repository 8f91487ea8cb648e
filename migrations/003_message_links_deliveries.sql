-- Which platform message shows which decision's answer (reactions on it become votes).
CREATE TABLE message_links (
  platform    TEXT NOT NULL,
  message_ref TEXT NOT NULL,
  decision_id TEXT NOT NULL REFERENCES decisions(id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (platform, message_ref)
);
CREATE INDEX message_links_decision ON message_links(decision_id);

-- Deliveries already claimed for answering, so a retried or replayed event is answered once, even across restarts.
CREATE TABLE deliveries (
  platform   TEXT NOT NULL,
  key        TEXT NOT NULL,
  claimed_at INTEGER NOT NULL,
  PRIMARY KEY (platform, key)
);
CREATE INDEX deliveries_claimed_at ON deliveries(claimed_at);
