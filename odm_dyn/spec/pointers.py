"""JSON pointers: how every fault names its place in a document."""

from __future__ import annotations

from typing import Any, Iterable

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
