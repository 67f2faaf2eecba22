"""Reads a request body under the size limit, and discards what a refused one still sends.

Every refusal must reach every client. Many clients (Python's urllib, for one) send
the whole body before they read the answer, and ask for `Connection: close`: if the
server answered and closed with part of the body unread, the kernel would reset the
connection and the client would see the reset, not the 413 (or 401, 415, 429). So
before a refusal is answered, the rest of the body is read and thrown away, up to
`DISCARD_LIMIT` bytes in all; a client that declares more than that is answered
at once (a keep-alive client still gets the answer: the server drops the rest).
"""

from __future__ import annotations

from fastapi import Request

from .responses import RefusedError

DISCARD_LIMIT = 16 * 1024 * 1024
JSON_MEDIA_TYPE = "application/json"


def too_large(limit: int) -> RefusedError:
    return RefusedError(413, "body_too_large", f"the body exceeds {limit} bytes", max_bytes=limit)


def check_media_type(request: Request) -> None:
    """415 unless the body is declared JSON in UTF-8 (no Content-Type: read as JSON)."""
    declared = request.headers.get("content-type")
    if declared is None:
        return
    media_type, *parameters = (part.strip() for part in declared.split(";"))
    charset_ok = all(
        name.strip().lower() != "charset" or value.strip().strip('"').lower() in {"utf-8", "utf8"}
        for name, _, value in (p.partition("=") for p in parameters if p)
    )
    if media_type.lower() != JSON_MEDIA_TYPE or not charset_ok:
        raise RefusedError(
            415,
            "unsupported_media_type",
            "send the events as Content-Type: application/json (UTF-8)",
        )


class RequestBody:
    """The body of one request, read once through the ASGI `receive` channel."""

    def __init__(self, request: Request) -> None:
        self._request = request
        self._received = 0
        self._complete = False

    def declared_length(self) -> int | None:
        declared = self._request.headers.get("content-length")
        if declared is None:
            return None
        if not declared.isdigit():
            raise RefusedError(400, "bad_content_length", "Content-Length is not a number")
        return int(declared)

    async def read(self, *, limit: int) -> bytes:
        """The whole body, or 413 as soon as it is known to exceed `limit`."""
        declared = self.declared_length()
        if declared is not None and declared > limit:
            raise too_large(limit)
        body = bytearray()
        while not self._complete:
            body += await self._next_chunk()
            if len(body) > limit:
                raise too_large(limit)
        return bytes(body)

    async def discard(self) -> None:
        """Read and drop the rest of the body, within `DISCARD_LIMIT`, so that the
        answer that follows reaches the client (see the module's docstring)."""
        if self._complete or self._waits_for_continue():
            return
        declared = self.declared_length() if self._has_valid_length() else None
        if declared is not None and declared > DISCARD_LIMIT:
            return
        while not self._complete and self._received <= DISCARD_LIMIT:
            await self._next_chunk()

    def _waits_for_continue(self) -> bool:
        """A client that sent `Expect: 100-continue` and has not been asked for the
        body yet sends none: nothing to discard (asking for it would invite it)."""
        expect = self._request.headers.get("expect", "").lower()
        return self._received == 0 and expect == "100-continue"

    def must_close(self) -> bool:
        """True when the connection must close after the answer: the client waits for
        `100 Continue` and will never send the body the server would otherwise wait
        for. (A body beyond DISCARD_LIMIT needs no such care: once the answer is sent
        the server drops whatever else arrives for that request.)"""
        return not self._complete and self._waits_for_continue()

    def _has_valid_length(self) -> bool:
        return self._request.headers.get("content-length", "0").isdigit()

    async def _next_chunk(self) -> bytes:
        message = await self._request.receive()
        if message["type"] == "http.disconnect":
            self._complete = True
            return b""
        chunk: bytes = message.get("body", b"")
        self._received += len(chunk)
        self._complete = not message.get("more_body", False)
        return chunk
