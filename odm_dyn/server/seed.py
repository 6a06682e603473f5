"""Seed data for the embedded server (``odm-dyn serve --data FILE``), in YAML or JSON::

    objects:
      - kind: study                 # study, sample, sampleGroup, library, ... (see conventions.KINDS)
        accession: GSF2000001       # optional; made up when absent
        metadata: {Study Source: demo}        # version 1, published
        versions: [{message: v2, metadata: {...}}]   # later published versions, in order
        draft: {Study Title: not yet}          # unpublished changes a curator sees
      - kind: sample
        group: GSF2000010            # the group object's accession
        metadata: {Sex: female}
    links:
      - [GSF2000010, GSF2000001]     # source, target (a sample group to its study)

A file that does not fit is a :class:`ValueError` naming the entry; nothing of it is loaded
past that entry's predecessors (load seed data into a fresh database).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from .store import Store, now_ms

SEED_AUTHOR = "odm-dyn seed"


def read_seed(path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read the seed data {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: not YAML or JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: seed data is a mapping with `objects` and `links`")
    return data


def load_seed(store: Store, data: dict[str, Any]) -> list[str]:
    """Create the seed's objects, versions and links; the accessions made, in order."""
    objects, now = store.objects, now_ms()
    made = []
    for number, entry in enumerate(data.get("objects") or [], 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("kind"), str):
            raise ValueError(f"seed object {number} needs a `kind`")
        metadata = entry.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise ValueError(f"seed object {number}: `metadata` must be a mapping")
        if entry.get("accession") is not None and objects.exists(str(entry["accession"])):
            raise ValueError(f"seed object {number}: the accession {entry['accession']!r} is taken already")
        accession = objects.create(
            entry["kind"],
            metadata,
            group=entry.get("group"),
            accession=entry.get("accession"),
            author=SEED_AUTHOR,
            message=str(entry.get("message", "Seeded")),
            now=now,
        )
        for version in entry.get("versions") or []:
            objects.patch(accession, _replacing(objects.get(accession, now), version.get("metadata") or {}))
            objects.publish([accession], str(version.get("message", "Seeded")), SEED_AUTHOR, now)
        if entry.get("draft"):
            objects.patch(accession, entry["draft"])
        made.append(accession)
    for number, link in enumerate(data.get("links") or [], 1):
        if not (isinstance(link, list) and len(link) == 2):
            raise ValueError(f"seed link {number} must be [source, target]")
        objects.link(str(link[0]), str(link[1]))
    return made


def _replacing(current: Any, metadata: dict[str, Any]) -> dict[str, Any]:
    """A patch that makes the draft exactly ``metadata``."""
    old = current.draft if current is not None else {}
    return {**{key: None for key in old if key not in metadata}, **metadata}
