"""OpenAPI Overlay 1.0: actions that update or remove the nodes a JSONPath target selects.

An overlay is applied to a copy of a document; the document itself (shared, cached) is never
changed. A target that selects nothing is not an error (the Overlay specification allows
it), but an overlay that is not one (no ``overlay`` version, no ``actions`` list, an action
without a target) is a :class:`SpecError` naming the action.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonpath
import yaml  # type: ignore[import-untyped]

from ..errors import SpecError

__all__ = ["apply_overlay", "apply_overlays", "read_overlay"]


def read_overlay(path: str | Path) -> dict[str, Any]:
    """An overlay document from a YAML or JSON file, checked for its shape."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"cannot read the overlay: {exc}", file=str(path)) from None
    check_overlay(data, str(path))
    return data


def check_overlay(data: Any, where: str = "overlay") -> None:
    if not isinstance(data, dict) or not str(data.get("overlay", "")).startswith("1."):
        raise SpecError("not an OpenAPI Overlay 1.x document (it needs `overlay: 1.0.0`)", file=where)
    actions = data.get("actions")
    if not isinstance(actions, list):
        raise SpecError("an overlay needs an `actions` list", file=where)
    for number, action in enumerate(actions, 1):
        if not isinstance(action, dict) or not isinstance(action.get("target"), str):
            raise SpecError(f"action {number} has no `target` JSONPath", file=where)
        if "update" not in action and not action.get("remove"):
            raise SpecError(f"action {number} ({action['target']}) neither updates nor removes", file=where)


def apply_overlay(document: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` with the overlay's actions applied in order."""
    return apply_overlays(document, [overlay])


def apply_overlays(document: dict[str, Any], overlays: list[dict[str, Any]]) -> dict[str, Any]:
    """A copy of ``document`` with each overlay applied in turn (one copy, however many overlays)."""
    result = copy.deepcopy(document)
    for overlay in overlays:
        check_overlay(overlay)
        _apply(result, overlay)
    return result


def _apply(result: dict[str, Any], overlay: dict[str, Any]) -> None:
    for number, action in enumerate(overlay["actions"], 1):
        try:
            matches = list(jsonpath.finditer(action["target"], result))
        except jsonpath.JSONPathError as exc:
            raise SpecError(f"action {number}: bad JSONPath {action['target']!r}: {exc}") from None
        for match in matches:
            if action.get("remove"):
                _remove(match)
            else:
                _update(match, action["update"])


def _update(match: Any, update: Any) -> None:
    """Objects merge recursively, arrays append, and any other value replaces the target."""
    target = match.obj
    if isinstance(target, dict) and isinstance(update, dict):
        _merge(target, update)
    elif isinstance(target, list):
        target.extend(copy.deepcopy(update) if isinstance(update, list) else [copy.deepcopy(update)])
    elif match.parent is not None:
        match.parent.obj[match.parts[-1]] = copy.deepcopy(update)


def _merge(target: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _remove(match: Any) -> None:
    if match.parent is None:
        return  # the root itself cannot be removed
    container, key = match.parent.obj, match.parts[-1]
    if isinstance(container, dict):
        container.pop(key, None)
    elif isinstance(container, list) and isinstance(key, int) and key < len(container):
        del container[key]
