"""Load OpenAPI documents: read, resolve ``$ref``s across files, check, cache.

A spec source is a file, a folder (its ``*.yaml``/``*.yml``/``*.json`` files that are
OpenAPI documents) or a list of those. Each document is *bundled*: every ``$ref`` into a
sibling file is replaced by the content it points at, so what remains is one self-contained
document whose only references are local (``#/components/...``). A file that a
``components`` entry points at becomes that component, and every other reference to the same
place becomes a local reference to it, so shared and recursive schemas stay shared.

The bundled documents are checked with openapi-spec-validator and cached as JSON, keyed by
the content of every file read; a later load with no file changed skips parsing and checking.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Union

from .errors import SpecError

SpecSource = Union[str, "os.PathLike[str]", Iterable[Union[str, "os.PathLike[str]"]]]

SPEC_FILE_SUFFIXES = (".yaml", ".yml", ".json")
CACHE_FORMAT = 1

_PACKAGE_SPEC_DIR = Path(__file__).resolve().parent / "spec"
TASKS_SPEC = str(_PACKAGE_SPEC_DIR / "tasks.yaml")


@dataclass
class Document:
    """One bundled OpenAPI document: only local ``$ref``s remain."""

    path: str
    data: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)  # every file read → sha256

    @property
    def version(self) -> str:
        """``"3.0"`` or ``"3.1"``: the schema dialect of this document."""
        return "3.0" if str(self.data.get("openapi", "")).startswith("3.0") else "3.1"


# --------------------------------------------------------------------------- sources


def spec_source(values: Iterable[str] | None) -> list[str] | None:
    """Command-line ``--spec`` values as a spec source, for every command: none is the bundled
    spec, ``FILE`` replaces it, ``+FILE`` adds to it (once, even when it is named as well)."""
    values = list(values or ())
    if not values:
        return None
    files = [value[1:] if value.startswith("+") else value for value in values]
    bundled = Path(TASKS_SPEC)
    if any(value.startswith("+") for value in values) and all(Path(f).expanduser().resolve() != bundled for f in files):
        files.insert(0, TASKS_SPEC)
    return files


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


# --------------------------------------------------------------------------- pointers


def escape_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointer_of(parts: Iterable[Any]) -> str:
    return "".join("/" + escape_token(str(p)) for p in parts)


def resolve_pointer(doc: Any, pointer: str) -> Any:
    """The node at a JSON pointer (``""`` or ``"/a/b"``); ``KeyError`` when absent."""
    node = doc
    if not pointer:
        return node
    for raw in pointer.lstrip("/").split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            if not token.isdigit() or int(token) >= len(node):
                raise KeyError(pointer)
            node = node[int(token)]
        elif isinstance(node, dict) and token in node:
            node = node[token]
        else:
            raise KeyError(pointer)
    return node


# --------------------------------------------------------------------------- bundling


class _Bundler:
    """Turns a document spread over files into one with local references only."""

    def __init__(self, root: Path):
        self.root = str(root)
        self.texts: dict[str, bytes] = {}
        self.docs: dict[str, Any] = {}
        self.hoisted: dict[tuple[str, str], str] = {}  # (file, pointer) → local ref
        self.origins: dict[str, tuple[str, str]] = {}  # bundled pointer → (file, pointer)

    def read(self, file: str) -> Any:
        if file not in self.docs:
            try:
                with open(file, "rb") as handle:
                    self.texts[file] = handle.read()
            except OSError as exc:
                raise SpecError(f"cannot read: {exc.strerror}", file=file) from None
            self.docs[file] = parse_text(self.texts[file], file)
        return self.docs[file]

    def bundle(self) -> dict[str, Any]:
        doc = self.read(self.root)
        if not isinstance(doc, dict):
            raise SpecError("not an OpenAPI document (not a mapping)", file=self.root)
        doc = copy.deepcopy(doc)
        self._register_components(doc)
        out = self._walk(doc, self.root, [], ())
        self._check_local_refs(out)
        return out

    def _register_components(self, doc: dict[str, Any]) -> None:
        """A component that is only a ``$ref`` to a file becomes that file's content."""
        for section, entries in (doc.get("components") or {}).items():
            if not isinstance(entries, dict):
                continue
            for name, value in entries.items():
                ref = value.get("$ref") if isinstance(value, dict) else None
                if isinstance(ref, str) and not ref.startswith("#"):
                    target = self._target(ref, self.root)
                    local = "#" + pointer_of(["components", section, name])
                    self.hoisted.setdefault(target, local)

    def _target(self, ref: str, base: str) -> tuple[str, str]:
        file_part, _, fragment = ref.partition("#")
        file = os.path.normpath(os.path.join(os.path.dirname(base), file_part)) if file_part else base
        return file, fragment

    def _walk(self, node: Any, file: str, at: list[Any], stack: tuple) -> Any:
        if isinstance(node, list):
            return [self._walk(v, file, at + [i], stack) for i, v in enumerate(node)]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            return self._resolve_ref(node, ref, file, at, stack)
        return {k: self._walk(v, file, at + [k], stack) for k, v in node.items()}

    def _resolve_ref(self, node: dict, ref: str, file: str, at: list[Any], stack: tuple) -> Any:
        here = pointer_of(at)
        target = self._target(ref, file)
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        if target in self.hoisted and self.hoisted[target][1:] != here:
            return {"$ref": self.hoisted[target], **self._walk(siblings, file, at, stack)}
        if target[0] == file and file != self.root:
            target = self._local_in_fragment(target, file)
        if target[0] == self.root:
            return {"$ref": "#" + target[1], **self._walk(siblings, file, at, stack)}
        if target in stack:
            raise SpecError(
                "recursive $ref across files; register its target under components",
                file=file,
                pointer=self._origin_pointer(file, here),
            )
        try:
            referenced = self.read(target[0])
        except SpecError as exc:
            raise SpecError(
                f"$ref {ref!r} names a file that cannot be loaded ({exc})",
                file=file,
                pointer=self._origin_pointer(file, here),
            ) from None
        try:
            content = resolve_pointer(referenced, target[1])
        except KeyError:
            raise SpecError(
                f"$ref {ref!r} points to nothing", file=file, pointer=self._origin_pointer(file, here)
            ) from None
        self.origins[here] = target
        resolved = self._walk(copy.deepcopy(content), target[0], at, stack + (target,))
        if siblings and isinstance(resolved, dict):
            resolved = {**resolved, **self._walk(siblings, file, at, stack)}
        return resolved

    def _local_in_fragment(self, target: tuple[str, str], file: str) -> tuple[str, str]:
        """``#/...`` inside a fragment file: that file's own node, else the root document's.

        Published specs (the vendor's among them) write ``#/components/schemas/X`` in their
        schema files, meaning the document that includes them.
        """
        try:
            resolve_pointer(self.read(file), target[1])
            return target
        except KeyError:
            return self.root, target[1]

    def _origin_pointer(self, file: str, here: str) -> str:
        return origin_of(self.origins, here, self.root)[1] if file != self.root else here

    def _check_local_refs(self, doc: dict[str, Any]) -> None:
        for where, ref in _iter_refs(doc, []):
            if not ref.startswith("#"):
                continue
            try:
                resolve_pointer(doc, ref[1:])
            except KeyError:
                file, pointer = origin_of(self.origins, where, self.root)
                raise SpecError(f"$ref {ref!r} points to nothing", file=file, pointer=pointer) from None


def _iter_refs(node: Any, at: list[Any]) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield pointer_of(at), ref
        for key, value in node.items():
            if key != "$ref":
                yield from _iter_refs(value, at + [key])
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _iter_refs(value, at + [index])


def origin_of(origins: dict[str, tuple[str, str]], pointer: str, root: str) -> tuple[str, str]:
    """The file and pointer a place of the bundled document came from."""
    best = ""
    for prefix in origins:
        if (pointer == prefix or pointer.startswith(prefix + "/")) and len(prefix) > len(best):
            best = prefix
    if not best:
        return root, pointer
    file, inner = origins[best]
    return file, inner + pointer[len(best) :]


# --------------------------------------------------------------------------- checking


def check_document(data: dict[str, Any], file: str, origins: dict[str, tuple[str, str]]) -> None:
    """Check a bundled document with openapi-spec-validator; raise the first fault."""
    version = str(data.get("openapi", ""))
    if not re.match(r"^3\.[01]\.\d+", version):
        raise SpecError(
            f"unsupported or missing 'openapi' version {version!r} (3.0.x and 3.1.x are supported)",
            file=file,
            pointer="/openapi",
        )
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    validator_class = _locating_validator(
        OpenAPIV30SpecValidator if version.startswith("3.0") else OpenAPIV31SpecValidator
    )
    error = next(iter(validator_class(data).iter_errors()), None)
    if error is not None:
        where, pointer = origin_of(origins, _error_pointer(error, data), file)
        message = str(error.message).strip().splitlines()[0]
        raise SpecError(f"invalid OpenAPI document: {message}", file=where, pointer=pointer)


# openapi-spec-validator checks a document in two stages. The first validates the whole
# document against the OpenAPI meta-schema: its errors' ``absolute_path`` is a place in the
# document. The second walks the document with keyword validators (a schema against its
# dialect, a path's parameters against its template, …); their errors' paths are relative
# to the node the keyword validator was given (or empty), and the error object does not say
# which node that was. So every keyword validator is wrapped to note, on each error it
# yields, the node it was checking; the innermost one notes it first.

_ERROR_NODE = "_odm_dyn_node"  # (node value, its SchemaPath parts, key between node and error path)


@functools.cache
def _locating_validator(validator_class: type) -> type:
    """A subclass of an openapi-spec-validator class whose errors say where they are."""
    keyword_validators = {
        name: _locating_keyword(keyword) for name, keyword in validator_class.keyword_validators.items()
    }
    return type(validator_class.__name__, (validator_class,), {"keyword_validators": keyword_validators})


def _locating_keyword(keyword_class: type) -> type:
    from jsonschema_path import SchemaPath
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
    from openapi_spec_validator.validation.keywords import ValueValidator

    # a ValueValidator is given the schema and its ``default``: the error path is in the default
    between = ("default",) if issubclass(keyword_class, ValueValidator) else ()

    def __call__(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        node = next((arg for arg in args if isinstance(arg, SchemaPath)), None)
        for error in keyword_class.__call__(self, *args, **kwargs):
            if node is not None and not hasattr(error, _ERROR_NODE):
                if not isinstance(error, OpenAPIValidationError):
                    # the validator re-creates other errors as this class, dropping our note
                    error = OpenAPIValidationError.create_from(error)
                setattr(error, _ERROR_NODE, (node.read_value(), tuple(node.parts), between))
            yield error

    return type(keyword_class.__name__, (keyword_class,), {"__call__": __call__})


def _error_pointer(error: Any, data: dict[str, Any]) -> str:
    """The JSON pointer, in the (bundled) document, of a fault openapi-spec-validator found."""
    inner = list(getattr(error, "absolute_path", None) or getattr(error, "path", None) or [])
    noted = getattr(error, _ERROR_NODE, None)
    if noted is None:  # the meta-schema stage: the path is already absolute
        return pointer_of(inner)
    value, parts, between = noted
    # the node's own place, not the path through the ``$ref``s that led the validator to it
    node_pointer = _node_pointers(data).get(id(value)) if isinstance(value, (dict, list)) else None
    if node_pointer is None:
        node_pointer = pointer_of(parts)
    return node_pointer + pointer_of([*between, *inner])


def _node_pointers(data: Any) -> dict[int, str]:
    """``id()`` of every mapping and list of a document → its JSON pointer (first place seen)."""
    found: dict[int, str] = {}
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        node, at = stack.pop()
        if id(node) in found:
            continue
        found[id(node)] = at
        items = node.items() if isinstance(node, dict) else enumerate(node)
        stack.extend(
            (v, f"{at}/{escape_token(str(k))}") for k, v in reversed(list(items)) if isinstance(v, (dict, list))
        )
    return found


def _check_operation_ids(documents: list[Document]) -> None:
    seen: dict[str, str] = {}
    for document in documents:
        for path, item in (document.data.get("paths") or {}).items():
            for method, operation in item.items():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                op_id = operation["operationId"]
                pointer = pointer_of(["paths", path, method, "operationId"])
                if op_id in seen:
                    raise SpecError(
                        f"duplicate operationId {op_id!r} (also in {seen[op_id]})",
                        file=document.path,
                        pointer=pointer,
                    )
                seen[op_id] = f"{document.path}#{pointer}"


# --------------------------------------------------------------------------- cache


def cache_dir() -> Path:
    """Where users expect caches: ``$ODM_DYN_CACHE_DIR``, else the platform's cache folder."""
    override = os.environ.get("ODM_DYN_CACHE_DIR")
    if override:
        return Path(override)
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "odm_dyn"
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "odm_dyn" / "Cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "odm_dyn"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _cache_file(root: Path, root_text: bytes) -> Path:
    key = _sha(f"{CACHE_FORMAT}\0{root}\0".encode() + root_text)
    return cache_dir() / f"spec-{key[:40]}.json"


def _read_cache(root: Path, root_text: bytes) -> Document | None:
    """The cached document, if every file it was made from is unchanged; else ``None``."""
    try:
        with open(_cache_file(root, root_text), "rb") as handle:
            entry = json.loads(handle.read())
        if entry.get("format") != CACHE_FORMAT or entry.get("path") != str(root):
            return None
        for file, digest in entry["files"].items():
            with open(file, "rb") as handle:
                if _sha(handle.read()) != digest:
                    return None
        return Document(path=str(root), data=entry["data"], files=entry["files"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # no cache, or a corrupt one: load from the files


def _write_cache(root: Path, root_text: bytes, document: Document) -> None:
    target = _cache_file(root, root_text)
    entry = {"format": CACHE_FORMAT, "path": document.path, "files": document.files, "data": document.data}
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(entry, separators=(",", ":")))
        os.replace(temporary, target)
    except OSError:
        pass  # a read-only home is no reason to fail: the cache only saves time


# --------------------------------------------------------------------------- loading


def load_document(path: Path, *, use_cache: bool = True) -> Document:
    """Read, bundle and check one document (from the cache when nothing changed)."""
    return _finish(_bundle_or_cached(path, use_cache), use_cache)


def load_documents(source: SpecSource = TASKS_SPEC, *, use_cache: bool = True) -> list[Document]:
    """Load every document a source names; operationIds must be unique across them.

    Duplicate operationIds are looked for before the (slow) document checks, so a wrong
    combination of files fails at once.
    """
    pending = [_bundle_or_cached(path, use_cache) for path in spec_files(source)]
    _check_operation_ids([item.document for item in pending])
    return [_finish(item, use_cache) for item in pending]


@dataclass
class _Pending:
    """A bundled document, and what its check (if it still needs one) and cache entry need."""

    document: Document
    root_text: bytes
    origins: dict[str, tuple[str, str]] | None  # None: came from the cache, already checked


def _bundle_or_cached(path: Path, use_cache: bool) -> _Pending:
    try:
        root_text = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}", file=str(path)) from None
    if use_cache:
        cached = _read_cache(path, root_text)
        if cached is not None:
            return _Pending(cached, root_text, None)
    bundler = _Bundler(path)
    bundler.texts[str(path)] = root_text
    bundler.docs[str(path)] = parse_text(root_text, str(path))
    data = bundler.bundle()
    files = {file: _sha(text) for file, text in bundler.texts.items()}
    return _Pending(Document(path=str(path), data=data, files=files), root_text, bundler.origins)


def _finish(item: _Pending, use_cache: bool) -> Document:
    if item.origins is not None:
        check_document(item.document.data, item.document.path, item.origins)
        if use_cache:
            _write_cache(Path(item.document.path), item.root_text, item.document)
    return item.document
