"""``odm-dyn behaviours``: what the embedded server does for each operation of a spec.

One line per operation, in the spec's order: its operationId, then the behaviour the server
binds to it (with its arguments, and ``[overlay]`` when an overlay chose it), or ``generated``
for the operations that answer the spec's generated example. A count closes the list on stderr.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from ..errors import SpecError
from ..exit_codes import EXIT_OK, EXIT_USAGE
from ..spec.read import spec_source


def add_behaviours_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--spec",
        action="append",
        default=None,
        metavar="FILE",
        help="the spec to list (default: the bundled Tasks API)",
    )
    parser.add_argument("--overlay", default=None, metavar="FILE", help="a user overlay over the shipped one")
    parser.add_argument("--generated", action="store_true", help="list only the operations with no behaviour")


def list_behaviours(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from ..api.load import load_api
    from ..server.behaviours import GENERATED, bindings

    out, err = out or sys.stdout, err or sys.stderr
    try:
        api = load_api(spec_source(args.spec))
        bound = bindings(api, args.overlay)
    except SpecError as exc:
        print(f"odm-dyn behaviours: {exc}", file=err)
        return EXIT_USAGE
    width = max((len(op_id) for op_id in bound), default=0)
    for op_id, binding in bound.items():
        if binding is None:
            print(f"{op_id:<{width}}  {GENERATED}", file=out)
        elif not args.generated:
            origin = "  [overlay]" if binding.source == "overlay" else ""
            print(f"{op_id:<{width}}  {binding.label()}{origin}", file=out)
    with_behaviour = sum(1 for b in bound.values() if b is not None)
    print(f"odm-dyn behaviours: {with_behaviour} of {len(bound)} operations have a behaviour", file=err)
    return EXIT_OK


def cmd_behaviours(ns: argparse.Namespace, args: list[str]) -> int:
    """The command as ``odm-dyn`` registers it: its own flags, a global --spec carried over."""
    parser = argparse.ArgumentParser(
        prog="odm-dyn behaviours",
        description="List what the embedded server does for each operation.",
        allow_abbrev=False,
    )
    add_behaviours_arguments(parser)
    parsed = parser.parse_args(args)
    if parsed.spec is None and getattr(ns, "spec", None):
        parsed.spec = ns.spec
    return list_behaviours(parsed)
