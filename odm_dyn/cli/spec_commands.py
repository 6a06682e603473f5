"""The commands about the spec itself: ``spec diff``, ``stubs --check``, and how URLs are read.

``odm-dyn spec diff OLD NEW`` compares two specs (files, folders or URLs) and exits 0 when
nothing breaks callers, 1 when something does (``--json`` for machines). ``odm-dyn stubs
--check FILE`` exits 1, naming the operations that differ, when the loaded spec no longer
matches the one the stub was written from. ``--spec-auth`` and ``--refresh`` say how a spec
given by URL is read (the token goes to the spec's host only with ``--spec-auth``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from ..exit_codes import EXIT_OK

EXIT_BREAKING = 1  # spec diff: something breaks callers; stubs --check: the stub is out of date

SPEC_OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("--spec-auth", dict(action="store_true", help="send the token to the host of a spec given by URL too")),
    ("--refresh", dict(action="store_true", help="fetch a spec given by URL again, not from the cache")),
]

SPEC_COMMANDS = """\
  spec diff OLD NEW     what changed between two specs (files, folders, URLs); exit 1 if it breaks callers
  stubs --check OUT.pyi exit 1, naming the operations that differ, if the stub no longer matches the spec"""


def fetch_options(ns: argparse.Namespace) -> Any:
    """The ``FetchOptions`` of the command line (None: the defaults)."""
    from ..client.credentials import spec_fetch_options
    from .session import connection_settings

    spec_auth, refresh = bool(getattr(ns, "spec_auth", False)), bool(getattr(ns, "refresh", False))
    if not spec_auth and not refresh:
        return None
    tokens = connection_settings(ns, os.environ) if spec_auth else {}
    return spec_fetch_options(
        token=tokens.get("token"), access_token=tokens.get("access_token"), spec_auth=spec_auth, refresh=refresh
    )


# --------------------------------------------------------------------------- spec diff


def cmd_spec(ns: argparse.Namespace, args: list[str]) -> int:
    from .output import UsageError
    from .parsers import parse_into, sub_parser

    parser = sub_parser(
        "odm-dyn spec",
        "Commands about the spec.\n\n"
        "  spec diff OLD NEW [--json]   what changed from OLD to NEW (files, folders or URLs), each change\n"
        "                               marked breaking or not; exit 0 when nothing breaks callers, 1 when\n"
        "                               something does",
    )
    parser.add_argument("action", choices=["diff"], metavar="diff")
    parser.add_argument("old", metavar="OLD", help="the spec before: a file, a folder or a URL")
    parser.add_argument("new", metavar="NEW", help="the spec after")
    parser.add_argument("--json", action="store_true", help="the changes as one JSON object")
    for flag, options in SPEC_OPTIONS:
        parser.add_argument(flag, default=argparse.SUPPRESS, **options)
    if not args:
        parser.print_usage(sys.stderr)
        raise UsageError("spec: give `diff OLD NEW`; `odm-dyn spec --help` says more")
    ns = parse_into(parser, args, ns)
    from ..spec.changes import diff
    from ..spec.load import load_documents

    fetch = fetch_options(ns)
    result = diff(load_documents(ns.old, fetch=fetch), load_documents(ns.new, fetch=fetch))
    if ns.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(result)
    return EXIT_BREAKING if result.breaking else EXIT_OK


# --------------------------------------------------------------------------- stubs --check


def check_stub(api: Any, path: str) -> int:
    """Exit 0 when the stub at ``path`` was written from this spec's operations, else 1 naming them."""
    from ..spec.changes import fingerprint_changes, operation_fingerprints
    from .output import UsageError, say
    from .stubs import read_stamp, spec_hash

    try:
        with open(path, encoding="utf-8") as handle:
            written_hash, written_ops = read_stamp(handle.read())
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    if written_hash is None:
        raise UsageError(f"{path} holds no spec hash: write it again with `odm-dyn stubs {path}`")
    if written_hash == spec_hash(api):
        say(f"{path} matches the loaded spec")
        return EXIT_OK
    added, removed, changed = fingerprint_changes(written_ops, operation_fingerprints(api.documents))
    if not (added or removed or changed):
        say(f"{path}: the spec's files changed, but none of its operations; the stub still fits")
        return EXIT_OK
    for label, names in (("added", added), ("removed", removed), ("changed", changed)):
        for name in names:
            print(f"{label}: {name}")
    say(
        f"{path} no longer matches the loaded spec ({len(added)} operations added, {len(removed)} removed, "
        f"{len(changed)} changed); write it again with `odm-dyn stubs {path}`"
    )
    return EXIT_BREAKING


__all__ = ["EXIT_BREAKING", "SPEC_COMMANDS", "SPEC_OPTIONS", "check_stub", "cmd_spec", "fetch_options"]
