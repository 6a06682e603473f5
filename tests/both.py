"""Both clients behind one blocking face, so one test body runs for ``Client`` and ``AsyncClient``.

``make("AsyncClient", url, ...)`` gives a :class:`Blocking` over a real ``odm_dyn.AsyncClient``:
each coroutine method is run to its end on the client's own event loop (one loop per client, as
a program's would be), async iterators are iterated on it, and everything else is the client's
own attribute. No part of the client is replaced: the requests go over real loopback HTTP.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from typing import Any

import odm_dyn

KINDS = ["Client", "AsyncClient"]


def make(kind: str, *args: Any, **kwargs: Any) -> Any:
    """A client of that kind; the async one behind :class:`Blocking`."""
    if kind == "Client":
        return odm_dyn.Client(*args, **kwargs)
    client = odm_dyn.AsyncClient(*args, **kwargs)  # first: a refused setting leaves no loop behind
    return Blocking(client, asyncio.new_event_loop())


def from_env(kind: str, *args: Any, **kwargs: Any) -> Any:
    if kind == "Client":
        return odm_dyn.Client.from_env(*args, **kwargs)
    client = odm_dyn.AsyncClient.from_env(*args, **kwargs)
    return Blocking(client, asyncio.new_event_loop())


class Blocking:
    """An object's coroutines run to their end on ``loop``; its async iterators iterated there."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop, owner: Blocking | None = None):
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_loop", loop)
        object.__setattr__(self, "_owner", owner)

    def __getattr__(self, name: str) -> Any:
        return self._wrap(getattr(self._target, name))

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._target, name, value)

    def __dir__(self) -> list[str]:
        return dir(self._target)

    def __repr__(self) -> str:
        return repr(self._target)

    def __iter__(self) -> Any:
        iterator = self._target.__aiter__()
        while True:
            try:
                yield self._loop.run_until_complete(iterator.__anext__())
            except StopAsyncIteration:
                return

    def _wrap(self, value: Any) -> Any:
        if callable(value) and not isinstance(value, type):
            return self._blocking(value)  # coroutines are run, async iterators wrapped, the rest as it is
        if hasattr(value, "_client") and value.__class__.__module__ == "odm_dyn":  # a tag namespace
            return Blocking(value, self._loop, self)
        return value

    def _blocking(self, function: Any) -> Any:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            result = function(*args, **kwargs)
            if inspect.iscoroutine(result):
                return self._loop.run_until_complete(result)
            if hasattr(result, "__aiter__"):
                return Blocking(result, self._loop, self)
            return result

        run.__signature__ = inspect.signature(function)  # type: ignore[attr-defined]  # as bound: no self
        return run

    # the client's own ends
    def __enter__(self) -> Blocking:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self._owner is None and not self._loop.is_closed():
            self._loop.run_until_complete(self._target.aclose())
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()


def run(client: Any, coroutine_or_value: Any) -> Any:
    """``client``'s loop runs a coroutine (a value is returned as it is)."""
    if isinstance(client, Blocking) and inspect.iscoroutine(coroutine_or_value):
        return client._loop.run_until_complete(coroutine_or_value)
    return coroutine_or_value
