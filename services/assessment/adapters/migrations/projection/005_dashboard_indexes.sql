-- Indexes for the dashboard's lists, which read every unit at once (views.py).

-- Overdue complaints as of a moment t: deadline <= t and not resolved by t. Such a
-- complaint was at some time overdue: resolved_at IS NULL OR resolved_at > deadline (a
-- condition of the row alone, so it can be an index's). The query repeats it, and reads
-- the index in the list's order, (deadline, complaint_id), until its page is full.
CREATE INDEX complaints_overdue_by_deadline ON complaints (deadline, complaint_id)
    WHERE resolved_at IS NULL OR resolved_at > deadline;
CREATE INDEX complaints_overdue_by_unit ON complaints (unit_id, deadline, complaint_id)
    WHERE resolved_at IS NULL OR resolved_at > deadline;

-- The watchlist: a month's attendance findings of every staff member (the codes are the
-- policy's), counted from the index alone.
CREATE INDEX findings_by_month_code ON findings (month, code, staff_id)
    INCLUDE (occurred_at, unit_id) WHERE staff_id IS NOT NULL;

-- The watchlist: a year's warnings in force at a moment, per unit, from the index alone.
CREATE INDEX warnings_by_year_unit ON warnings (year, unit_id) INCLUDE (issued_at, revoked_at);
