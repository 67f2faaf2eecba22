-- Projection versions: each is a complete set of projections in its own schema.
-- Exactly one is live (the one the query API reads and the consumer folds into).
CREATE TABLE assessment.versions (
    version            integer PRIMARY KEY,
    schema_name        text NOT NULL UNIQUE,
    policy_version     text NOT NULL,
    policy_fingerprint text NOT NULL,
    policy             jsonb NOT NULL,
    state              text NOT NULL CHECK (state IN ('building', 'ready', 'live', 'failed')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    live_since         timestamptz,
    note               text
);
CREATE UNIQUE INDEX versions_one_live ON assessment.versions ((true)) WHERE state = 'live';
CREATE SEQUENCE assessment.version_numbers;
