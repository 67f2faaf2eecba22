"""The statements of the projector's store, built once per projection schema."""

from __future__ import annotations

from functools import cache

from services.assessment.adapters.fold_locks import lock_statement
from services.assessment.adapters.packed import unnest_packed
from services.assessment.adapters.projection_rows import (
    COMPLAINT_KINDS,
    FACT_KINDS,
    IDENTITY_KINDS,
)
from services.assessment.adapters.schema import checked_schema

_WARNING_COLUMNS = (
    "id, scope, staff_id, unit_id, rule, period, year, issued_at, revoked_at, evidence, "
    "status, policy_version"
)
_ALERT_COLUMNS = (
    "id, scope, unit_id, rule, level, year, month, issued_at, revoked_at, evidence, "
    "status, policy_version, digest"
)
_COMPLAINT_COLUMNS = (
    "complaint_id, unit_id, staff_id, filing_event_id, filed_at, filed_month, channel, "
    "category, handling, final_category, deadline, deadline_month, resolved_at, "
    "resolved_month, resolved_late, outcome, outcome_at, outcome_month, verdict_event_id, "
    "responsible_staff_id, obstructed"
)


class Sql:
    """The statements of one projection schema."""

    def __init__(self, schema: str) -> None:
        s = checked_schema(schema)
        self.insert_filings = f"""
            INSERT INTO {s}.complaint_filings
                (source, event_id, occurred_at, complaint_id, unit_id, staff_id, channel,
                 category, handling)
            SELECT * FROM unnest({unnest_packed(FACT_KINDS["complaint_filings"])})
            ON CONFLICT DO NOTHING RETURNING source, event_id"""
        self.insert_verdicts = f"""
            INSERT INTO {s}.complaint_verdicts
                (source, event_id, occurred_at, complaint_id, unit_id, staff_id, outcome,
                 category, obstructed)
            SELECT * FROM unnest({unnest_packed(FACT_KINDS["complaint_verdicts"])})
            ON CONFLICT DO NOTHING RETURNING source, event_id"""
        self.insert_inspections = f"""
            INSERT INTO {s}.inspections
                (source, event_id, occurred_at, inspection_id, unit_id, mode, finding_count,
                 month)
            SELECT * FROM unnest({unnest_packed(FACT_KINDS["inspections"])})
            ON CONFLICT DO NOTHING RETURNING source, event_id"""
        self.insert_findings = f"""
            INSERT INTO {s}.findings
                (source, event_id, occurred_at, position, unit_id, staff_id, code, unit_wide,
                 month)
            SELECT * FROM unnest({unnest_packed(FACT_KINDS["findings"])})
            ON CONFLICT DO NOTHING"""
        self.insert_commendations = f"""
            INSERT INTO {s}.commendations
                (source, event_id, occurred_at, commendation_id, unit_id, staff_id, kind, month)
            SELECT * FROM unnest({unnest_packed(FACT_KINDS["commendations"])})
            ON CONFLICT DO NOTHING RETURNING source, event_id"""
        self.filings_of = f"""
            SELECT source, event_id, occurred_at, complaint_id, unit_id, staff_id, channel,
                   category, handling
            FROM {s}.complaint_filings WHERE complaint_id = ANY($1::text[])"""
        self.verdicts_of = f"""
            SELECT source, event_id, occurred_at, complaint_id, unit_id, staff_id, outcome,
                   category, obstructed
            FROM {s}.complaint_verdicts WHERE complaint_id = ANY($1::text[])"""
        self.attendance_findings = f"""
            SELECT f.source, f.event_id, f.occurred_at, f.position, f.unit_id, f.staff_id,
                   f.code, f.unit_wide, i.inspection_id
            FROM {s}.findings f
            JOIN unnest($1::text[], $2::text[]) AS wanted (staff_id, month)
              ON f.staff_id = wanted.staff_id AND f.month = wanted.month
            JOIN {s}.inspections i ON i.source = f.source AND i.event_id = f.event_id
            WHERE f.code = ANY($3::text[])"""
        self.delete_complaints = f"DELETE FROM {s}.complaints WHERE complaint_id = ANY($1::text[])"
        self.insert_complaints = f"""
            INSERT INTO {s}.complaints ({_COMPLAINT_COLUMNS})
            SELECT * FROM unnest({unnest_packed(COMPLAINT_KINDS)})"""
        self.delete_warnings = f"""
            DELETE FROM {s}.warnings WHERE scope = ANY($1::text[])
            RETURNING {_WARNING_COLUMNS}"""
        self.insert_warnings = f"""
            INSERT INTO {s}.warnings ({_WARNING_COLUMNS})
            SELECT id, scope, staff_id, unit_id, rule, period, year, issued_at, revoked_at,
                   string_to_array(evidence, chr(31)), status, policy_version
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                        $7::int[], $8::timestamptz[], $9::timestamptz[], $10::text[],
                        $11::text[], $12::text[])
                 AS r (id, scope, staff_id, unit_id, rule, period, year, issued_at, revoked_at,
                       evidence, status, policy_version)"""
        self.delete_alerts = f"""
            DELETE FROM {s}.alerts WHERE scope = ANY($1::text[])
            RETURNING {_ALERT_COLUMNS}"""
        self.insert_alerts = f"""
            INSERT INTO {s}.alerts ({_ALERT_COLUMNS})
            SELECT id, scope, unit_id, rule, level, year, month, issued_at, revoked_at,
                   string_to_array(evidence, chr(31)), status, policy_version, digest
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[],
                        $7::text[], $8::timestamptz[], $9::timestamptz[], $10::text[],
                        $11::text[], $12::text[], $13::bytea[])
                 AS r (id, scope, unit_id, rule, level, year, month, issued_at, revoked_at,
                       evidence, status, policy_version, digest)"""
        self.alert_digests = f"SELECT id, digest FROM {s}.alerts WHERE scope = ANY($1::text[])"
        self.delete_alerts_by_id = f"""
            DELETE FROM {s}.alerts WHERE id = ANY($1::text[]) RETURNING {_ALERT_COLUMNS}"""
        # Only what the timeline reads (no evidence): unit-years are recomputed often.
        self.unit_year_inputs = f"""
            SELECT 'w' AS kind, id, unit_id, year, issued_at, revoked_at, status, NULL AS rule
              FROM {s}.warnings
              JOIN unnest($1::text[], $2::int[]) AS wanted (unit_id, year)
             USING (unit_id, year)
            UNION ALL
            SELECT 'a', id, unit_id, year, issued_at, revoked_at, status, rule
              FROM {s}.alerts
              JOIN unnest($1::text[], $2::int[]) AS wanted (unit_id, year)
             USING (unit_id, year)
             WHERE rule IN ('obstruction', 'unit_wide_violation')"""
        self.identities = f"""
            SELECT e.source, e.event_id, e.digest, e.recorded_at, e.partition, e."offset"
            FROM {s}.event_ids e
            JOIN unnest($1::text[], $2::text[]) AS k (source, event_id) USING (source, event_id)"""
        # New pairs are claimed by inserting them (a concurrent fold of the same pair
        # waits on the uncommitted row, then finds it); the others are locked as read.
        # Both in key order.
        self.claim_identities = f"""
            INSERT INTO {s}.event_ids (source, event_id, digest, recorded_at, partition, "offset")
            SELECT * FROM unnest({unnest_packed(IDENTITY_KINDS)})
                AS c (source, event_id, digest, recorded_at, partition, "offset")
            ORDER BY source, event_id
            ON CONFLICT DO NOTHING RETURNING source, event_id"""
        self.locked_identities = f"""
            SELECT e.source, e.event_id, e.digest, e.recorded_at, e.partition, e."offset"
            FROM {s}.event_ids e
            JOIN unnest($1::text[], $2::text[]) AS k (source, event_id) USING (source, event_id)
            ORDER BY e.source, e.event_id
            FOR UPDATE OF e"""
        # The given units and those the rows of these complaints and scopes name.
        self.lock_units = lock_statement(f"""
            SELECT unnest($3::text[])
            UNION ALL SELECT unit_id FROM {s}.complaints WHERE complaint_id = ANY($4::text[])
            UNION ALL SELECT unit_id FROM {s}.warnings WHERE scope = ANY($5::text[])
            UNION ALL SELECT unit_id FROM {s}.alerts WHERE scope = ANY($5::text[])""")
        self.save_identities = f"""
            INSERT INTO {s}.event_ids (source, event_id, digest, recorded_at, partition, "offset")
            SELECT * FROM unnest({unnest_packed(IDENTITY_KINDS)})
            ON CONFLICT (source, event_id) DO UPDATE
               SET digest = excluded.digest, recorded_at = excluded.recorded_at,
                   partition = excluded.partition, "offset" = excluded."offset"
        """
        keys = "(source, event_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))"
        self.retract_filings = f"""
            DELETE FROM {s}.complaint_filings WHERE {keys}
            RETURNING source, event_id, occurred_at, complaint_id, unit_id, staff_id, channel,
                      category, handling"""
        self.retract_verdicts = f"""
            DELETE FROM {s}.complaint_verdicts WHERE {keys}
            RETURNING source, event_id, occurred_at, complaint_id, unit_id, staff_id, outcome,
                      category, obstructed"""
        self.retract_inspections = f"""
            WITH gone AS (DELETE FROM {s}.inspections WHERE {keys}
                          RETURNING source, event_id, inspection_id),
                 f AS (DELETE FROM {s}.findings WHERE {keys} RETURNING *)
            SELECT f.source, f.event_id, f.occurred_at, f.position, f.unit_id, f.staff_id,
                   f.code, f.unit_wide, gone.inspection_id
            FROM f JOIN gone USING (source, event_id)"""
        self.retract_commendations = f"DELETE FROM {s}.commendations WHERE {keys}"
        self.positions = f'SELECT partition, "offset" FROM {s}.positions WHERE topic = $1'
        self.save_positions = f"""
            INSERT INTO {s}.positions (topic, partition, "offset")
            SELECT $1, * FROM unnest($2::int[], $3::bigint[])
            ON CONFLICT (topic, partition) DO UPDATE
               SET "offset" = GREATEST({s}.positions."offset", excluded."offset")"""


@cache
def sql_for(schema: str) -> Sql:
    return Sql(schema)
