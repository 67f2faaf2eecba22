-- The units' ranking (ranking_views.py) per month and unit, kept by the database in the
-- transaction that changes what it counts: the live fold's and the rebuild's alike
-- (statement triggers on complaints, warnings and alerts). Counted exactly as the
-- monthly stats count them: complaints by filing month, substantiated ones by verdict
-- month, active warnings by period, active alerts by month (yellow cards: collective
-- warnings; red cards: leadership accountability). A month and unit with nothing to count
-- has no row, so the table equals the counts of the rows it is kept from, however they
-- were written (tests/support/projections.py compares them).

CREATE TABLE ranking_counts (
    month         text    NOT NULL,
    unit_id       text    NOT NULL,
    filed         integer NOT NULL,
    substantiated integer NOT NULL,
    warnings      integer NOT NULL,
    yellow_cards  integer NOT NULL,
    red_cards     integer NOT NULL,
    PRIMARY KEY (month, unit_id)
);

CREATE TYPE ranking_delta AS (
    month         text,
    unit_id       text,
    filed         integer,
    substantiated integer,
    warnings      integer,
    yellow_cards  integer,
    red_cards     integer
);

-- Adds the deltas (in key order, so that two transactions lock rows in the same order)
-- and removes the rows left with nothing.
CREATE FUNCTION ranking_counts_add(deltas ranking_delta[]) RETURNS void
LANGUAGE sql SET search_path FROM CURRENT AS $$
    INSERT INTO ranking_counts AS r
    SELECT month, unit_id, sum(filed), sum(substantiated), sum(warnings),
           sum(yellow_cards), sum(red_cards)
      FROM unnest(deltas)
     GROUP BY month, unit_id
     ORDER BY month, unit_id
    ON CONFLICT (month, unit_id) DO UPDATE
       SET filed = r.filed + excluded.filed,
           substantiated = r.substantiated + excluded.substantiated,
           warnings = r.warnings + excluded.warnings,
           yellow_cards = r.yellow_cards + excluded.yellow_cards,
           red_cards = r.red_cards + excluded.red_cards;
    DELETE FROM ranking_counts r
     USING (SELECT DISTINCT month, unit_id FROM unnest(deltas)) AS d
     WHERE r.month = d.month AND r.unit_id = d.unit_id
       AND r.filed = 0 AND r.substantiated = 0 AND r.warnings = 0
       AND r.yellow_cards = 0 AND r.red_cards = 0;
$$;

-- Each trigger sees the rows its statement wrote as `added` and those it removed as
-- `removed` (an UPDATE: both).
CREATE FUNCTION ranking_counts_of_complaints() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM ranking_counts_add(ARRAY(
            SELECT (filed_month, unit_id, 1, 0, 0, 0, 0)::ranking_delta FROM added
            UNION ALL
            SELECT (outcome_month, unit_id, 0, 1, 0, 0, 0)::ranking_delta FROM added
             WHERE outcome = 'substantiated'));
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM ranking_counts_add(ARRAY(
            SELECT (filed_month, unit_id, -1, 0, 0, 0, 0)::ranking_delta FROM removed
            UNION ALL
            SELECT (outcome_month, unit_id, 0, -1, 0, 0, 0)::ranking_delta FROM removed
             WHERE outcome = 'substantiated'));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION ranking_counts_of_warnings() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM ranking_counts_add(ARRAY(
            SELECT (period, unit_id, 0, 0, 1, 0, 0)::ranking_delta FROM added
             WHERE status = 'active'));
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM ranking_counts_add(ARRAY(
            SELECT (period, unit_id, 0, 0, -1, 0, 0)::ranking_delta FROM removed
             WHERE status = 'active'));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION ranking_counts_of_alerts() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM ranking_counts_add(ARRAY(
            SELECT (month, unit_id, 0, 0, 0, (level = 'collective_warning')::integer,
                    (level = 'leadership')::integer)::ranking_delta
              FROM added WHERE status = 'active'));
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM ranking_counts_add(ARRAY(
            SELECT (month, unit_id, 0, 0, 0, -(level = 'collective_warning')::integer,
                    -(level = 'leadership')::integer)::ranking_delta
              FROM removed WHERE status = 'active'));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER ranking_counts_insert AFTER INSERT ON complaints
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION ranking_counts_of_complaints();
CREATE TRIGGER ranking_counts_update AFTER UPDATE ON complaints
    REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION ranking_counts_of_complaints();
CREATE TRIGGER ranking_counts_delete AFTER DELETE ON complaints
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION ranking_counts_of_complaints();

CREATE TRIGGER ranking_counts_insert AFTER INSERT ON warnings
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION ranking_counts_of_warnings();
CREATE TRIGGER ranking_counts_update AFTER UPDATE ON warnings
    REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION ranking_counts_of_warnings();
CREATE TRIGGER ranking_counts_delete AFTER DELETE ON warnings
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION ranking_counts_of_warnings();

CREATE TRIGGER ranking_counts_insert AFTER INSERT ON alerts
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION ranking_counts_of_alerts();
CREATE TRIGGER ranking_counts_update AFTER UPDATE ON alerts
    REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION ranking_counts_of_alerts();
CREATE TRIGGER ranking_counts_delete AFTER DELETE ON alerts
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION ranking_counts_of_alerts();

-- What is there already (the triggers above hold their tables' writers off until this
-- migration commits, so nothing is counted twice or missed).
SELECT ranking_counts_add(ARRAY(
    SELECT (filed_month, unit_id, 1, 0, 0, 0, 0)::ranking_delta FROM complaints
    UNION ALL
    SELECT (outcome_month, unit_id, 0, 1, 0, 0, 0)::ranking_delta FROM complaints
     WHERE outcome = 'substantiated'
    UNION ALL
    SELECT (period, unit_id, 0, 0, 1, 0, 0)::ranking_delta FROM warnings
     WHERE status = 'active'
    UNION ALL
    SELECT (month, unit_id, 0, 0, 0, (level = 'collective_warning')::integer,
            (level = 'leadership')::integer)::ranking_delta
      FROM alerts WHERE status = 'active'));
