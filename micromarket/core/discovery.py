"""Find the optional per-app modules (``jobs``, ``demo``) of micromarket's own apps."""

from __future__ import annotations

import importlib
from types import ModuleType

from django.apps import apps


def app_modules(submodule: str) -> list[ModuleType]:
    """``<app>.<submodule>`` for every micromarket app that has one, in INSTALLED_APPS order."""
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("micromarket."):
            continue
        name = f"{config.name}.{submodule}"
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:  # the module exists but an import inside it failed
                raise
    return found
