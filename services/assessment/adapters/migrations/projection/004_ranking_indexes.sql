-- The units' ranking (ranking_views.py) counts, for every unit at once, a period's
-- substantiated complaints, active warnings and active alerts: without these it reads
-- the whole of each table. Partial, and covering, so the counts are index-only.
CREATE INDEX complaints_substantiated_by_month ON complaints (outcome_month, unit_id)
    WHERE outcome = 'substantiated';
CREATE INDEX warnings_active_by_period ON warnings (period, unit_id) WHERE status = 'active';
CREATE INDEX alerts_active_by_month ON alerts (month, unit_id, level) WHERE status = 'active';
