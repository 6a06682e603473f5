"""An OpenAPI document after bundling, and what names a spec source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..types import SpecSource  # noqa: F401 - named here since 0.1.0

SPEC_FILE_SUFFIXES = (".yaml", ".yml", ".json")
CACHE_FORMAT = 4  # 2: documents whose $refs led out of their folder are no longer valid; 3: stamps, one entry per path;
# 4: whether an Api was compiled from the entry (before, a spec-only load's entry passed for one)

_PACKAGE_SPEC_DIR = Path(__file__).resolve().parent.parent / "data" / "spec"
TASKS_SPEC = str(_PACKAGE_SPEC_DIR / "tasks.yaml")


# Not dataclasses: a client's start must not import them (tests/test_perf_guards.py, issue 19).
class Document:
    """One bundled OpenAPI document: only local ``$ref``s remain."""

    __slots__ = ("path", "data", "files", "from_cache", "compiled", "cache_pending_ns")

    def __init__(
        self,
        path: str,
        data: dict[str, Any],
        files: dict[str, str] | None = None,
        from_cache: bool = False,
        compiled: bool = False,
        cache_pending_ns: int | None = None,
    ) -> None:
        self.path = path
        self.data = data
        self.files = {} if files is None else files  # every file read → sha256
        # Read from the spec cache: checked by an earlier load.
        self.from_cache = from_cache
        # An Api was compiled from it before (every schema compiled): its schemas may compile on
        # first use. A spec-only load (``odm-dyn diff``, the CLI's parsers) compiles none.
        self.compiled = compiled
        # Set by a load that compiles an Api before caching: when it began reading the files, for
        # the entry written once the Api compiled (``spec.cache.save_compiled``).
        self.cache_pending_ns = cache_pending_ns

    def __repr__(self) -> str:
        return f"Document(path={self.path!r}, data={self.data!r}, files={self.files!r})"

    @property
    def version(self) -> str:
        """``"3.0"`` or ``"3.1"``: the schema dialect of this document."""
        return "3.0" if str(self.data.get("openapi", "")).startswith("3.0") else "3.1"
