"""Following links: which objects of a kind an object reaches through links and groups.

The edges are the stored links (either direction) and group membership (member ↔ group).
A search goes level by level and stops at the first level holding objects of the kind
wanted, so a sample's own linked library wins over every library of a linked library group.
It never walks *through* a study: two studies' samples do not reach each other.
"""

from __future__ import annotations

from ..objects import Obj, ObjectStore

MAX_LEVELS = 4


def neighbours(objects: ObjectStore, obj: Obj, now: int) -> list[Obj]:
    found = [objects.get(a, now) for a in objects.linked(obj.accession)]
    if obj.group:
        found.append(objects.get(obj.group, now))
    if obj.kind.endswith("Group"):
        found.extend(objects.members(obj.accession, now))
    return [o for o in found if o is not None]


def related(objects: ObjectStore, start: Obj, kind: str, now: int) -> list[Obj]:
    seen = {start.accession}
    frontier = [start]
    for _ in range(MAX_LEVELS):
        level = []
        for obj in frontier:
            for other in neighbours(objects, obj, now):
                if other.accession not in seen:
                    seen.add(other.accession)
                    level.append(other)
        hits = [o for o in level if o.kind == kind]
        if hits or not level:
            return hits
        frontier = [o for o in level if o.kind != "study"]
    return []


def reachable(objects: ObjectStore, accession: str, now: int) -> set[str]:
    """Every object a study's publication concerns: itself and all it reaches, studies aside."""
    start = objects.get(accession, now)
    if start is None:
        return set()
    seen = {accession}
    frontier = [start]
    while frontier:
        level = []
        for obj in frontier:
            for other in neighbours(objects, obj, now):
                if other.accession not in seen and other.kind != "study":
                    seen.add(other.accession)
                    level.append(other)
        frontier = level
    return seen
