-- ranking_counts_add (migration 006) once more, in PL/pgSQL: a live fold's statement
-- triggers call it two to three dozen times per batch, and most of those calls carry no
-- delta (a scope cleared that held no row, warnings written that are not active). A SQL
-- function planned its INSERT and DELETE on every call; PL/pgSQL keeps the plans for the
-- session and returns at once when there is nothing to add.
CREATE OR REPLACE FUNCTION ranking_counts_add(deltas ranking_delta[]) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF coalesce(cardinality(deltas), 0) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO ranking_counts AS r
    SELECT d.month, d.unit_id, sum(d.filed), sum(d.substantiated), sum(d.warnings),
           sum(d.yellow_cards), sum(d.red_cards)
      FROM unnest(deltas) AS d
     GROUP BY d.month, d.unit_id
     ORDER BY d.month, d.unit_id
    ON CONFLICT (month, unit_id) DO UPDATE
       SET filed = r.filed + excluded.filed,
           substantiated = r.substantiated + excluded.substantiated,
           warnings = r.warnings + excluded.warnings,
           yellow_cards = r.yellow_cards + excluded.yellow_cards,
           red_cards = r.red_cards + excluded.red_cards;
    DELETE FROM ranking_counts r
     USING (SELECT DISTINCT d.month, d.unit_id FROM unnest(deltas) AS d) AS z
     WHERE r.month = z.month AND r.unit_id = z.unit_id
       AND r.filed = 0 AND r.substantiated = 0 AND r.warnings = 0
       AND r.yellow_cards = 0 AND r.red_cards = 0;
END $$;
