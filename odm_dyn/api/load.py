"""The compiled Api of a spec source, built once per process and set of file versions."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TYPE_CHECKING

from ..names import SURFACE_MODULE_MARK
from ..spec.cache import save_compiled
from ..spec.document import TASKS_SPEC, Document, SpecSource
from ..spec.load import load_documents, without_cyclic_gc
from ..spec.urls import has_scheme
from .plans import Api

if TYPE_CHECKING:
    from ..spec.fetch import FetchOptions

# --------------------------------------------------------------------------- cache of Apis

_apis: dict[tuple, Api] = {}  # by the content of every file read
_by_source: dict[tuple[str, ...], tuple[tuple[str, ...], tuple, Api]] = {}  # source → (files, their stamps, Api)
_apis_lock = threading.Lock()
# A file changed this recently may change again within its timestamp's resolution unseen:
# an Api read from such files is not found by stamps (its next load checks the contents).
_RACY_NS = 2_000_000_000


def load_api(source: SpecSource | None = None, *, fetch: FetchOptions | None = None) -> Api:
    """The compiled Api for a spec source; built once per process and set of file versions.

    While no file the documents were read from (nor a folder the source names) has changed
    size or modification time, the Api is found without reading anything but their stats;
    otherwise the documents are loaded, which compares file contents. A source with a URL
    is revalidated on every load (conditional requests: see ``spec.fetch``); ``fetch`` says
    how (``refresh``, the headers for the spec's host).
    """
    with without_cyclic_gc():  # the whole load: a full collection between its steps costs as much
        return _load_api(TASKS_SPEC if source is None else source, fetch)


def _load_api(source: SpecSource, fetch: FetchOptions | None) -> Api:
    source_key = _source_key(source)
    known = _by_source.get(source_key)
    if known is not None and _stamps(known[0]) == known[1]:
        return known[2]
    documents = load_documents(source, fetch=fetch, cache_after_compile=True)
    key = tuple((d.path, tuple(sorted(d.files.items()))) for d in documents)
    with _apis_lock:
        api = _apis.get(key)
        if api is None:
            api = _apis[key] = _compiled(documents)
            for model in api.models.values():  # what a pickled model names to find its class again
                model._spec_source = None if source == TASKS_SPEC else _portable_source(source)
    paths = tuple(sorted({file for d in documents for file in d.files} | set(_folders(source_key))))
    stamps = _stamps(paths)
    if stamps is not None and all(mtime < time.time_ns() - _RACY_NS for _, mtime, _ in stamps):
        _by_source[source_key] = (paths, stamps, api)
    return api


def _compiled(documents: list[Document]) -> Api:
    """The Api of the documents; then their cache entries, which say that it compiled (a later
    load may then compile their schemas on first use). A spec whose schemas do not compile
    raises here and leaves no entry behind, so the next load fails at load time too."""
    api = Api(documents)
    for document in documents:
        save_compiled(document)
    return api


# --------------------------------------------------------------------------- the surface's spec

_surface: list[SpecSource] = []  # the spec chosen for the generated-client surface, if any
SURFACE_ENV = "ODM_DYN_SPEC"  # or a path list in the environment (os.pathsep between paths)


def use_spec(source: SpecSource | None) -> None:
    """Make ``source`` the spec of the generated-client surface: ``odm_dyn.<Tag>Api``,
    ``odm_dyn.models.<name>``, ``odm_dyn.api.<tag>_api`` (``None``: the bundled one again)."""
    _surface[:] = [] if source is None else [source]
    _forget_surface_modules()


def _forget_surface_modules() -> None:
    """Drop the modules made from the previous surface spec, so the next import makes them anew."""
    for name, module in list(sys.modules.items()):
        if getattr(module, SURFACE_MODULE_MARK, False):
            del sys.modules[name]
            parent, _, child = name.rpartition(".")
            if getattr(sys.modules.get(parent), child, None) is module:
                delattr(sys.modules[parent], child)


def surface_source() -> SpecSource | None:
    """The spec the generated-client surface names: ``use_spec()``'s, else ``$ODM_DYN_SPEC``'s."""
    if _surface:
        return _surface[0]
    from_env = os.environ.get(SURFACE_ENV)
    return from_env.split(os.pathsep) if from_env else None


def surface_apis() -> list[Api]:
    """The compiled specs the surface looks names up in: the chosen one, then the bundled one."""
    source = surface_source()
    apis = [load_api(source)] if source is not None else []
    bundled = load_api()
    return apis + ([bundled] if bundled not in apis else [])


def _portable_source(source: SpecSource) -> list[str]:
    """The source as another process (a pickle's reader) can load it: paths made absolute, URLs kept."""
    items = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    texts = [str(os.fspath(item)) for item in items]
    return [text if "://" in text else os.path.abspath(os.path.expanduser(text)) for text in texts]


def _source_key(source: SpecSource) -> tuple[str, ...]:
    items = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    names = [os.fspath(item) for item in items]
    return tuple(name if has_scheme(name) else os.path.abspath(os.path.expanduser(name)) for name in names)


def _folders(source_key: tuple[str, ...]) -> list[str]:
    """The folders a source names: adding or removing a document changes their stamps."""
    return [item for item in source_key if not has_scheme(item) and os.path.isdir(item)]


def _stamps(paths: tuple[str, ...]) -> tuple | None:
    """``(path, mtime_ns, size)`` of each path, or ``None`` when one is gone."""
    stamps = []
    for path in paths:
        try:
            stat = os.stat(path)
        except OSError:
            return None
        stamps.append((path, stat.st_mtime_ns, stat.st_size))
    return tuple(stamps)


def source_label(source: SpecSource | None) -> str:
    if source is None:
        return os.path.basename(TASKS_SPEC)
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return ", ".join(os.fspath(s) for s in source)
