"""Bundling: a document spread over files becomes one with local references only."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import SpecError
from .pointers import pointer_of, resolve_pointer
from .read import parse_text
from .source import DocumentSource
from .urls import is_url

# --------------------------------------------------------------------------- bundling


class _Bundler:
    """Turns a document spread over files into one with local references only."""

    def __init__(self, root: Path | str, source: DocumentSource | None = None):
        self.root = str(root)
        self.folder = "" if is_url(self.root) else os.path.realpath(os.path.dirname(self.root))
        self.inside: dict[str, bool] = {}  # file → whether it is in the folder
        self.source = source or DocumentSource()
        self.texts: dict[str, bytes] = {}
        self.docs: dict[str, Any] = {}
        self.hoisted: dict[tuple[str, str], str] = {}  # (file, pointer) → local ref
        self.origins: dict[str, tuple[str, str]] = {}  # bundled pointer → (file, pointer)
        self.adopted: dict[str, Any] = {}  # name → schema: other files' components/schemas, made the bundle's
        self.taken: set[str] = set()  # names of the bundle's components/schemas

    def read(self, file: str) -> Any:
        if file not in self.docs:
            self.texts[file] = self.source.read(file)
            self.docs[file] = parse_text(self.texts[file], file)
        return self.docs[file]

    def bundle(self) -> dict[str, Any]:
        doc = self.read(self.root)
        if not isinstance(doc, dict):
            raise SpecError("not an OpenAPI document (not a mapping)", file=self.root)
        refs = _refs(doc)  # one walk: whether any names another file, and what to check if none does
        if any(not ref.startswith("#") for ref in refs.file_refs):
            self._register_components(doc)
            self.taken = set((doc.get("components") or {}).get("schemas") or {})
            out = self._walk(doc, self.root, [], ())  # new containers throughout: the parsed files stay as read
        else:
            out = doc  # one file, local references only: it is its own bundle (no copy of a large spec)
        if self.adopted:
            components = out.setdefault("components", {})
            components["schemas"] = {**(components.get("schemas") or {}), **self.adopted}
        self._check_local_refs(out, refs.checked if out is doc else _refs(out).checked)
        return out

    def _register_components(self, doc: dict[str, Any]) -> None:
        """A component that is only a ``$ref`` to a file becomes that file's content."""
        for section, entries in (doc.get("components") or {}).items():
            if not isinstance(entries, dict):
                continue
            for name, value in entries.items():
                ref = value.get("$ref") if isinstance(value, dict) else None
                if isinstance(ref, str) and not ref.startswith("#"):
                    at = ["components", section, name]
                    target = self._target(ref, self.root, functools.partial(pointer_of, [*at, "$ref"]))
                    local = "#" + pointer_of(at)
                    self.hoisted.setdefault(target, local)

    def _target(self, ref: str, base: str, pointer: Callable[[], str]) -> tuple[str, str]:
        """The (file, pointer) a ``$ref`` at ``pointer`` of ``base`` names, kept inside the spec.

        A file spec's references stay in its first document's folder (its real path: a symlink
        leading out is out); a URL spec's stay on its origin (the fetcher's rule).
        """
        file_part, _, fragment = ref.partition("#")
        file = self.source.join(base, file_part) if file_part else base
        if self.folder and file_part and not is_url(file) and not self._inside(file):
            raise SpecError(
                f"$ref {ref!r} leads out of the spec's folder ({self.folder}); only files inside it are read",
                file=base,
                pointer=pointer(),
            )
        return file, fragment

    def _inside(self, file: str) -> bool:
        """Whether a file's real path (symlinks followed) is in the spec's folder; once per file."""
        if file not in self.inside:
            real = os.path.realpath(file)
            try:
                self.inside[file] = os.path.commonpath([real, self.folder]) == self.folder
            except ValueError:  # another drive
                self.inside[file] = False
        return self.inside[file]

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
        target = self._target(ref, file, lambda: self._origin_pointer(file, here) + "/$ref")
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
        adopted = self._adopt(target, content)
        if adopted is not None:
            return {"$ref": adopted, **self._walk(siblings, file, at, stack)}
        self.origins[here] = target
        resolved = self._walk(content, target[0], at, stack + (target,))
        if siblings and isinstance(resolved, dict):
            resolved = {**resolved, **self._walk(siblings, file, at, stack)}
        return resolved

    def _adopt(self, target: tuple[str, str], content: Any) -> str | None:
        """The local reference of another file's ``components/schemas/<Name>``, made the bundle's own.

        A schema another file declares as a component is one in the bundle too, under its name
        (so it becomes a model, and recursion through it is a plain local ``$ref``), when the
        name is free; else (``None``) it is inlined where it is referenced, as any other part.
        """
        parts = target[1].split("/")
        if len(parts) != 4 or parts[:3] != ["", "components", "schemas"] or not isinstance(content, dict):
            return None
        name = parts[3].replace("~1", "/").replace("~0", "~")
        if name in self.taken:
            return None
        self.taken.add(name)
        at = ["components", "schemas", name]
        local = "#" + pointer_of(at)
        self.hoisted[target] = local  # before the walk: a reference back to it is local
        self.origins[pointer_of(at)] = target
        self.adopted[name] = self._walk(content, target[0], at, (target,))
        return local

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

    def _check_local_refs(self, doc: dict[str, Any], refs: list[tuple[Any, str]]) -> None:
        """Every local ``$ref`` points at something, and no chain of them comes back to itself.

        Whether a chain ends well depends on the reference alone (a cycle through the place it
        stands at is a cycle of the reference too), so each distinct one is followed once: a
        large spec says the same ``$ref`` thousands of times.
        """
        good: set[str] = set()
        for where, ref in refs:
            if ref.startswith("#") and ref not in good:
                self._follow_chain(doc, pointer_of(_path(where)), ref)
                good.add(ref)

    def _follow_chain(self, doc: dict[str, Any], where: str, ref: str) -> None:
        """Follow ``$ref`` to ``$ref`` (a node that is a reference and nothing it adds of its
        own is no content): a chain that comes back is a cycle no reader can ever resolve."""
        seen = [where]
        while True:
            try:
                target = resolve_pointer(doc, ref[1:])
            except KeyError:
                file, pointer = origin_of(self.origins, seen[-1], self.root)
                raise SpecError(f"$ref {ref!r} points to nothing", file=file, pointer=pointer) from None
            if not (isinstance(target, dict) and isinstance(target.get("$ref"), str) and target["$ref"][:1] == "#"):
                return
            if ref[1:] in seen:
                file, pointer = origin_of(self.origins, where, self.root)
                cycle = " → ".join([*seen[seen.index(ref[1:]) :], ref[1:]])
                raise SpecError(f"$ref cycle with no content: {cycle}", file=file, pointer=pointer)
            seen.append(ref[1:])
            ref = target["$ref"]


@dataclass
class _Refs:
    """The ``$ref`` strings of a document: ``file_refs`` every one (a ``$ref`` nested in a
    ``$ref``'s own value too), ``checked`` those the local check follows, with where each stands."""

    file_refs: list[str] = field(default_factory=list)
    checked: list[tuple[Any, str]] = field(default_factory=list)


def _refs(doc: Any) -> _Refs:
    """One walk over the document, in document order, iteratively (documents nest deep).

    A place is a linked path ``(parent, key)``, made into a pointer only when asked for (see
    ``_path``): building every pointer on the way cost as much as the walk.
    """
    found = _Refs()
    stack: list[tuple[Any, Any, bool]] = [(doc, None, True)]  # (node, its place, whether checked)
    while stack:
        node, place, checked = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                found.file_refs.append(ref)
                if checked:
                    found.checked.append((place, ref))
            items = [(v, (place, k), checked and k != "$ref") for k, v in node.items() if isinstance(v, (dict, list))]
        elif isinstance(node, list):
            items = [(v, (place, i), checked) for i, v in enumerate(node) if isinstance(v, (dict, list))]
        else:
            continue
        stack.extend(reversed(items))
    return found


def _path(place: Any) -> list[Any]:
    """The keys from the root to a place of ``_refs``."""
    keys = []
    while place is not None:
        place, key = place
        keys.append(key)
    return keys[::-1]


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
