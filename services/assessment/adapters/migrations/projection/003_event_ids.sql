-- The identity of each folded event, whatever its type: (source, event_id) names one
-- event. The copy that stands is the first in the total order (recorded_at, partition,
-- offset), which the live fold and the rebuild both apply; a copy with another digest
-- is a conflicting duplicate.
CREATE TABLE event_ids (
    source      text NOT NULL,
    event_id    text NOT NULL,
    digest      bytea NOT NULL,
    recorded_at timestamptz NOT NULL,
    partition   integer NOT NULL,
    "offset"    bigint NOT NULL,
    PRIMARY KEY (source, event_id)
);
