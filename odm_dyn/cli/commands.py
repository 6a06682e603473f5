"""The commands: each ``cmd_*`` takes the global namespace and its own arguments, returns an exit code.

Commands are registered in ``cli/main.py`` (``COMMANDS``); a new command is a ``cmd_*``
function here or in a module of its own, and one line there.

Layer: cli; imports ``api``, ``client`` and ``server`` lazily, so a command loads only what it uses.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, Callable, Tuple

from ..errors import OdmError
from ..exit_codes import EXIT_OK, EXIT_USAGE
from ..names import did_you_mean
from ..spec.read import spec_source
from .advice import Attempt, explain
from .follow import follow, stream_all
from .output import Explained, UsageError, emit, say
from .parsers import (
    add_global_options,
    command_head,
    command_of,
    kebab,
    operation_parser,
    parse_into,
    sub_parser,
)
from .session import client_options, make_client
from .values import call_arguments

if TYPE_CHECKING:
    from ..api.plans import Api, CallPlan


TERMINAL_OK = "DONE"


def load(ns: argparse.Namespace) -> Api:
    from ..api.load import load_api
    from .spec_commands import fetch_options

    return load_api(spec_source(ns.spec), fetch=fetch_options(ns))


def find_plan(api: Api, name: str) -> CallPlan:
    """An operation by operationId, Python name, or kebab-case command name."""
    try:
        return api.find_plan(name)
    except LookupError as error:
        raise UsageError(f"{error}; `odm-dyn ops` lists them") from None


OPS_WIDTH = 100  # a line of `odm-dyn ops` fits this many columns (or the terminal, when narrower)


def cmd_ops(ns: argparse.Namespace, args: list[str]) -> int:
    parser = sub_parser(
        "odm-dyn ops",
        "List the operations of the spec, grouped by tag: method, command and summary.\n"
        "`odm-dyn describe OPERATION` documents one; --json gives every field, the Python signature too.",
    )
    parser.add_argument(
        "search", nargs="?", metavar="SEARCH", help="only operations whose name, path or summary has it"
    )
    parser.add_argument("--tag", metavar="TAG", help="only the operations of this tag (its name or command name)")
    parser.add_argument("--long", action="store_true", help="method, path and Python signature (long lines)")
    parser.add_argument("--json", action="store_true", help="one JSON object per operation, as a list")
    add_global_options(parser, leaf=True)
    ns = parse_into(parser, args, ns)
    api = load(ns)
    groups = ops_groups(api, ns.tag, ns.search)
    if ns.json:
        from .stubs import signature_text

        emit([_op_record(api, op, signature_text(api, op.operation_id)) for _, ops in groups for op in ops])
        return EXIT_OK
    import shutil

    width = min(OPS_WIDTH, shutil.get_terminal_size((OPS_WIDTH, 24)).columns)
    for line in long_lines(api, groups) if ns.long else ops_lines(api, groups, width):
        print(line)
    if not groups:
        say(f"no operation matches{f' {ns.search!r}' if ns.search else ''}{f' in tag {ns.tag!r}' if ns.tag else ''}")
    return EXIT_OK


def ops_groups(api: Api, tag: str | None, search: str | None) -> list[tuple[str, list[Any]]]:
    """(tag, operations) pairs in spec order, filtered by ``--tag`` and SEARCH."""
    groups: list[tuple[str, list[Any]]] = [
        (name, [api.operations[i] for i in ids]) for _a, (name, ids) in api.tags.items()
    ]
    tagged = {op_id for _a, (_n, ids) in api.tags.items() for op_id in ids}
    untagged = [op for op_id, op in api.operations.items() if op_id not in tagged]
    if untagged:
        groups.append(("(no tag)", untagged))
    if tag is not None:
        wanted = [g for g in groups if tag.lower() in (g[0].lower(), kebab(snake_tag(g[0])))]
        if not wanted:
            raise UsageError(
                f"the spec has no tag {tag!r}{did_you_mean(tag, [g[0] for g in groups])}; `odm-dyn ops` lists them"
            )
        groups = wanted
    if search:
        groups = [(name, [op for op in ops if matches(api, op, search)]) for name, ops in groups]
    return [(name, ops) for name, ops in groups if ops]


def snake_tag(name: str) -> str:
    from ..names import snake_case

    return snake_case(name)


def matches(api: Api, op: Any, search: str) -> bool:
    text = " ".join((op.operation_id, op.python_name, command_of(api, op), op.path, op.summary or "")).lower()
    return all(word in text for word in search.lower().split())


def long_lines(api: Api, groups: list[tuple[str, list[Any]]]) -> list[str]:
    from .stubs import signature_text

    ops = [op for _, ops in groups for op in ops]
    width = max((len(op.path) for op in ops), default=0)
    return [f"{op.method.upper():<7} {op.path:<{width}}  {signature_text(api, op.operation_id)}" for op in ops]


def ops_lines(api: Api, groups: list[tuple[str, list[Any]]], width: int) -> list[str]:
    """A heading per tag, then ``METHOD  command ARGS  summary`` lines cut to ``width``."""
    from .tables import cut

    lines: list[str] = []
    for name, ops in groups:
        heads = [command_of(api, op).split(" ", 2) for op in ops]
        commands = [head[-1] for head in heads]
        column = min(max(len(c) for c in commands), width // 2)
        group = f": odm-dyn {heads[0][1]} OPERATION" if name != "(no tag)" else ": odm-dyn call OPERATION_ID"
        lines.append(cut(f"{name} ({len(ops)}){group}", width))
        for op, command in zip(ops, commands):
            summary = " ".join((op.summary or "").split())
            line = f"  {op.method.upper():<7}{command:<{column}}  {summary}".rstrip()
            lines.append(cut(line, width))
    return lines


def _op_record(api: Api, op: Any, signature: str) -> dict[str, Any]:
    return {
        "operationId": op.operation_id,
        "method": op.method.upper(),
        "path": op.path,
        "signature": signature,
        "command": command_of(api, op),
        "tags": list(op.tags),
        "summary": op.summary,
    }


def cmd_describe(ns: argparse.Namespace, args: list[str]) -> int:
    parser = sub_parser("odm-dyn describe", "Print the full documentation of one operation.")
    parser.add_argument("operation", metavar="OPERATION", help="operationId, Python name or command name")
    add_global_options(parser, leaf=True)
    ns = parse_into(parser, args, ns)
    from .stubs import signature_text

    api = load(ns)
    plan = find_plan(api, ns.operation)
    op = plan.op
    print(op.docstring())
    from .docs import body_help

    if op.body is not None:
        print("\n" + body_help(plan))
    print(f"\nPython:   client.{signature_text(api, op.operation_id)}")
    print(f"Command:  {command_of(api, op)}" + (" [--flags]" if len(op.parameters) > len(op.positional()) else ""))
    print("\n" + operation_parser(api, plan, command_head(api, op)).format_usage().rstrip())
    return EXIT_OK


def cmd_stubs(ns: argparse.Namespace, args: list[str]) -> int:
    parser = sub_parser(
        "odm-dyn stubs",
        "Write a type stub (.pyi) of the client for the loaded spec, so editors and mypy see its methods.\n"
        "Import it under TYPE_CHECKING:  if TYPE_CHECKING: from odm_client import Client",
    )
    parser.add_argument("out", metavar="OUT.pyi", help="the stub file to write ('-': standard output)")
    parser.add_argument("--check", action="store_true", help="do not write: exit 1 if OUT.pyi no longer fits the spec")
    add_global_options(parser, leaf=True)
    ns = parse_into(parser, args, ns)
    from .stubs import render_stub, stub_label

    if ns.check:
        from .spec_commands import check_stub

        return check_stub(load(ns), ns.out)
    text = render_stub(load(ns), stub_label(spec_source(ns.spec)))
    if ns.out == "-":
        sys.stdout.write(text)
        return EXIT_OK
    try:
        with open(ns.out, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        raise UsageError(f"cannot write {ns.out}: {error.strerror}") from None
    say(f"wrote {ns.out}")
    return EXIT_OK


# A command that runs here rather than calling a server: what adds its flags, what runs it.
_Runner = Tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]


def cmd_serve(ns: argparse.Namespace, args: list[str]) -> int:
    def load() -> _Runner:
        from ..server import add_serve_arguments, serve

        return add_serve_arguments, serve

    return _run_local(ns, args, "serve", "Run the embedded ODM server on loopback.", "the embedded server", load)


def cmd_demo(ns: argparse.Namespace, args: list[str]) -> int:
    def load() -> _Runner:
        from .demo import add_demo_arguments, demo

        return add_demo_arguments, demo

    description = "Start an embedded server, publish, and follow the task to DONE."
    return _run_local(ns, args, "demo", description, "the demo", load)


def _run_local(
    ns: argparse.Namespace, args: list[str], command: str, description: str, what: str, load: Callable[[], _Runner]
) -> int:
    """Parse ``odm-dyn <command>``'s own flags (a global ``--spec`` carried over) and run it;
    a build without its modules is a usage error naming ``what`` is missing."""
    try:
        add_arguments, run = load()
    except ImportError as error:
        raise UsageError(f"{what} is not available in this build ({error})") from None
    parser = sub_parser(f"odm-dyn {command}", description)
    add_arguments(parser)
    return run(parser.parse_args(args, namespace=_seeded(ns, command)))


# A global option given before serve or demo: what to use instead. Only --spec means the same
# thing there; serve's --host is an address to listen on, not a URL to call, and its --token
# adds a token instead of sending one, so they are refused rather than quietly reinterpreted.
INSTEAD = {
    "serve": {
        "host": "odm-dyn serve --host ADDRESS --port N",
        "token": "odm-dyn serve --token T (a curator) or --user-token T",
        "access_token": "odm-dyn serve --token T (a curator) or --user-token T",
    },
    "demo": {},
}


def _seeded(ns: argparse.Namespace, command: str) -> argparse.Namespace:
    """A global --spec carries over to serve and demo; any other global option is a usage error
    (silently dropping ``odm-dyn --token T serve`` would serve with a token the user did not ask for)."""
    for dest in ("host", "token", "access_token", "request_timeout", "retries", "no_validate"):
        if getattr(ns, dest, None) not in (None, False):
            flag = "--" + dest.replace("_", "-")
            instead = INSTEAD[command].get(dest)
            hint = f"use {instead}" if instead else f"`odm-dyn {command}` has no such option"
            raise UsageError(f"{flag} before {command!r} does not apply to it; {hint} (`odm-dyn {command} --help`)")
    source = spec_source(ns.spec)
    return argparse.Namespace(spec=source) if source else argparse.Namespace()


def cmd_call(ns: argparse.Namespace, args: list[str]) -> int:
    parser = sub_parser(
        "odm-dyn call",
        "Call any operation by operationId, Python name or command name.\n"
        "`odm-dyn call OPERATION --help` documents its arguments.",
    )
    parser.add_argument("operation", metavar="OPERATION")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    call_ns = parser.parse_args(args)
    api = load(ns)
    plan = find_plan(api, call_ns.operation)
    return run_operation(api, plan, f"odm-dyn call {call_ns.operation}", call_ns.args, ns)


def cmd_tag(ns: argparse.Namespace, args: list[str], static: tuple[str, ...] = ()) -> int:
    """A tag's group of operation commands (``static``: the other commands, for did-you-mean)."""
    api = load(ns)
    groups = {kebab(attr): ids for attr, (_tag, ids) in api.tags.items()}
    op_ids = groups.get(ns.command)
    if op_ids is None:
        known = list(static) + list(groups)
        raise UsageError(f"unknown command {ns.command!r}{did_you_mean(ns.command, known)}; see `odm-dyn --help`")
    commands = {kebab(api.plans[op_id].op.python_name): api.plans[op_id] for op_id in op_ids}
    if not args or args[0] in ("-h", "--help"):
        print(tag_help(api, ns.command, commands), file=sys.stdout if args else sys.stderr)
        return EXIT_OK if args else EXIT_USAGE
    plan = commands.get(args[0]) or commands.get(kebab(args[0]))
    if plan is None:
        raise UsageError(
            f"{ns.command} has no operation {args[0]!r}{did_you_mean(args[0], list(commands))}; "
            f"`odm-dyn {ns.command} --help` lists them"
        )
    return run_operation(api, plan, f"odm-dyn {ns.command} {args[0]}", args[1:], ns)


def tag_help(api: Api, group: str, commands: dict[str, CallPlan]) -> str:
    lines = [f"usage: odm-dyn {group} OPERATION [ARGS] [--help]", "", "operations:"]
    for name, plan in commands.items():
        lines.append(f"  {name:<28} {plan.op.summary}")
    return "\n".join(lines)


def run_operation(api: Api, plan: CallPlan, prog: str, args: list[str], ns: argparse.Namespace) -> int:
    """Parse the operation's arguments, call it, print the answer (and follow a task with --wait)."""
    parser = operation_parser(api, plan, prog)
    ns = parse_into(parser, args, ns)
    if getattr(ns, "body_example", False):
        return print_body_example(plan)
    if getattr(ns, "wait_timeout", None) is not None and not ns.wait:
        raise UsageError("--timeout bounds --wait: add --wait; the timeout of each request is --request-timeout")
    if plan.op.body is not None and plan.op.body.required and getattr(ns, "body", None) is None:
        raise UsageError(f"{prog} needs --body JSON|@FILE; --body-example prints one, `{prog} --help` its fields")
    kwargs = call_arguments(plan, ns)
    options = client_options(ns)
    attempt = Attempt(api, plan, options.get("host"), {k: options.get(k) for k in ("token", "access_token")})
    try:
        with make_client(api, options) as client:
            if getattr(ns, "all_pages", False):  # --all: the pages followed to the end, as JSON lines
                return stream_all(client, plan, kwargs)
            result = client.call(plan.op.operation_id, **kwargs)
            if getattr(ns, "wait", False):  # a task or a job (cli/follow.py)
                return follow(client, api, plan, result, ns)
    except OdmError as error:
        message = explain(error, attempt)
        if message:
            raise Explained(error, message) from None
        raise
    emit(result, ns.output)
    return EXIT_OK


def print_body_example(plan: CallPlan) -> int:
    from .docs import body_example

    example = body_example(plan)
    if example is None:
        raise UsageError(f"{plan.op.operation_id}: no valid example body could be made from its schema")
    emit(example, "json")
    return EXIT_OK


def follow_task(client: Any, task: Any, timeout: float | None, output: str | None = None) -> int:
    """``--wait`` on a task (kept for callers of 0.1.0; the logic is cli/follow.py's)."""
    from .follow import follow_task as follow_one

    return follow_one(client, task, timeout, output=output)
