"""The HTTP API of CONTRACT.md: POST /v1/events, /healthz, /readyz, /metrics."""

from .app import create_app

__all__ = ["create_app"]
