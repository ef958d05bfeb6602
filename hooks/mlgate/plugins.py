"""The one place that names the hooks. Hooks are imported only when selected."""

from __future__ import annotations

import importlib

from mlgate.hook import Hook

# name -> module exposing `HOOK`. A new hook is one line here plus its folder.
HOOK_MODULES: dict[str, str] = {
    "pins": "mlgate.pins",
    "models": "mlgate.models",
    "hub": "mlgate.hub",
    "services": "mlgate.services",
}


def load_hook(name: str) -> Hook:
    return importlib.import_module(HOOK_MODULES[name]).HOOK


def load_hooks() -> list[Hook]:
    return [load_hook(name) for name in HOOK_MODULES]
