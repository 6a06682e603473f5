"""Spec sources (files, folders) and their parsing: YAML or JSON, keys as strings."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import SpecError
from .document import SPEC_FILE_SUFFIXES, TASKS_SPEC, SpecSource
from .urls import check_url, has_scheme

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

# An alias repeats a node without copying it in the text, so a few hundred bytes can stand for
# a billion nodes (the "billion laughs"). Every node an alias brings in counts once per use, and
# the whole is allowed this many nodes beyond what the text holds itself, times a small factor.
ALIAS_NODE_BUDGET = 100_000
ALIAS_EXPANSION_FACTOR = 10
MAX_NESTING = 500  # mappings and lists within one another, beyond which no spec goes
_SHADOWED = "the earlier value would be dropped without a word"


def parse_text(text: bytes, file: str) -> Any:
    """Parse YAML or JSON; keys become strings (``200:`` → ``"200"``).

    A duplicate key (which YAML and JSON parsers silently resolve to the last one), an alias
    bomb, or a document nested deeper than ``MAX_NESTING`` is a ``SpecError``.
    """
    if file.endswith(".json"):
        return _parse_json(text, file)
    return _parse_yaml(text, file)


def _parse_json(text: bytes, file: str) -> Any:
    try:
        data = json.loads(text, object_pairs_hook=_unique_pairs)
    except _DuplicateKey as duplicate:
        line = _yaml_line_of_duplicate(text)
        where = f" (line {line})" if line else ""
        raise SpecError(f"duplicate key {duplicate.key!r}{where}: {_SHADOWED}", file=file) from None
    except RecursionError:
        raise SpecError(f"nested more than {MAX_NESTING} levels deep; refused", file=file) from None
    except ValueError as exc:
        raise SpecError(f"invalid JSON: {exc}", file=file) from None
    _check_depth(data, file)
    return data


class _DuplicateKey(Exception):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return mapping


def _yaml_line_of_duplicate(text: bytes) -> int | None:
    """The line of a JSON text's first duplicate key, read by the YAML composer (JSON is YAML)."""
    try:
        _parse_yaml(text, "")
    except SpecError as error:
        found = re.search(r"\(line (\d+)\)", str(error))
        return int(found.group(1)) if found else None
    return None


def _parse_yaml(text: bytes, file: str) -> Any:
    """The document of a YAML text, keys as strings: built in one pass when it is plain, else
    checked (``_check_nodes``), constructed by PyYAML and its keys made strings."""
    global _yaml_loader
    import yaml

    if _yaml_loader is None:
        _yaml_loader = _make_yaml_loader()
    loader = _yaml_loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            return _build_plain(node, loader)
        except (_NotPlain, yaml.YAMLError):
            pass  # the general path finds (and reports) it in its own order
        _check_nodes(node, file)
        return _normalise_keys(loader.construct_document(node))
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", file=file) from None
    finally:
        loader.dispose()


class _NotPlain(Exception):
    """A composed YAML graph the one-pass builder leaves to the general path."""


_MAP, _SEQ, _STR = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:str"
_SCALAR_TAGS = tuple(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null"))


def _build_plain(root: Any, loader: Any) -> Any:
    """What ``_check_nodes``, PyYAML's construction and ``_normalise_keys`` make of a plain
    graph, in one pass (they were a third of a large spec's first load, issue 19).

    Plain: no node reached twice (no aliases of mappings or lists), no merge key or other tag
    than a mapping's, a list's, a string's, a number's, a boolean's or null's, no duplicate key,
    nested at most ``MAX_NESTING`` and within the node budget. Anything else is ``_NotPlain``.
    """
    import yaml

    scalar = {tag: type(loader).yaml_constructors[tag] for tag in _SCALAR_TAGS}
    seen: set[int] = set()
    holder: list[Any] = [None]
    stack: list[tuple[Any, int, Any, Any]] = [(root, 1, holder, 0)]
    visits = 0
    while stack:
        node, depth, parent, slot = stack.pop()
        visits += 1
        if isinstance(node, yaml.ScalarNode):
            parent[slot] = node.value if node.tag == _STR else _plain_scalar(scalar, loader, node)
            continue
        if id(node) in seen or depth > MAX_NESTING:
            raise _NotPlain
        seen.add(id(node))
        if node.tag == _SEQ and isinstance(node, yaml.SequenceNode):
            parent[slot] = built = [None] * len(node.value)
            stack.extend((child, depth + 1, built, index) for index, child in enumerate(node.value))
        elif node.tag == _MAP and isinstance(node, yaml.MappingNode):
            parent[slot] = mapping = _plain_keys(scalar, loader, node)
            stack.extend((value, depth + 1, mapping, key) for key, (_, value) in zip(mapping, node.value))
        else:
            raise _NotPlain
    if visits > ALIAS_NODE_BUDGET + ALIAS_EXPANSION_FACTOR * len(seen):
        raise _NotPlain  # no alias, yet more nodes than the budget: the general check says so
    return holder[0]


def _plain_scalar(scalar: dict[str, Any], loader: Any, node: Any) -> Any:
    construct = scalar.get(node.tag)
    if construct is None:
        raise _NotPlain
    return construct(loader, node)


def _plain_keys(scalar: dict[str, Any], loader: Any, node: Any) -> dict[str, Any]:
    """A mapping's keys, as strings and in order (values to come); ``_NotPlain`` for a key that
    is not a plain scalar, or two keys that are the same text or the same string."""
    import yaml

    mapping: dict[str, Any] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise _NotPlain
        mapping[_key(key.value if key.tag == _STR else _plain_scalar(scalar, loader, key))] = None
    if len(mapping) != len(node.value):
        raise _NotPlain
    return mapping


def _check_nodes(root: Any, file: str) -> None:
    """Refuse duplicate keys, alias bombs and runaway nesting before anything is built.

    The composed graph shares an aliased node; its expanded size (each use counted) is summed
    once per distinct node, so the check is linear in the text however large the expansion.
    """
    import yaml

    expanded: dict[int, int] = {}
    order: list[tuple[Any, int]] = []  # every distinct collection node, parents before children
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in expanded or not isinstance(node, yaml.CollectionNode):
            continue
        if depth > MAX_NESTING:
            line = node.start_mark.line + 1
            raise SpecError(f"nested more than {MAX_NESTING} levels deep (line {line}); refused", file=file)
        expanded[id(node)] = 0
        order.append((node, depth))
        if isinstance(node, yaml.MappingNode):
            _check_unique_keys(node, file)
            children = [part for pair in node.value for part in pair]
        else:
            children = list(node.value)
        stack.extend((child, depth + 1) for child in children)
    for node, _ in reversed(order):  # children first: each size is known when its parent needs it
        children = [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else node.value
        expanded[id(node)] = 1 + sum(expanded.get(id(child), 1) for child in children)
    distinct = len(order)
    budget = ALIAS_NODE_BUDGET + ALIAS_EXPANSION_FACTOR * distinct
    if expanded.get(id(root), 1) > budget:
        raise SpecError(
            f"its aliases expand to {expanded[id(root)]:,} nodes, more than the {budget:,} allowed"
            " for a text of its size: an alias bomb; refused",
            file=file,
        )


def _check_unique_keys(node: Any, file: str) -> None:
    seen: set[str] = set()
    for key, _ in node.value:
        if key.tag == "tag:yaml.org,2002:merge" or not isinstance(key.value, str):
            continue
        if key.value in seen:
            raise SpecError(
                f"duplicate key {key.value!r} (line {key.start_mark.line + 1}): {_SHADOWED}",
                file=file,
            )
        seen.add(key.value)


def _check_depth(data: Any, file: str) -> None:
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            raise SpecError(f"nested more than {MAX_NESTING} levels deep; refused", file=file)
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))


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
