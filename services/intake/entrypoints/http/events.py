"""POST /v1/events: authenticate, read, check, validate, publish; all or nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.intake.domain.grants import Grant, TokenRegistry, forbidden_sources
from services.intake.domain.identity import RecentIds
from services.intake.domain.validation import (
    BatchTooLargeError,
    BodyError,
    InvalidEventsError,
    split_submission,
    validate_events,
    validate_submission,
)
from services.intake.metrics import HTTP, IntakeMetrics
from services.intake.service_layer.handlers import ConflictingReuseError, record_events
from services.intake.service_layer.ports import Publisher, PublishError, RecordTooLargeError
from services.intake.settings import IntakeSettings
from shared.events import Event
from shared.topics import TopicNames

from .body import RequestBody, check_media_type
from .openapi import RETRY_AFTER_HEADER, events_request_body
from .rate_limit import RateLimiter
from .responses import (
    AcceptedBody,
    ErrorBody,
    InvalidEventsBody,
    RefusedError,
    json_response,
)

log = logging.getLogger(__name__)

bearer = HTTPBearer(
    auto_error=False,
    description="A token configured (as its digest) in INTAKE_TOKENS; it names the sources "
    "it may send for.",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]

_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": AcceptedBody, "description": "Kafka acknowledged every event (acks=all)."},
    400: {
        "model": ErrorBody,
        "description": "Not JSON (UTF-8), a key repeated in an object, not an object or "
        "array, an empty array, or a bad Content-Length.",
    },
    401: {"model": ErrorBody, "description": "Missing or unknown bearer token."},
    403: {"model": ErrorBody, "description": "An event's source is not allowed for the token."},
    409: {
        "model": ErrorBody,
        "description": "A conflicting reuse of (source, id): the first event recorded stands.",
    },
    413: {
        "model": ErrorBody,
        "description": "The body is over 4 MiB, the array has more than 1000 events, or one "
        "event is too large for Kafka.",
    },
    415: {"model": ErrorBody, "description": "The body is not application/json (UTF-8)."},
    422: {"model": InvalidEventsBody, "description": "Invalid events; nothing was published."},
    429: {
        "model": ErrorBody,
        "description": "Too many requests with this token; retry after Retry-After seconds.",
        "headers": RETRY_AFTER_HEADER,
    },
    503: {
        "model": ErrorBody,
        "description": "Kafka cannot take the events now; retry after Retry-After seconds.",
        "headers": RETRY_AFTER_HEADER,
    },
}


def events_router(
    *,
    settings: IntakeSettings,
    publisher: Publisher,
    tokens: TokenRegistry,
    metrics: IntakeMetrics,
    clock: Callable[[], datetime],
) -> APIRouter:
    router = APIRouter(tags=["events"])
    topics: TopicNames = settings.topics
    retry_after = {"Retry-After": str(settings.intake_retry_after_s)}
    recent_ids = RecentIds(settings.intake_recent_ids)
    limiter = RateLimiter(rate_per_s=settings.intake_rate_per_s, burst=settings.intake_rate_burst)

    @router.post(
        "/v1/events",
        status_code=202,
        summary="Submit one event or a batch",
        response_model=None,
        responses=_RESPONSES,
        openapi_extra=events_request_body(settings.intake_max_batch),
    )
    async def post_events(request: Request, credentials: Credentials) -> Response:
        """Answers 202 only once Kafka acknowledged every event. A batch is all or
        nothing: with any invalid event, none is published. Re-sending an event (same
        source and id) is harmless: it is accepted again and changes nothing."""
        reader = RequestBody(request)
        try:
            grant = _authenticate(credentials, tokens)
            _check_rate(limiter, grant)
            check_media_type(request)
            body = await reader.read(limit=settings.intake_max_body_bytes)
            now = clock()
            events = _checked_events(body, grant, settings.intake_max_batch, received_at=now)
            await _publish(events, publisher, topics, now, metrics, retry_after, recent_ids)
        except RefusedError as refused:
            metrics.count_rejected(refused.code, channel=HTTP)
            await reader.discard()
            response = refused.response()
            if reader.must_close():
                response.headers["Connection"] = "close"
            return response
        return json_response({"accepted": len(events), "ids": [e.id for e in events]}, status=202)

    return router


def _authenticate(credentials: HTTPAuthorizationCredentials | None, tokens: TokenRegistry) -> Grant:
    if credentials is None:
        raise RefusedError(
            401,
            "unauthorized",
            "send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": 'Bearer realm="intake"'},
        )
    grant = tokens.lookup(credentials.credentials)
    if grant is None:
        raise RefusedError(
            401,
            "unauthorized",
            "unknown token",
            headers={"WWW-Authenticate": 'Bearer realm="intake", error="invalid_token"'},
        )
    return grant


def _check_rate(limiter: RateLimiter, grant: Grant) -> None:
    wait_s = limiter.take(grant.digest)
    if wait_s is not None:
        raise RefusedError(
            429,
            "rate_limited",
            f"too many requests with this token; retry in {wait_s} s",
            headers={"Retry-After": str(wait_s)},
        )


def _checked_events(
    body: bytes, grant: Grant, max_batch: int, *, received_at: datetime
) -> list[Event]:
    """400 (shape), then 403 (sources), then 422 (contract): the events, all valid."""
    try:
        if grant.sources is None:  # any source: nothing to look at before validating
            return validate_submission(body, max_batch=max_batch, received_at=received_at)
        submission = split_submission(body, max_batch=max_batch)
        _check_sources(submission.items, grant)
        return validate_events(body, is_batch=submission.is_batch, received_at=received_at)
    except BatchTooLargeError as rejected:
        raise RefusedError(413, rejected.code, rejected.detail, max_events=max_batch) from None
    except BodyError as rejected:
        raise RefusedError(400, rejected.code, rejected.detail) from None
    except InvalidEventsError as invalid:
        raise _InvalidError(invalid) from None


def _check_sources(items: list[Any], grant: Grant) -> None:
    forbidden = forbidden_sources(items, grant)
    if forbidden:
        first = forbidden[0]
        raise RefusedError(
            403,
            "forbidden_source",
            f"event {first.index}: this token may not send for source {first.source!r}",
            events=[{"index": f.index, "source": f.source} for f in forbidden],
        )


class _InvalidError(RefusedError):
    """422 is answered exactly as the contract says: {"errors": [...]} and nothing else."""

    def __init__(self, invalid: InvalidEventsError) -> None:
        super().__init__(422, "invalid_event", str(invalid))
        self.errors = [e.as_json() for e in invalid.errors]

    def response(self) -> Response:
        return json_response({"errors": self.errors}, status=422)


async def _publish(
    events: list[Event],
    publisher: Publisher,
    topics: TopicNames,
    now: datetime,
    metrics: IntakeMetrics,
    retry_after: dict[str, str],
    recent_ids: RecentIds,
) -> None:
    try:
        await record_events(
            events,
            publisher=publisher,
            topics=topics,
            recorded_at=now,
            metrics=metrics,
            recent_ids=recent_ids,
        )
    except ConflictingReuseError as conflict:
        raise RefusedError(
            409,
            "conflicting_reuse",
            str(conflict),
            events=[c.as_json() for c in conflict.conflicts],
        ) from None
    except RecordTooLargeError as too_large:
        raise RefusedError(
            413,
            "event_too_large",
            f"event {too_large.index} is {too_large.size} bytes as a Kafka record; "
            f"at most {too_large.limit}",
            index=too_large.index,
        ) from None
    except PublishError as failed:
        # The detail (the Kafka client's error) is for the operators, not the caller.
        log.warning("publish of %d event(s) failed: %s", len(events), failed)
        raise RefusedError(
            503,
            "kafka_unavailable",
            "Kafka cannot take the events now; retry after Retry-After seconds "
            "(re-sending is harmless)",
            headers=retry_after,
        ) from None
