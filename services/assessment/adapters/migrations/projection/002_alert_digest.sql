-- A digest of each alert's content, so that recomputing a unit-year rewrites only the
-- alerts that changed (NULL: written before this column; rewritten on next change).
ALTER TABLE alerts ADD COLUMN digest bytea;
