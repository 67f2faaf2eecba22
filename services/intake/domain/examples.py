"""One realistic example of each event type, as an upstream system sends it.

Used by the OpenAPI docs, the JSON Schemas and the AsyncAPI document; a unit test
checks that each one is valid.
"""

from __future__ import annotations

from typing import Any

from shared.catalogue import EventType

EXAMPLES: dict[EventType, dict[str, Any]] = {
    EventType.COMPLAINT_FILED: {
        "id": "c-2026-000123",
        "type": "complaint.filed",
        "source": "hotline-95598",
        "occurred_at": "2026-01-05T09:30:00+08:00",
        "unit_id": "qsb/licensing",
        "staff_id": "E1024",
        "data": {
            "complaint_id": "Q-2026-0001",
            "channel": "hotline",
            "category": "rude_attitude",
            "handling": "study",
            "summary": "办事窗口工作人员态度生硬，拒绝一次性告知所需材料",
            "complainant": {"name": "张女士", "phone": "138-0000-0000"},
        },
    },
    EventType.COMPLAINT_RESOLVED: {
        "id": "r-2026-000045",
        "type": "complaint.resolved",
        "source": "hotline-95598",
        "occurred_at": "2026-01-09T16:00:00+08:00",
        "unit_id": "qsb/licensing",
        "staff_id": "E1024",
        "data": {
            "complaint_id": "Q-2026-0001",
            "outcome": "substantiated",
            "category": "rude_attitude",
            "obstructed": False,
        },
    },
    EventType.INSPECTION_RECORDED: {
        "id": "i-2026-000310",
        "type": "inspection.recorded",
        "source": "inspection-app",
        "occurred_at": "2026-01-12T08:45:00+08:00",
        "unit_id": "taxi/fleet-3",
        "data": {
            "inspection_id": "INS-2026-0310",
            "mode": "covert",
            "inspector": "督查组-王",
            "findings": [
                {"code": "detour", "staff_id": "D-3301", "note": "绕道约3公里"},
                {"code": "smoking", "staff_id": "D-3301"},
            ],
        },
    },
    EventType.COMMENDATION_RECORDED: {
        "id": "g-2026-000007",
        "type": "commendation.recorded",
        "source": "hr-awards",
        "occurred_at": "2026-02-02T11:20:00+08:00",
        "unit_id": "taxi/fleet-3",
        "staff_id": "D-2718",
        "data": {
            "commendation_id": "CM-2026-0007",
            "kind": "returned_property",
            "summary": "拾金不昧，归还乘客遗失的钱包",
        },
    },
}
