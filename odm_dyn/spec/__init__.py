"""Load OpenAPI documents: read, resolve ``$ref``s across files, check, cache.

A spec source is a file, a folder (its ``*.yaml``/``*.yml``/``*.json`` files that are
OpenAPI documents) or a list of those. Each document is *bundled*: every ``$ref`` into a
sibling file is replaced by the content it points at, so what remains is one self-contained
document whose only references are local (``#/components/...``). A file that a
``components`` entry points at becomes that component, and every other reference to the same
place becomes a local reference to it, so shared and recursive schemas stay shared.

The bundled documents are checked with openapi-spec-validator and cached as JSON, keyed by
the content of every file read; a later load with no file changed skips parsing and checking.

A source may name http(s) URLs too (``fetch``): their files are cached with their validators
and revalidated, their relative ``$ref``s resolve over HTTP, and ``diff(old, new)`` says what
changed between two specs and whether it breaks callers.

Layer: the bottom above ``errors`` and ``names``; imports nothing else of odm_dyn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what mypy and editors read; at run time each name loads with its module
    from .cache import cache_dir
    from .changes import Change, SpecDiff, diff, operation_fingerprints
    from .document import SPEC_FILE_SUFFIXES, TASKS_SPEC, Document, SpecSource
    from .fetch import DEFAULT_LIMITS, FetchOptions, Limits
    from .load import load_document, load_documents
    from .pointers import escape_token, pointer_of, resolve_pointer
    from .read import parse_text, spec_files, spec_source

# Each public name and the module it lives in. The package imports none of them itself: a
# process that only reads a cached spec (a client's start) never needs the bundler, the
# checker, the differ or their dependencies, and ``import odm_dyn`` reaches this package
# (for ``TASKS_SPEC``) on every start.
_HOMES = {
    "cache_dir": "cache",
    **dict.fromkeys(("Change", "SpecDiff", "diff", "operation_fingerprints"), "changes"),
    **dict.fromkeys(("SPEC_FILE_SUFFIXES", "TASKS_SPEC", "Document", "SpecSource"), "document"),
    **dict.fromkeys(("DEFAULT_LIMITS", "FetchOptions", "Limits"), "fetch"),
    **dict.fromkeys(("load_document", "load_documents"), "load"),
    **dict.fromkeys(("escape_token", "pointer_of", "resolve_pointer"), "pointers"),
    **dict.fromkeys(("parse_text", "spec_files", "spec_source"), "read"),
}

__all__ = [
    "DEFAULT_LIMITS",
    "SPEC_FILE_SUFFIXES",
    "TASKS_SPEC",
    "Change",
    "Document",
    "FetchOptions",
    "Limits",
    "SpecDiff",
    "SpecSource",
    "cache_dir",
    "diff",
    "escape_token",
    "load_document",
    "load_documents",
    "operation_fingerprints",
    "parse_text",
    "pointer_of",
    "resolve_pointer",
    "spec_files",
    "spec_source",
]


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
