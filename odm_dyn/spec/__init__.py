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

from .cache import cache_dir
from .changes import Change, SpecDiff, diff, operation_fingerprints
from .document import SPEC_FILE_SUFFIXES, TASKS_SPEC, Document, SpecSource
from .fetch import DEFAULT_LIMITS, FetchOptions, Limits
from .load import load_document, load_documents
from .pointers import escape_token, pointer_of, resolve_pointer
from .read import parse_text, spec_files, spec_source

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
