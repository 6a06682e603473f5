"""CPU and wall time per call, every client measured in interleaved rounds."""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

from .peers import Call


@dataclass
class Samples:
    """Per-call CPU (the calling thread's) and wall seconds of one client."""

    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    round_cpu: list[float] = field(default_factory=list)  # each round's median CPU, in round order
    round_wall: list[float] = field(default_factory=list)  # and wall

    def median_cpu(self) -> float:
        return statistics.median(self.cpu)

    def p90_cpu(self) -> float:
        return _p90(self.cpu)

    def median_wall(self) -> float:
        return statistics.median(self.wall)

    def p90_wall(self) -> float:
        return _p90(self.wall)


def paired_ratio(ours: list[float], theirs: list[float]) -> float:
    """The median of the round-by-round ratios of two figures measured in the same rounds.

    A round measures every client within about a second, so a slow spell of a shared machine
    that spans rounds lands on both figures of a pair; pooled medians keep the spells that fell
    on one client's rounds (two runs of the same code read 9% apart that way)."""
    return statistics.median(a / b for a, b in zip(ours, theirs, strict=True))


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def measure(calls: dict[str, Call], rounds: int = 15, per_round: int = 200, warmup: int = 50) -> dict[str, Samples]:
    """Interleave the clients round by round, so drift on the machine hits them all alike."""
    for call in calls.values():
        for _ in range(warmup):
            call()
    samples = {name: Samples() for name in calls}
    names = list(calls)
    for number in range(rounds):
        # The order turns every round: no client is always the one after a given other.
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            _round(calls[name], per_round, samples[name])
    return samples


def _round(call: Callable[[], object], count: int, into: Samples) -> None:
    # The collector runs between rounds, not inside one: a pause would land on whichever
    # client happened to be running.
    gc.collect()
    gc.disable()
    cpu_clock, wall_clock = time.thread_time, time.perf_counter
    try:
        for _ in range(count):
            cpu, wall = cpu_clock(), wall_clock()
            call()
            into.wall.append(wall_clock() - wall)
            into.cpu.append(cpu_clock() - cpu)
    finally:
        gc.enable()
    into.round_cpu.append(statistics.median(into.cpu[-count:]))
    into.round_wall.append(statistics.median(into.wall[-count:]))
