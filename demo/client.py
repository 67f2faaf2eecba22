"""Small HTTP helpers: send events to intake, read the assessment API.

Every failure a person running the demo can fix becomes a `DemoError` whose message says
what to do; `python -m demo` prints it and exits non-zero.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
import orjson

MAX_BATCH = 1000  # events per POST /v1/events (CONTRACT.md)
MAX_BODY = 4 * 1024 * 1024  # bytes per request (CONTRACT.md)
REQUEST_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
START_HINT = "Start the stack with `make up` (or `stack/stack.sh up`) and run the demo again."


class DemoError(Exception):
    """Something the person running the demo has to fix; the message says what."""


def service_client(base_url: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url.rstrip("/"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=REQUEST_TIMEOUT,
    )


def path_segment(value: str) -> str:
    """A unit or staff id as one path segment: `qsb/licensing` -> `qsb%2Flicensing`."""
    return quote(value, safe="")


def check_reachable(client: httpx.Client, name: str) -> None:
    """Fail early, with a hint, when a service does not answer /healthz."""
    try:
        response = client.get("/healthz")
    except httpx.TransportError as error:
        raise DemoError(
            f"The {name} service is not reachable at {client.base_url} "
            f"({type(error).__name__}). {START_HINT}"
        ) from None
    if response.status_code != httpx.codes.OK:
        raise DemoError(
            f"The {name} service at {client.base_url} answered /healthz with "
            f"{response.status_code}. {START_HINT}"
        )


# ------------------------------------------------------------------------ sending


def batches(
    events: Sequence[dict[str, Any]], *, max_count: int = MAX_BATCH, max_bytes: int = MAX_BODY
) -> Iterator[bytes]:
    """JSON arrays of at most `max_count` events and `max_bytes` bytes each."""
    pending: list[bytes] = []
    size = 2  # the brackets
    for event in events:
        encoded = orjson.dumps(event)
        if pending and (len(pending) == max_count or size + len(encoded) + 1 > max_bytes):
            yield b"[" + b",".join(pending) + b"]"
            pending, size = [], 2
        pending.append(encoded)
        size += len(encoded) + 1
    if pending:
        yield b"[" + b",".join(pending) + b"]"


def send_events(
    client: httpx.Client,
    events: Sequence[dict[str, Any]],
    *,
    give_up_after: float = 120.0,
    on_batch: Callable[[int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """POST every event to intake; returns how many intake accepted.

    A 503 is retried after its Retry-After, a lost connection after a short pause: both
    are harmless, since (source, id) makes a resent event change nothing.
    """
    accepted = 0
    for body in batches(events):
        answer = _post_batch(client, body, give_up_after=give_up_after, sleep=sleep)
        count = int(answer["accepted"])
        accepted += count
        if on_batch is not None:
            on_batch(count)
    return accepted


def _post_batch(
    client: httpx.Client,
    body: bytes,
    *,
    give_up_after: float,
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    deadline = time.monotonic() + give_up_after
    attempt = 0
    while True:
        attempt += 1
        try:
            response = client.post(
                "/v1/events", content=body, headers={"Content-Type": "application/json"}
            )
        except httpx.TransportError as error:
            wait = min(2.0**attempt, 10.0)
            if time.monotonic() + wait > deadline:
                raise DemoError(
                    f"Lost the intake service at {client.base_url} "
                    f"({type(error).__name__}). {START_HINT}"
                ) from None
            sleep(wait)
            continue
        if response.status_code == httpx.codes.ACCEPTED:
            answer: dict[str, Any] = response.json()
            return answer
        if response.status_code == httpx.codes.SERVICE_UNAVAILABLE:
            wait = retry_after(response.headers.get("Retry-After"))
            if time.monotonic() + wait > deadline:
                raise DemoError(
                    f"Intake kept answering 503 (Kafka cannot take events) for "
                    f"{give_up_after:.0f} s. Check `make status` and .stack/logs/."
                )
            sleep(wait)
            continue
        raise DemoError(rejection_message(response))


def retry_after(value: str | None, *, default: float = 1.0, most: float = 30.0) -> float:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return default
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), most)


def rejection_message(response: httpx.Response) -> str:
    code = response.status_code
    if code == httpx.codes.UNAUTHORIZED:
        return "Intake refused the token (401): set INTAKE_TOKEN to a token it knows."
    if code == httpx.codes.FORBIDDEN:
        return f"The intake token may not send for these sources (403): {response.text[:300]}"
    if code == httpx.codes.UNPROCESSABLE_ENTITY:
        try:
            errors = response.json().get("errors", [])
        except ValueError:
            errors = []
        lines = [
            f"  event {e.get('index')}: {'.'.join(map(str, e.get('loc', [])))}: {e.get('msg')}"
            for e in errors[:10]
        ]
        more = f"\n  … and {len(errors) - 10} more" if len(errors) > 10 else ""
        return "Intake rejected the sample (422):\n" + "\n".join(lines) + more
    return f"Intake answered {code}: {response.text[:300]}"


# ------------------------------------------------------------------------ reading


def get_json(client: httpx.Client, path: str, params: dict[str, Any] | None = None) -> Any:
    try:
        response = client.get(path, params=params)
    except httpx.TransportError as error:
        raise DemoError(
            f"The assessment service is not reachable at {client.base_url} "
            f"({type(error).__name__}). {START_HINT}"
        ) from None
    if response.status_code == httpx.codes.UNAUTHORIZED:
        raise DemoError("The assessment service refused the read token (401): set READ_TOKEN.")
    if response.status_code != httpx.codes.OK:
        raise DemoError(f"GET {path} answered {response.status_code}: {response.text[:300]}")
    return response.json()


def get_all(client: httpx.Client, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of a paged list (`items`, `next_cursor`)."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": 500} | ({"cursor": cursor} if cursor else {})
        page = get_json(client, path, query)
        items.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return items
