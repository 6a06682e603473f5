"""AsyncClient's figures (issue 18): per-call CPU against bare httpx and aiopenapi3, and the
time and CPU to wait for 200 tasks from one event loop against 200 threads with ``Client``.

    python -m bench.asyncbench [--rounds N] [--per-round N] [--tasks N]

Per call: every client makes one ``getTaskInfo`` call at a time on one event loop, in
interleaved rounds (as ``percall.py`` does for the blocking clients); the CPU is the loop
thread's time around each awaited call, so the waiting costs nothing. The waits: ``tasks``
tasks published on a server whose tasks take ``task_seconds``, then waited for with
``AsyncClient.wait_for_tasks`` (one loop) and with ``Client.wait_for_task`` in one thread per
task (one shared client); wall time and the whole process's CPU for each.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import threading
import time
from typing import Any, Awaitable, Callable

from .percall import Samples
from .server import ServerProcess, publish_task

AsyncCall = Callable[[], Awaitable[Any]]
TASK_PATH = "/api/v1/tasks/{id}"


# --------------------------------------------------------------------------- the clients


def odm_dyn_async(url: str, token: str, task_id: str) -> tuple[AsyncCall, Callable[[], Awaitable[None]]]:
    import odm_dyn

    client = odm_dyn.AsyncClient(url, token=token)
    return (lambda: client.get_task_info(task_id)), client.aclose


def bare_httpx(url: str, token: str, task_id: str) -> tuple[AsyncCall, Callable[[], Awaitable[None]]]:
    import httpx

    session = httpx.AsyncClient(timeout=10)
    target, headers = url + TASK_PATH.format(id=task_id), {"Genestack-API-Token": token}

    async def call() -> Any:
        return (await session.get(target, headers=headers)).json()

    return call, session.aclose


def aiopenapi3_async(url: str, token: str, task_id: str) -> tuple[AsyncCall, Callable[[], Awaitable[None]]]:
    """aiopenapi3 with one shared asynchronous httpx2 client (its default makes one per call)."""
    import httpx2
    import yaml
    from aiopenapi3 import OpenAPI

    import odm_dyn

    with open(odm_dyn.TASKS_SPEC, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    document["servers"] = [{"url": url}]

    class SharedClient(httpx2.AsyncClient):
        async def aclose(self) -> None:
            pass  # kept open for the next request: connection reuse, as every peer has

    shared: list[Any] = []

    def factory(**options: Any) -> Any:
        if not shared:
            shared.append(SharedClient(**options))
        return shared[0]

    factory.__annotations__ = {"return": SharedClient}  # aiopenapi3 tells async factories by this
    api = OpenAPI(url + "/openapi.yaml", document, session_factory=factory, use_operation_tags=False)
    api.authenticate(**{"Genestack-API-Token": token})
    operation = api._.getTaskInfo

    async def close() -> None:
        for session in shared:
            await httpx2.AsyncClient.aclose(session)

    return (lambda: operation(parameters={"id": task_id})), close


PEERS = {"odm_dyn AsyncClient": odm_dyn_async, "bare httpx (async)": bare_httpx, "aiopenapi3 (async)": aiopenapi3_async}


# --------------------------------------------------------------------------- per call


async def _per_call(url: str, token: str, task_id: str, rounds: int, per_round: int) -> dict[str, Any]:
    calls: dict[str, AsyncCall] = {}
    closers: list[Callable[[], Awaitable[None]]] = []
    missing: dict[str, str] = {}
    for name, factory in PEERS.items():
        try:
            call, close = factory(url, token, task_id)
            closers.append(close)
            for _ in range(20):  # warm up: connections open, caches filled
                await call()
            calls[name] = call
        except Exception as exc:  # a peer that cannot be set up is reported, not fatal
            missing[name] = f"{type(exc).__name__}: {exc}"[:200]
    samples = {name: Samples() for name in calls}
    names = list(calls)
    for number in range(rounds):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            await _round(calls[name], per_round, samples[name])
    for close in closers:
        await close()
    base = samples.get("bare httpx (async)")
    table = {
        name: {
            "cpu_ms": s.median_cpu() * 1e3,
            "cpu_p90_ms": s.p90_cpu() * 1e3,
            "wall_ms": s.median_wall() * 1e3,
            "cpu_ratio": s.median_cpu() / base.median_cpu() if base else float("nan"),
            "calls": len(s.cpu),
        }
        for name, s in samples.items()
    }
    return {"clients": table, "not_measured": missing}


async def _round(call: AsyncCall, count: int, into: Samples) -> None:
    gc.collect()
    gc.disable()
    try:
        for _ in range(count):
            cpu, wall = time.thread_time(), time.perf_counter()
            await call()
            into.wall.append(time.perf_counter() - wall)
            into.cpu.append(time.thread_time() - cpu)
    finally:
        gc.enable()


# --------------------------------------------------------------------------- many waits


def _publish(url: str, token: str, count: int) -> list[str]:
    return [publish_task(url, token) for _ in range(count)]


def waits(url: str, token: str, tasks: int) -> dict[str, Any]:
    """Wait for ``tasks`` fresh tasks each way; wall seconds and the process's CPU seconds."""
    import odm_dyn

    out: dict[str, Any] = {}
    options = {"timeout": 600, "interval": 0.1, "max_interval": 0.5}

    async def with_loop(ids: list[str]) -> int:
        async with odm_dyn.AsyncClient(url, token=token) as client:
            return len([t async for t in client.wait_for_tasks(ids, **options)])

    ids = _publish(url, token, tasks)
    out["AsyncClient, one event loop"] = _timed(lambda: asyncio.run(with_loop(ids)), tasks)

    def with_threads(ids: list[str]) -> int:
        done: list[Any] = []
        with odm_dyn.Client(url, token=token) as client:
            threads = [
                threading.Thread(target=lambda i=i: done.append(client.wait_for_task(i, **options))) for i in ids
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        return len(done)

    ids = _publish(url, token, tasks)
    out[f"Client, {tasks} threads"] = _timed(lambda: with_threads(ids), tasks)
    return out


def _timed(wait: Callable[[], int], expected: int) -> dict[str, Any]:
    cpu, wall = time.process_time(), time.perf_counter()
    finished = wait()
    return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu, "finished": finished}


# --------------------------------------------------------------------------- the run


def measure(server: ServerProcess, task_id: str, *, rounds: int = 15, per_round: int = 200, tasks: int = 200) -> dict:
    per_call = asyncio.run(_per_call(server.url, server.token, task_id, rounds, per_round))
    return {"per_call": per_call, "waits": waits(server.url, server.token, tasks), "task_seconds": server.task_seconds}


def markdown(result: dict[str, Any]) -> list[str]:
    lines = [
        "## AsyncClient (issue 18)",
        "",
        "Per `getTaskInfo` call, one at a time on one event loop (CPU: the loop thread's; ratio to bare httpx):",
        "",
        "| client | CPU median | CPU p90 | CPU ratio | wall median | calls |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in result["per_call"]["clients"].items():
        lines.append(
            f"| {name} | {row['cpu_ms']:.3f} ms | {row['cpu_p90_ms']:.3f} ms | {row['cpu_ratio']:.2f}× | "
            f"{row['wall_ms']:.3f} ms | {row['calls']} |"
        )
    for name, why in result["per_call"].get("not_measured", {}).items():
        lines.append(f"| {name} | not measured: {why} | | | | |")
    lines += [
        "",
        f"Waiting for many tasks at once (each DONE {result['task_seconds']} s after it was published; "
        "CPU: the whole process's):",
        "",
        "| how | wall | CPU | finished |",
        "|---|---|---|---|",
    ]
    for name, row in result["waits"].items():
        lines.append(f"| {name} | {row['wall_s']:.2f} s | {row['cpu_s']:.2f} s | {row['finished']} |")
    return lines + [""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--task-seconds", type=float, default=2.0)
    args = parser.parse_args(argv)
    with ServerProcess(task_seconds=args.task_seconds) as server:
        task_id = publish_task(server.url)
        result = measure(server, task_id, rounds=args.rounds, per_round=args.per_round, tasks=args.tasks)
    print(json.dumps(result, indent=2))
    print("\n".join(markdown(result)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
