-- Pruning old gate versions: a row is first marked pruned (hidden from listing and rollback), then its file and the
-- row are deleted; a run interrupted between the steps is finished by the next one.
ALTER TABLE gate_versions ADD COLUMN pruned_at INTEGER;
