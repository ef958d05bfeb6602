"""Layers, read from the source (ast, nothing imported): the core never imports a hook, a hook
never imports another hook, the reports or the command line, and the reports never import the
command line.

Core: every module directly under mlgate/, plus mlgate/report/ and mlgate/online/. Hooks:
mlgate/pins, mlgate/models, mlgate/hub, mlgate/services. Every import counts, wherever it is
written (inside a function, under `if TYPE_CHECKING:`). The core loads hooks by module name
(`mlgate.plugins.HOOK_MODULES`, `Hook.online`), which is not an import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "hooks" / "mlgate"
HOOK_PACKAGES = ("pins", "models", "hub", "services")
CORE_PACKAGES = ("report", "online")

# Known violations, each with the reason it is allowed for now: (importing module, imported
# module). Keep this empty; an entry is a debt to pay, not a design.
EXEMPT: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = ["mlgate", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path) -> set[str]:
    """Every mlgate module `name` imports (`from mlgate import x` counts as `mlgate.x`)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names if f"{module}.{alias.name}" in MODULES)
    return {module for module in found if module == "mlgate" or module.startswith("mlgate.")}


def _layer(module: str) -> str:
    """`core`, `cli` (the command line: mlgate.cli), `report`, or the hook's name."""
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in HOOK_PACKAGES:
        return parts[1]
    if len(parts) > 1 and parts[1] == "cli":
        return "cli"
    if len(parts) > 1 and parts[1] == "report":
        return "report"
    return "core"


def _forbidden(importer: str, imported: str) -> str | None:
    """Why `importer` may not import `imported`, or None when it may."""
    source, target = _layer(importer), _layer(imported)
    if source in HOOK_PACKAGES:
        if target in HOOK_PACKAGES and target != source:
            return f"hook {source} imports hook {target}"
        if target in ("report", "cli"):
            return f"hook {source} imports the {'reports' if target == 'report' else 'command line'}"
        return None
    if target in HOOK_PACKAGES:
        return f"core module imports hook {target}"
    if source == "report" and target == "cli":
        return "the reports import the command line"
    return None


def test_the_package_is_where_the_test_looks():
    assert "mlgate.engine" in MODULES and "mlgate.report.sarif" in MODULES
    assert {name.split(".")[1] for name in MODULES if name.count(".") >= 2} >= {*HOOK_PACKAGES, *CORE_PACKAGES}


def test_relative_and_package_imports_are_resolved():
    imports = _imports("mlgate.report.sarif", MODULES["mlgate.report.sarif"])
    assert "mlgate.findings" in imports and "mlgate.rule_pages" in imports


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_follow_the_layers(name):
    broken = sorted(
        f"{name} imports {imported}: {why}"
        for imported in _imports(name, MODULES[name])
        if (why := _forbidden(name, imported)) is not None and (name, imported) not in EXEMPT
    )
    assert broken == []


def test_exemptions_are_still_needed():
    stale = [pair for pair in EXEMPT if pair[1] not in _imports(pair[0], MODULES[pair[0]])]
    assert stale == []
