"""What each operation *does* on the embedded server: a few generic behaviours, bound per operation.

Which behaviour an operation gets is decided once, when the server starts: an
``x-odm-dyn-behaviour`` extension on the operation (added by the shipped overlay,
``odm_dyn/data/overlay.yaml``, or a user's own) wins; otherwise the conventions of ODM's paths
(:mod:`.conventions`) decide; an operation neither names keeps the spec's generated example
answer. The extension is a name (``read``) or a mapping (``{name: search, kind: sample}``);
its other keys are the behaviour's arguments, over the ones the conventions found.

Layer: inside ``server``; imports ``spec`` (overlays) and ``api``; the app imports this package
lazily, so behaviours may import the app's ``Answer`` and ``Call``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import yaml

from ...api.plans import Api
from ...errors import SpecError
from ...spec.overlay import apply_overlays, read_overlay
from ...spec.pointers import resolve_pointer
from .context import Context
from .conventions import convention

EXTENSION = "x-odm-dyn-behaviour"
GENERATED = "generated"

__all__ = ["EXTENSION", "GENERATED", "Binding", "Context", "bind", "bindings", "shipped_overlay"]


@dataclass(frozen=True)
class Binding:
    """One operation's behaviour: its name, arguments, and who chose it."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    source: str = "convention"  # or "overlay"

    def label(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(self.args.items()))
        return f"{self.name}({shown})" if shown else self.name


def shipped_overlay() -> dict[str, Any]:
    text = resources.files("odm_dyn").joinpath("data/overlay.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _overlays(extra: str | Path | dict[str, Any] | None) -> list[dict[str, Any]]:
    overlays = [shipped_overlay()]
    if isinstance(extra, dict):
        overlays.append(extra)
    elif extra is not None:
        overlays.append(read_overlay(extra))
    return overlays


def bindings(api: Api, overlay: str | Path | dict[str, Any] | None = None) -> dict[str, Binding | None]:
    """Every operation's binding (``None``: generated), the shipped overlay first, then ``overlay``."""
    registry = _registry()
    overlays = _overlays(overlay)
    overlaid = {id(document): apply_overlays(document.data, overlays) for document in api.documents}
    out: dict[str, Binding | None] = {}
    for op_id, plan in api.plans.items():
        raw = resolve_pointer(overlaid[id(plan.op.document)], plan.op.pointer)
        found = convention(plan)
        out[op_id] = _binding(op_id, raw.get(EXTENSION) if isinstance(raw, dict) else None, found)
        binding = out[op_id]
        if binding is not None and binding.name not in registry:
            raise SpecError(f"{op_id}: no behaviour named {binding.name!r}; known: {', '.join(sorted(registry))}")
    return out


def _binding(op_id: str, declared: Any, found: tuple[str, dict[str, Any]] | None) -> Binding | None:
    base = dict(found[1]) if found else {}
    if declared is None:
        return Binding(found[0], base) if found else None
    if declared == GENERATED:
        return None
    if isinstance(declared, str):
        return Binding(declared, base, "overlay")
    if isinstance(declared, dict) and isinstance(declared.get("name"), str):
        args = {**base, **{k: v for k, v in declared.items() if k != "name"}}
        return Binding(declared["name"], args, "overlay")
    raise SpecError(f"{op_id}: {EXTENSION} must be a behaviour name or a mapping with a `name`")


def bind(api: Api, context: Context, overlay: str | Path | dict[str, Any] | None = None) -> dict[str, Callable]:
    """A handler per operation that has a behaviour, each closed over its arguments."""
    registry = _registry()
    handlers: dict[str, Callable] = {}
    for op_id, binding in bindings(api, overlay).items():
        if binding is not None:
            handlers[op_id] = functools.partial(registry[binding.name], ctx=context, **binding.args)
    return handlers


@functools.lru_cache(maxsize=1)
def _registry() -> dict[str, Callable]:
    from . import generic, jobs, objects, publishing, scim, xrefs

    registry: dict[str, Callable] = {}
    for module in (objects, jobs, publishing, scim, generic, xrefs):
        registry.update(module.BEHAVIOURS)
    return registry
