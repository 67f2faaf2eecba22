"""The layers of both services point one way (STYLE.md, the preamble of every service):
domain <- service_layer <- adapters, entrypoints, bootstrap. Read from the source (every
import, relative or absolute, at module level or inside a function), not by importing.

- domain imports no service_layer, adapters, entrypoints or bootstrap;
- service_layer imports no adapters, entrypoints or bootstrap (it talks through ports);
- adapters import no entrypoints or bootstrap.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("assessment", "intake")
LAYERS = ("domain", "service_layer", "adapters", "entrypoints", "bootstrap")
FORBIDDEN = {
    "domain": {"service_layer", "adapters", "entrypoints", "bootstrap"},
    "service_layer": {"adapters", "entrypoints", "bootstrap"},
    "adapters": {"entrypoints", "bootstrap"},
}


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.imported} ({self.rule})"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imported_modules(source: str, module: str, *, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import; `from package import submodule`
    names the submodule (so `from services.x import bootstrap` is seen as bootstrap)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.append((node.lineno, candidate if is_module(candidate) else base))
    return found


def layer_of(name: str, service: str) -> str | None:
    parts = name.split(".")
    if parts[:2] != ["services", service] or len(parts) < 3:
        return None
    return parts[2] if parts[2] in LAYERS else None


def violations_in(source: str, module: str, *, is_package: bool = False) -> list[Violation]:
    service = module.split(".")[1]
    layer = layer_of(module, service)
    forbidden = FORBIDDEN.get(layer or "", set())
    found = []
    for line, imported in sorted(set(imported_modules(source, module, is_package=is_package))):
        target = layer_of(imported, service)
        if target in forbidden:
            found.append(Violation(module, line, imported, f"{layer} must not import {target}"))
    return found


def service_modules() -> list[Path]:
    return sorted(p for s in SERVICES for p in (ROOT / "services" / s).rglob("*.py"))


def test_every_layer_of_both_services_is_covered() -> None:
    # The check below would pass vacuously if the layout moved.
    for service in SERVICES:
        present = {layer_of(module_name(p), service) for p in service_modules()}
        assert set(LAYERS) <= present, (service, set(LAYERS) - present)


def test_dependencies_point_one_way() -> None:
    found = [
        violation
        for path in service_modules()
        for violation in violations_in(
            path.read_text(encoding="utf-8"),
            module_name(path),
            is_package=path.name == "__init__.py",
        )
    ]
    assert not found, "imports against the layers:\n" + "\n".join(map(str, found))


@pytest.mark.parametrize(
    ("module", "source", "imported"),
    [
        (
            "services.assessment.service_layer.rebuild",
            "from services.assessment.adapters import versions",
            "services.assessment.adapters.versions",
        ),
        (
            "services.assessment.domain.policy",
            "def f():\n    from ..service_layer.folding import fold",
            "services.assessment.service_layer.folding",
        ),
        (
            "services.intake.adapters.kafka_publisher",
            "from services.intake import bootstrap",
            "services.intake.bootstrap",
        ),
        (
            "services.intake.service_layer.handlers",
            "import services.intake.entrypoints.cli",
            "services.intake.entrypoints.cli",
        ),
    ],
)
def test_the_check_reports_the_module_and_the_import(
    module: str, source: str, imported: str
) -> None:
    (violation,) = violations_in(source, module)
    assert (violation.module, violation.imported) == (module, imported)
    assert str(violation).startswith(f"{module}:")


def test_the_check_allows_what_the_layers_allow() -> None:
    allowed = {
        "services.assessment.adapters.writer": "from ..service_layer import store",
        "services.assessment.service_layer.rebuild": "from ..domain.policy import Policy",
        "services.intake.entrypoints.cli": "from services.intake import bootstrap",
        "services.assessment.bootstrap": "from services.assessment.adapters import versions",
    }
    for module, source in allowed.items():
        assert violations_in(source, module) == [], module
