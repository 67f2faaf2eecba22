"""Policy files that differ from the default in a line or two (tests and benches)."""

from __future__ import annotations

from pathlib import Path

from services.assessment.domain.policy import default_policy_path

LOWER_ATTENDANCE_LIMIT = ("monthly_limit = 3", "monthly_limit = 2")


def policy_variant(path: Path, *changes: tuple[str, str], version: str | None = None) -> Path:
    """Writes the default policy to `path` with each (old, new) text replaced and, given
    `version`, that policy version; returns `path`. A change whose text the default
    does not hold raises: the variant would silently be the default."""
    if version is not None:
        changes = ('version = "2026.1"', f'version = "{version}"'), *changes
    text = default_policy_path().read_text(encoding="utf-8")
    for old, new in changes:
        if old not in text:
            raise ValueError(f"the default policy has no {old!r}")
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


def stricter_policy(
    folder: Path, *, version: str = "2026.1-strict", name: str = "strict.toml"
) -> Path:
    """The default policy with a lower monthly attendance limit: more warnings, and the
    unit-years they feed change too."""
    return policy_variant(folder / name, LOWER_ATTENDANCE_LIMIT, version=version)
