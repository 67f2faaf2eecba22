-- One projection version. Applied with search_path set to the version's schema.

-- Where this version has got to in events.v1: written in the same transaction as
-- the rows below, so a redelivered record at or below it is skipped.
CREATE TABLE positions (
    topic      text    NOT NULL,
    partition  integer NOT NULL,
    "offset"   bigint  NOT NULL,
    PRIMARY KEY (topic, partition)
);

-- Facts: what the events said, one row per distinct event (source, event_id).
CREATE TABLE complaint_filings (
    source       text NOT NULL,
    event_id     text NOT NULL,
    complaint_id text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    unit_id      text NOT NULL,
    staff_id     text,
    channel      text NOT NULL,
    category     text NOT NULL,
    handling     text NOT NULL,
    PRIMARY KEY (source, event_id)
);
CREATE INDEX complaint_filings_by_complaint ON complaint_filings (complaint_id);

CREATE TABLE complaint_verdicts (
    source       text NOT NULL,
    event_id     text NOT NULL,
    complaint_id text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    unit_id      text NOT NULL,
    staff_id     text,
    outcome      text NOT NULL,
    category     text,
    obstructed   boolean NOT NULL,
    PRIMARY KEY (source, event_id)
);
CREATE INDEX complaint_verdicts_by_complaint ON complaint_verdicts (complaint_id);

CREATE TABLE inspections (
    source        text NOT NULL,
    event_id      text NOT NULL,
    inspection_id text NOT NULL,
    occurred_at   timestamptz NOT NULL,
    unit_id       text NOT NULL,
    mode          text NOT NULL,
    finding_count integer NOT NULL,
    month         text NOT NULL,
    PRIMARY KEY (source, event_id)
);
CREATE INDEX inspections_by_unit_month ON inspections (unit_id, month);

CREATE TABLE findings (
    source      text NOT NULL,
    event_id    text NOT NULL,
    position    integer NOT NULL,
    occurred_at timestamptz NOT NULL,
    unit_id     text NOT NULL,
    staff_id    text,
    code        text NOT NULL,
    unit_wide   boolean NOT NULL,
    month       text NOT NULL,
    PRIMARY KEY (source, event_id, position)
);
CREATE INDEX findings_by_unit_month ON findings (unit_id, month);
CREATE INDEX findings_by_staff_month ON findings (staff_id, month) WHERE staff_id IS NOT NULL;

CREATE TABLE commendations (
    source          text NOT NULL,
    event_id        text NOT NULL,
    commendation_id text NOT NULL,
    occurred_at     timestamptz NOT NULL,
    unit_id         text NOT NULL,
    staff_id        text,
    kind            text NOT NULL,
    month           text NOT NULL,
    PRIMARY KEY (source, event_id)
);
CREATE INDEX commendations_by_unit_month ON commendations (unit_id, month);
CREATE INDEX commendations_by_staff_month ON commendations (staff_id, month) WHERE staff_id IS NOT NULL;

-- Derived: recomputed per scope by the rule engine, replaced whole.
CREATE TABLE complaints (
    complaint_id         text PRIMARY KEY,
    unit_id              text NOT NULL,
    staff_id             text,
    filing_event_id      text NOT NULL,
    filed_at             timestamptz NOT NULL,
    filed_month          text NOT NULL,
    channel              text NOT NULL,
    category             text NOT NULL,
    handling             text NOT NULL,
    final_category       text NOT NULL,
    deadline             timestamptz NOT NULL,
    deadline_month       text NOT NULL,
    resolved_at          timestamptz,
    resolved_month       text,
    resolved_late        boolean NOT NULL,
    outcome              text,
    outcome_at           timestamptz,
    outcome_month        text,
    verdict_event_id     text,
    responsible_staff_id text,
    obstructed           boolean NOT NULL
);
CREATE INDEX complaints_by_unit_filed ON complaints (unit_id, filed_month);
CREATE INDEX complaints_by_unit_outcome ON complaints (unit_id, outcome_month);
CREATE INDEX complaints_open_by_deadline ON complaints (deadline) WHERE resolved_at IS NULL;
CREATE INDEX complaints_by_responsible ON complaints (responsible_staff_id, outcome_month)
    WHERE responsible_staff_id IS NOT NULL;

CREATE TABLE warnings (
    id             text PRIMARY KEY,
    scope          text NOT NULL,
    staff_id       text NOT NULL,
    unit_id        text NOT NULL,
    rule           text NOT NULL,
    period         text NOT NULL,
    year           integer NOT NULL,
    issued_at      timestamptz NOT NULL,
    revoked_at     timestamptz,
    evidence       text[] NOT NULL,
    status         text NOT NULL,
    policy_version text NOT NULL
);
CREATE INDEX warnings_by_scope ON warnings (scope);
CREATE INDEX warnings_by_unit_year ON warnings (unit_id, year);
CREATE INDEX warnings_by_staff_year ON warnings (staff_id, year);
CREATE INDEX warnings_by_time ON warnings (issued_at, id);

CREATE TABLE alerts (
    id             text PRIMARY KEY,
    scope          text NOT NULL,
    unit_id        text NOT NULL,
    rule           text NOT NULL,
    level          text NOT NULL,
    year           integer NOT NULL,
    month          text NOT NULL,
    issued_at      timestamptz NOT NULL,
    revoked_at     timestamptz,
    evidence       text[] NOT NULL,
    status         text NOT NULL,
    policy_version text NOT NULL
);
CREATE INDEX alerts_by_scope ON alerts (scope);
CREATE INDEX alerts_by_unit_year ON alerts (unit_id, year);
CREATE INDEX alerts_by_time ON alerts (issued_at, id);
