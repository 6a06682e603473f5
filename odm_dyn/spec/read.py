"""Spec sources (files, folders) and their parsing: YAML or JSON, keys as strings."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import SpecError
from .document import SPEC_FILE_SUFFIXES, TASKS_SPEC, SpecSource
from .fetch import check_url, has_scheme

# --------------------------------------------------------------------------- sources


def spec_source(values: Iterable[str] | None, environ: Mapping[str, str] | None = None) -> list[str] | None:
    """Command-line ``--spec`` values as a spec source, for every command: none is ``ODM_SPEC``
    (of ``environ``, default the process's) or else the bundled spec, ``FILE`` or ``URL``
    replaces it, ``+FILE`` adds to it (once, even when it is named as well)."""
    values = list(values or ())
    if not values:
        from_env = (os.environ if environ is None else environ).get("ODM_SPEC", "").strip()
        values = [from_env] if from_env else []
    if not values:
        return None
    files = [value[1:] if value.startswith("+") else value for value in values]
    bundled = Path(TASKS_SPEC)
    if any(value.startswith("+") for value in values) and all(
        has_scheme(f) or Path(f).expanduser().resolve() != bundled for f in files
    ):
        files.insert(0, TASKS_SPEC)
    return files


def spec_names(source: SpecSource) -> list[str]:
    """The documents a source names: URLs as they are (http and https only), files resolved."""
    items = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    if not items:
        raise SpecError("no spec file given")
    names: list[str] = []
    for item in items:
        text = os.fspath(item)
        names.extend([check_url(text)] if has_scheme(text) else [str(p) for p in spec_files(text)])
    return names


def spec_files(source: SpecSource) -> list[Path]:
    """The OpenAPI documents a source names, in a stable order."""
    if isinstance(source, (str, os.PathLike)):
        items: list[Any] = [source]
    else:
        items = list(source)
    if not items:
        raise SpecError("no spec file given")
    files: list[Path] = []
    for item in items:
        path = Path(item).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in SPEC_FILE_SUFFIXES)
            found = [p for p in found if _looks_like_openapi(p)]
            if not found:
                raise SpecError("the folder holds no OpenAPI document", file=str(path))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise SpecError("no such spec file or folder", file=str(path))
    return [p.resolve() for p in files]


def _looks_like_openapi(path: Path) -> bool:
    """Whether a file in a spec folder is a document (not a schema fragment it refers to)."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    return re.search(rb'^\s*["\']?openapi["\']?\s*:', head, re.MULTILINE) is not None


# --------------------------------------------------------------------------- parsing


def _make_yaml_loader() -> type:
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc, valid-type]
        """Safe YAML, but dates stay strings: JSON Schema and the wire know no dates."""

    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    return Loader


_yaml_loader: type | None = None


def parse_text(text: bytes, file: str) -> Any:
    """Parse YAML or JSON; keys become strings (``200:`` → ``"200"``)."""
    global _yaml_loader
    if file.endswith(".json"):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise SpecError(f"invalid JSON: {exc}", file=file) from None
    import yaml

    if _yaml_loader is None:
        _yaml_loader = _make_yaml_loader()
    try:
        data = yaml.load(text, Loader=_yaml_loader)
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", file=file) from None
    return _normalise_keys(data)


def _normalise_keys(node: Any) -> Any:
    if isinstance(node, dict):
        return {_key(k): _normalise_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_normalise_keys(v) for v in node]
    return node


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return key if isinstance(key, str) else str(key)
