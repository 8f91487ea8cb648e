-- Every trained gate, its metrics, and which one routes now (at most one row has active = 1).
CREATE TABLE gate_versions (
  version           TEXT PRIMARY KEY,
  created_at        INTEGER NOT NULL,
  path              TEXT NOT NULL,
  metrics_json      TEXT NOT NULL DEFAULT '{}',
  examples          INTEGER NOT NULL DEFAULT 0,
  feedback_examples INTEGER NOT NULL DEFAULT 0,
  promoted          INTEGER NOT NULL DEFAULT 0,
  active            INTEGER NOT NULL DEFAULT 0,
  reason            TEXT
);
CREATE UNIQUE INDEX gate_versions_one_active ON gate_versions(active) WHERE active = 1;
