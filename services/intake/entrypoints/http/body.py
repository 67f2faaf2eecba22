"""Reads a request body while enforcing the size limit (declared and streamed)."""

from __future__ import annotations

from fastapi import Request

from .responses import RefusedError


def too_large(limit: int) -> RefusedError:
    return RefusedError(413, "body_too_large", f"the body exceeds {limit} bytes", max_bytes=limit)


async def read_limited_body(request: Request, *, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RefusedError(400, "bad_content_length", "Content-Length is not a number")
        if int(declared) > limit:
            raise too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large(limit)
    return bytes(body)
