"""The commands: each ``cmd_*`` takes the global namespace and its own arguments, returns an exit code.

Commands are registered in ``cli/main.py`` (``COMMANDS``); a new command is a ``cmd_*``
function here or in a module of its own, and one line there.

Layer: cli; imports ``api``, ``client`` and ``server`` lazily, so a command loads only what it uses.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

from ..errors import TaskTimeoutError
from ..exit_codes import EXIT_OK, EXIT_TASK_FAILED, EXIT_TASK_TIMEOUT, EXIT_USAGE
from ..names import did_you_mean
from ..spec.read import spec_source
from .output import UsageError, emit, say
from .parsers import (
    add_global_options,
    command_head,
    command_of,
    kebab,
    operation_parser,
    parse_into,
    sub_parser,
)
from .session import make_client
from .values import call_arguments

if TYPE_CHECKING:
    from ..api.plans import Api, CallPlan


TERMINAL_OK = "DONE"


def load(ns: argparse.Namespace) -> Api:
    from ..api.load import load_api

    return load_api(spec_source(ns.spec))


def find_plan(api: Api, name: str) -> CallPlan:
    """An operation by operationId, Python name, or kebab-case command name."""
    try:
        return api.find_plan(name)
    except LookupError as error:
        raise UsageError(f"{error}; `odm-dyn ops` lists them") from None


def cmd_ops(ns: argparse.Namespace, args: list[str]) -> int:
    parser = sub_parser("odm-dyn ops", "List every operation of the spec: method, path and Python signature.")
    parser.add_argument("--json", action="store_true", help="one JSON object per operation, as a list")
    add_global_options(parser, leaf=True)
    ns = parse_into(parser, args, ns)
    from .stubs import signature_text

    api = load(ns)
    rows = [(op.method.upper(), op.path, signature_text(api, op_id), op) for op_id, op in api.operations.items()]
    if ns.json:
        emit([_op_record(api, op, sig) for _, _, sig, op in rows])
        return EXIT_OK
    width = max((len(path) for _, path, _, _ in rows), default=0)
    for method, path, sig, _ in rows:
        print(f"{method:<7} {path:<{width}}  {sig}")
    return EXIT_OK


def _op_record(api: Api, op: Any, signature: str) -> dict[str, Any]:
    return {
        "operationId": op.operation_id,
        "method": op.method.upper(),
        "path": op.path,
        "signature": signature,
        "command": command_of(api, op),
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
    add_global_options(parser, leaf=True)
    ns = parse_into(parser, args, ns)
    from .stubs import render_stub, stub_label

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


def cmd_serve(ns: argparse.Namespace, args: list[str]) -> int:
    try:
        from ..server import add_serve_arguments, serve
    except ImportError as error:
        raise UsageError(f"the embedded server is not available in this build ({error})") from None
    parser = sub_parser("odm-dyn serve", "Run the embedded ODM server on loopback.")
    add_serve_arguments(parser)
    return serve(parser.parse_args(args, namespace=_seeded(ns, "serve")))


def cmd_demo(ns: argparse.Namespace, args: list[str]) -> int:
    try:
        from .demo import add_demo_arguments, demo
    except ImportError as error:
        raise UsageError(f"the demo is not available in this build ({error})") from None
    parser = sub_parser("odm-dyn demo", "Start an embedded server, publish, and follow the task to DONE.")
    add_demo_arguments(parser)
    return demo(parser.parse_args(args, namespace=_seeded(ns, "demo")))


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
    if getattr(ns, "wait_timeout", None) is not None and not ns.wait:
        raise UsageError("--timeout bounds --wait: add --wait; the timeout of each request is --request-timeout")
    kwargs = call_arguments(plan, ns)
    with make_client(api, ns) as client:
        result = client.call(plan.op.operation_id, **kwargs)
        if getattr(ns, "wait", False):
            return follow_task(client, result, ns.wait_timeout)
    emit(result)
    return EXIT_OK


def follow_task(client: Any, task: Any, timeout: float | None) -> int:
    """``--wait``: poll until the task ends; print it; the exit code says how it ended."""
    task_id = getattr(task, "id", None)
    if not task_id:
        raise UsageError("--wait: the answer holds no task id to follow")
    from .progress import StatusLine

    try:
        with StatusLine(sys.stderr) as line:
            started = time.monotonic()
            line(task, 0.0)
            final = client.wait_for_task(
                task_id, timeout=timeout, on_poll=lambda t, _: line(t, time.monotonic() - started)
            )
    except TaskTimeoutError as error:
        emit(error.task)  # the last state seen, so a script can keep following it
        status = getattr(error.task, "status", None) or "unknown"
        say(
            f"task timeout: task {task_id} was still {status} after {timeout or 'the default 3600'} s; "
            "wait longer with --timeout SECONDS (its last state is on stdout)"
        )
        return EXIT_TASK_TIMEOUT
    emit(final)
    if getattr(final, "status", None) == TERMINAL_OK:
        return EXIT_OK
    say(f"task {task_id} ended {getattr(final, 'status', None)}")
    return EXIT_TASK_FAILED
