-- Records of events.v1 the fold parked: queryable (reason, error, origin, what the
-- event said when it decoded) and retryable (the raw bytes). Written in the same
-- transaction as the batch's positions; never holds complainant data outside `raw`.
CREATE TABLE assessment.deadletters (
    id               bigserial PRIMARY KEY,
    origin_topic     text NOT NULL,
    origin_partition integer NOT NULL,
    origin_offset    bigint NOT NULL,
    reason           text NOT NULL,
    error            text NOT NULL,
    source           text,
    event_id         text,
    event_type       text,
    raw_key          bytea,
    raw              bytea,
    parked_at        timestamptz NOT NULL DEFAULT now(),
    retried_at       timestamptz,
    retry_outcome    text,
    UNIQUE (origin_topic, origin_partition, origin_offset)
);
CREATE INDEX deadletters_by_time ON assessment.deadletters (parked_at, id);
CREATE INDEX deadletters_by_reason ON assessment.deadletters (reason, parked_at, id);

-- Outbox: records to publish to Kafka after the transaction that wrote them commits.
-- Generic (topic, key, value, headers); the relay publishes in id order, so the
-- records of one key keep their order, and marks each row published (at least once).
CREATE TABLE assessment.outbox (
    id            bigserial PRIMARY KEY,
    topic         text NOT NULL,
    key           bytea,
    value         bytea,
    header_names  text[] NOT NULL,
    header_values bytea[] NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
CREATE INDEX outbox_unpublished ON assessment.outbox (id) WHERE published_at IS NULL;
