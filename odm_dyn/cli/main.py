"""The ``odm-dyn`` command line, built from the loaded spec like the client.

::

    odm-dyn [GLOBAL OPTIONS] TAG OPERATION [PATH ARGS] [--param VALUE]... [--body JSON|@FILE] [--wait]
    odm-dyn [GLOBAL OPTIONS] call OPERATION_ID [PATH ARGS] [--param VALUE]...
    odm-dyn ops | describe OPERATION | stubs OUT.pyi | serve | demo

Every operation of the spec is a command, named by the kebab-case of its tag and Python name
(``odm-dyn tasks-api get-task-info GSF000123``) and reachable by operationId through ``call``.
Path parameters are positional; every other parameter is a flag, ``--`` plus the kebab-case
of its Python name (``versionMessage`` → ``--version-message``), its value parsed by the
parameter's schema. Only the one command asked for is built, so the spec is read once and
``--help`` stays quick.

Settings, first found wins: the flags (``--host``, ``--token``, ``--access-token``; ``-`` reads
the token from standard input), then the environment (``ODM_HOST``, ``ODM_API_TOKEN``,
``ODM_ACCESS_TOKEN``, or ``PRED_SPOT_HOST``, ``PRED_SPOT_SCHEME``, ``PRED_SPOT_TOKEN``,
``PRED_SPOT_ACCESS_TOKEN``), then the spec's defaults. Credentials go as a set: when a token
flag is given, no token is taken from the environment. ``--request-timeout`` bounds each request;
``--timeout`` bounds a ``--wait`` (and is given after the command, with it).

The response goes to stdout as JSON (indented on a terminal, compact when piped; text and
binary bodies as they are), messages to stderr.

Exit codes::

    0    success
    1    the server answered with an error status (4xx, 5xx: ApiException)
    2    bad usage, or a request the spec refuses (RequestValidationError, SpecError); nothing sent;
         also ``serve`` when it cannot listen on its --host/--port
    3    the transport failed: refused, reset, DNS, TLS, no answer in time (TransportError)
    4    a waited-for task ended FAILED, KILLED or BLOCKED_BY_DEPENDENCY_FAILURE
    5    a waited-for task was not finished after --timeout (TaskTimeoutError)
    6    the server answered off-spec (ResponseValidationError)
    130  interrupted (Ctrl-C)
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import time
from typing import IO, TYPE_CHECKING, Any, Callable, Sequence

from ..api.model import to_wire
from ..errors import OdmError, TaskTimeoutError, UnauthorizedException
from ..exit_codes import (
    EXIT_API_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OFF_SPEC,
    EXIT_OK,
    EXIT_TASK_FAILED,
    EXIT_TASK_TIMEOUT,
    EXIT_TRANSPORT,
    EXIT_USAGE,
    exit_code,
)
from ..spec.document import TASKS_SPEC
from ..spec.read import spec_source

if TYPE_CHECKING:  # the heavy modules load only for the commands that need them
    from ..api.plans import Api, CallPlan

__all__ = [  # the exit codes are odm_dyn.exit_codes', named here too for scripts that import the CLI
    "EXIT_API_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OFF_SPEC",
    "EXIT_OK",
    "EXIT_TASK_FAILED",
    "EXIT_TASK_TIMEOUT",
    "EXIT_TRANSPORT",
    "EXIT_USAGE",
    "exit_code",
    "main",
]

EXIT_CODES = """\
exit codes:
  0    success
  1    the server answered with an error status (4xx, 5xx)
  2    bad usage, or a request the spec refuses (nothing was sent); serve: cannot listen
  3    the transport failed: refused, reset, DNS, TLS, no answer in time
  4    a waited-for task ended FAILED, KILLED or BLOCKED_BY_DEPENDENCY_FAILURE
  5    a waited-for task was not finished after --timeout
  6    the server answered off-spec (its answer breaks the spec)
  130  interrupted"""

ENVIRONMENT = """\
environment (flags win; a token flag replaces both tokens of the environment):
  ODM_HOST, ODM_API_TOKEN, ODM_ACCESS_TOKEN
  PRED_SPOT_HOST, PRED_SPOT_SCHEME, PRED_SPOT_TOKEN, PRED_SPOT_ACCESS_TOKEN"""

COMMANDS = """\
commands:
  TAG OPERATION ...     one command per operation of the spec, grouped by tag (below)
  call OPERATION ...    any operation by operationId or Python name (call publishAllStudies)
  ops                   list every operation: method, path, Python signature
  describe OPERATION    the full documentation of one operation
  stubs OUT.pyi         write a type stub of the client, for editors and mypy
  serve                 run the embedded ODM server
  demo                  publish on an embedded server and follow the task to DONE
  behaviours            what the embedded server does for each operation"""

STATIC_COMMANDS = ("call", "ops", "describe", "stubs", "serve", "demo", "behaviours")
TERMINAL_OK = "DONE"


class UsageError(Exception):
    """A command line the CLI cannot act on (exit code 2)."""


# --------------------------------------------------------------------------- entry point


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``odm-dyn``; returns the exit code (the console script exits with it)."""
    configure_logging()
    try:
        return run(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exit_:  # argparse's --help and usage errors
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else EXIT_USAGE)
    except KeyboardInterrupt:
        say("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (| head): quiet, and no second error when Python flushes stdout.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except UsageError as error:
        say(f"error: {error}")
        return EXIT_USAGE
    except OdmError as error:
        return report(error)


def run(argv: list[str]) -> int:
    parser = main_parser()
    parser.spec_values = spec_values(argv)  # --help runs inside parse_args, before ns exists
    ns = parser.parse_args(argv)
    refuse_misplaced_timeout(ns)
    if ns.command is None:
        parser.print_usage(sys.stderr)
        say("error: a command is required; `odm-dyn --help` lists them")
        return EXIT_USAGE
    handler = {
        "call": cmd_call,
        "ops": cmd_ops,
        "describe": cmd_describe,
        "stubs": cmd_stubs,
        "serve": cmd_serve,
        "demo": cmd_demo,
        "behaviours": cmd_behaviours,
    }.get(ns.command, cmd_tag)
    return handler(ns, ns.args)


def configure_logging() -> None:
    """The library's warnings (retries, deprecations) as ``odm-dyn:`` lines on stderr."""
    import logging

    logger = logging.getLogger("odm_dyn")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("odm-dyn: %(message)s"))
        logger.addHandler(handler)


def say(message: str) -> None:
    print(f"odm-dyn: {message}", file=sys.stderr, flush=True)


def report(error: OdmError) -> int:
    """One line on stderr for an expected failure, and its exit code; never a traceback."""
    code, kind = exit_code(error)
    message = str(error)
    if isinstance(error, UnauthorizedException):
        message += " On the command line: --token, --access-token, or ODM_API_TOKEN / ODM_ACCESS_TOKEN."
    say(f"{kind}: {message}")
    return code


# --------------------------------------------------------------------------- parsers


class MainParser(argparse.ArgumentParser):
    """The top-level parser; its help lists the spec's operation commands, read only then."""

    spec_values: list[str] | None = None

    def format_help(self) -> str:
        return super().format_help() + "\n" + operations_help(self.spec_values)


def spec_values(argv: list[str]) -> list[str] | None:
    """The ``--spec`` values among the global options, read ahead of the full parse."""
    scout = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
    scout.add_argument("--spec", action="append")
    try:
        return scout.parse_known_args(argv)[0].spec
    except argparse.ArgumentError:
        return None  # the full parse reports it


def main_parser() -> MainParser:
    parser = MainParser(
        prog="odm-dyn",
        usage="odm-dyn [GLOBAL OPTIONS] COMMAND ...",
        description="Command line for the Genestack ODM REST API, built from its OpenAPI spec at run time.\n\n"
        + COMMANDS,
        epilog=f"{ENVIRONMENT}\n\n{EXIT_CODES}\n\n`odm-dyn COMMAND --help` documents each command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    add_global_options(parser, leaf=False)
    parser.add_argument("--version", action="version", version=version_text())
    parser.add_argument("command", nargs="?", metavar="COMMAND", help=argparse.SUPPRESS)
    parser.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def version_text() -> str:
    from .. import __version__

    return f"odm-dyn {__version__} (bundled spec: {TASKS_SPEC})"


def add_global_options(
    parser: argparse.ArgumentParser, leaf: bool, taken: frozenset[str] | set[str] = frozenset()
) -> None:
    """The connection options; on a sub-command they are optional repeats of the global ones.

    A sub-command's own flag (a parameter named ``host``) wins over a global option of that
    name there; the global option stays usable before the command.
    """
    default = argparse.SUPPRESS if leaf else None
    group = parser.add_argument_group("global options")
    options: list[tuple[str, dict[str, Any]]] = [
        ("--spec", dict(action="append", metavar="FILE", help=SPEC_HELP)),
        ("--host", dict(metavar="URL", help="server base URL (ODM_HOST; default: the spec's server)")),
        ("--token", dict(metavar="TOKEN", help="Genestack API token ('-': read it from stdin)")),
        ("--access-token", dict(metavar="TOKEN", help="access token, sent as Bearer ('-': read it from stdin)")),
        ("--request-timeout", dict(type=positive_float, metavar="SECONDS", help="timeout of each request")),
        ("--retries", dict(type=int, metavar="N", help="retries of idempotent requests (default 3)")),
        ("--no-validate", dict(action="store_true", help="do not check requests and responses against the spec")),
    ]
    for flag, kwargs in options:
        if flag in taken:
            continue
        dest = flag[2:].replace("-", "_")
        group.add_argument(flag, dest=dest, default=default, **kwargs)
    if "--timeout" not in taken:
        add_misplaced_timeout(parser, default)


MISPLACED_TIMEOUT = (
    "--timeout bounds a wait: give it after the command, with --wait "
    "(odm-dyn call publishAllStudies --wait --timeout 600); the timeout of each request is --request-timeout"
)


def add_misplaced_timeout(parser: argparse.ArgumentParser, default: Any = None) -> None:
    """``--timeout`` where there is no ``--wait``: refused with a message, not taken for another timeout."""
    parser.add_argument("--timeout", dest="misplaced_timeout", default=default, help=argparse.SUPPRESS)


def refuse_misplaced_timeout(ns: argparse.Namespace) -> None:
    if getattr(ns, "misplaced_timeout", None) is not None:
        raise UsageError(MISPLACED_TIMEOUT)


SPEC_HELP = (
    "spec file or folder to use instead of the bundled one (repeatable); "
    "'+FILE' adds FILE to the bundled spec instead of replacing it"
)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
    return value


def sub_parser(prog: str, description: str, **kwargs: Any) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # a flag added to the spec later must not change what an abbreviation meant
        **kwargs,
    )
    return parser


def parse_into(parser: argparse.ArgumentParser, args: list[str], ns: argparse.Namespace) -> argparse.Namespace:
    """Parse a sub-command's arguments over the global namespace: its repeats of globals win."""
    parsed = parser.parse_args(args, namespace=argparse.Namespace(**vars(ns)))
    refuse_misplaced_timeout(parsed)
    return parsed


# --------------------------------------------------------------------------- the spec


def load(ns: argparse.Namespace) -> Api:
    from ..api.load import load_api

    return load_api(spec_source(ns.spec))


def operations_help(spec_values: list[str] | None) -> str:
    """The operation commands of the spec, for the top-level help."""
    try:
        api = LightIndex(spec_source(spec_values))
    except OdmError as error:
        return f"operations: the spec could not be loaded ({error})\n"
    lines = ["operations of the loaded spec (odm-dyn ops shows their signatures):"]
    for op in api.operations.values():
        lines.append(f"  {command_of(api, op).removeprefix('odm-dyn '):<40} {op.summary}")
    return "\n".join(lines) + "\n"


class LightIndex:
    """Operations and tag names without compiling validators: enough for the help text."""

    def __init__(self, source: Any):
        from ..api.operations import build_operations
        from ..api.plans import CLIENT_ATTRIBUTES, tag_names
        from ..spec.load import load_documents

        self.operations = build_operations(load_documents(source or TASKS_SPEC), reserved=CLIENT_ATTRIBUTES)
        self.tags = tag_names(self.operations)


def kebab(python_name: str) -> str:
    return python_name.replace("_", "-")


def find_plan(api: Api, name: str) -> CallPlan:
    """An operation by operationId, Python name, or kebab-case command name."""
    try:
        return api.find_plan(name)
    except LookupError as error:
        raise UsageError(f"{error}; `odm-dyn ops` lists them") from None


def suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=3)
    return f"; did you mean {', '.join(close)}?" if close else ""


# --------------------------------------------------------------------------- static commands


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


def command_of(api: Api | LightIndex, op: Any) -> str:
    """The shell command that runs an operation, with its positional arguments."""
    return " ".join([command_head(api, op), *(p.python_name.upper() for p in op.positional())])


def command_head(api: Api | LightIndex, op: Any) -> str:
    """``odm-dyn TAG OPERATION`` when the operation has a tag, else ``odm-dyn call OPERATION_ID``."""
    for attr, (_tag, op_ids) in api.tags.items():
        if op.operation_id in op_ids:
            return f"odm-dyn {kebab(attr)} {kebab(op.python_name)}"
    return f"odm-dyn call {op.operation_id}"


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


def cmd_behaviours(ns: argparse.Namespace, args: list[str]) -> int:
    from .behaviours import cmd_behaviours as run_behaviours

    return run_behaviours(ns, args)


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


# --------------------------------------------------------------------------- operation commands


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


def cmd_tag(ns: argparse.Namespace, args: list[str]) -> int:
    api = load(ns)
    groups = {kebab(attr): ids for attr, (_tag, ids) in api.tags.items()}
    op_ids = groups.get(ns.command)
    if op_ids is None:
        known = list(STATIC_COMMANDS) + list(groups)
        raise UsageError(f"unknown command {ns.command!r}{suggest(ns.command, known)}; see `odm-dyn --help`")
    commands = {kebab(api.plans[op_id].op.python_name): api.plans[op_id] for op_id in op_ids}
    if not args or args[0] in ("-h", "--help"):
        print(tag_help(api, ns.command, commands), file=sys.stdout if args else sys.stderr)
        return EXIT_OK if args else EXIT_USAGE
    plan = commands.get(args[0]) or commands.get(kebab(args[0]))
    if plan is None:
        raise UsageError(
            f"{ns.command} has no operation {args[0]!r}{suggest(args[0], list(commands))}; "
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


def operation_parser(api: Api, plan: CallPlan, prog: str) -> argparse.ArgumentParser:
    """A parser for one operation: path parameters positional, the others flags."""
    op = plan.op
    parser = sub_parser(prog, op.docstring().replace("%", "%%"), epilog=EXIT_CODES)
    taken = {"-h", "--help", "--body", "--wait", "--timeout", "--wait-timeout"}
    for param in op.positional():
        parser.add_argument(
            "p:" + param.python_name,
            metavar=param.python_name.upper(),
            type=value_parser(param.schema, op),
            help=param_help(param),
        )
    for param in sorted((p for p in op.parameters if p.location != "path"), key=lambda p: not p.required):
        flag = free_flag("--" + kebab(param.python_name.rstrip("_")), taken)
        add_flag(parser, flag, param, op)
    if op.body is not None:
        media = ", ".join(op.body.content) or "any media type"
        parser.add_argument(
            "--body",
            dest="body",
            required=op.body.required,
            metavar="JSON|@FILE",
            help=f"request body ({media}): the text itself, @FILE, or @- for stdin",
        )
    if plan.returns_task and "getTaskInfo" in api.plans:
        parser.add_argument("--wait", action="store_true", help="follow the task until it ends; print its final state")
        parser.add_argument(
            "--timeout",
            "--wait-timeout",
            dest="wait_timeout",
            type=positive_float,
            metavar="SECONDS",
            help="with --wait: give up waiting after this, exit code 5 (default 3600)",
        )
    else:
        add_misplaced_timeout(parser, argparse.SUPPRESS)
    add_global_options(parser, leaf=True, taken=taken | {"--spec"})
    return parser


def free_flag(flag: str, taken: set[str]) -> str:
    """The naming rule, for flags: append ``-`` until no other option of the command has it."""
    while flag in taken:
        flag += "-"
    taken.add(flag)
    return flag


def add_flag(parser: argparse.ArgumentParser, flag: str, param: Any, op: Any) -> None:
    dest = "p:" + param.python_name
    kind = schema_kind(param.schema)  # a parameter's own schema: its $ref is followed already
    common: dict[str, Any] = {"dest": dest, "required": param.required, "help": param_help(param)}
    if kind == "boolean":
        parser.add_argument(flag, action=argparse.BooleanOptionalAction, **common)
    elif kind == "array":
        items = param.schema.get("items") or {}
        parser.add_argument(flag, action="extend", type=list_parser(items, op), metavar="VALUE[,VALUE]", **common)
    else:
        parser.add_argument(flag, type=value_parser(param.schema, op), metavar=kind.upper() or "VALUE", **common)


def param_help(param: Any) -> str:
    from ..api.operations import schema_summary

    where = f"{param.location} parameter {param.name!r}"
    text = f"{schema_summary(param.schema)}; {where}" + ("" if param.required else ", optional")
    description = " ".join((param.description or "").split())
    return (f"{description} ({text})" if description else text).replace("%", "%%")


# --------------------------------------------------------------------------- values


def resolved(schema: Any, op: Any) -> dict[str, Any]:
    """A nested schema (array items) with its ``$ref`` followed; parameters' own are followed at load."""
    from ..api.operations import deref

    found = deref(op.document, schema)
    return found if isinstance(found, dict) else {}


def schema_kind(schema: dict[str, Any]) -> str:
    """The JSON type a command-line value converts to (``""``: keep the text)."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "")
    if not kind and ("properties" in schema or "additionalProperties" in schema):
        kind = "object"
    return kind if isinstance(kind, str) else ""


def value_parser(schema: Any, op: Any) -> Callable[[str], Any]:
    """Text → value of the schema's type; the validator then checks the value itself."""
    schema = resolved(schema, op)
    kind = schema_kind(schema)
    if kind == "array":
        return list_parser(schema.get("items") or {}, op)
    parse = {"integer": parse_int, "number": parse_number, "boolean": parse_bool, "object": parse_json}.get(kind)
    return parse or str


def list_parser(items: Any, op: Any) -> Callable[[str], list[Any]]:
    """A JSON list, else comma-separated values, each parsed by the item schema."""
    parse_item = value_parser(items, op)

    def parse(text: str) -> list[Any]:
        if text.lstrip().startswith("["):
            return parse_json(text)
        return [parse_item(part) for part in text.split(",")]

    parse.__name__ = "list"  # argparse names the type in its error message
    return parse


def parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def parse_number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"not a boolean (true or false): {text!r}")


def parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON ({error}): {text[:60]!r}") from None


def call_arguments(plan: CallPlan, ns: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for ``client.call`` from the parsed command line."""
    kwargs = {name[2:]: value for name, value in vars(ns).items() if name.startswith("p:") and value is not None}
    if getattr(ns, "body", None) is not None:
        kwargs["body"] = read_body(ns.body, plan.body_media or "")
    return kwargs


def read_body(value: str, media: str) -> Any:
    """``--body``: the text, ``@FILE`` or ``@-``; decoded as JSON where the body is JSON."""
    from ..spec.media import base_media, is_json_media

    data: str | bytes = value
    if value.startswith("@"):
        data = read_file(value[1:])
    base = base_media(media)
    if is_json_media(base) or base in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            return json.loads(data)
        except ValueError as error:
            raise UsageError(f"--body is not valid JSON: {error}") from None
    if base.startswith("text/") and isinstance(data, bytes):
        return data.decode("utf-8")
    return data


def read_file(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None


# --------------------------------------------------------------------------- the client


def make_client(api: Api, ns: argparse.Namespace) -> Any:
    """A client of the Api the command was parsed with (its spec source, so both agree)."""
    from ..client.classes import client_class

    options: dict[str, Any] = {"spec": spec_source(ns.spec)}
    options.update(connection_settings(ns, os.environ))
    if ns.request_timeout is not None:
        options["timeout"] = ns.request_timeout
    if ns.retries is not None:
        options["retries"] = ns.retries
    if ns.no_validate:
        options["validate_requests"] = options["validate_responses"] = "off"
    return client_class(api)(**options)


def connection_settings(ns: argparse.Namespace, environ: Any) -> dict[str, Any]:
    """Flags, then the environment: host by itself, the tokens as one set."""
    from ..client.credentials import settings_from_env

    env = settings_from_env(environ)
    token, access_token = read_tokens(ns.token, ns.access_token)
    settings: dict[str, Any] = {"host": ns.host or env.get("host")}
    if token or access_token:
        settings.update(token=token, access_token=access_token)
    else:
        settings.update(token=env.get("token"), access_token=env.get("access_token"))
    return {key: value for key, value in settings.items() if value}


def read_tokens(token: str | None, access_token: str | None) -> tuple[str | None, str | None]:
    """``-`` reads a token from stdin (a pipe, or typed without echo), so it stays out of shell
    history and ``ps``."""
    if token == "-" and access_token == "-":
        raise UsageError("only one of --token and --access-token can be read from stdin")
    if "-" not in (token, access_token):
        return token, access_token
    if sys.stdin.isatty():  # typed by hand: prompt, and do not echo it
        import getpass

        secret = getpass.getpass("odm-dyn: token: ").strip()
    else:
        secret = sys.stdin.readline().strip()
    if not secret:
        raise UsageError("no token on standard input")
    return (secret, access_token) if token == "-" else (token, secret)


# --------------------------------------------------------------------------- output


def emit(data: Any, stream: IO[str] | None = None) -> None:
    """The answer on stdout: JSON (indented on a terminal), text and bytes as they are."""
    stream = stream or sys.stdout
    if data is None:
        return
    if isinstance(data, (bytes, bytearray)):
        stream.flush()
        stream.buffer.write(bytes(data))  # type: ignore[attr-defined]
        stream.buffer.flush()  # type: ignore[attr-defined]
        return
    if isinstance(data, str):
        print(data, file=stream, flush=True)
        return
    if stream.isatty():
        text = json.dumps(to_wire(data), indent=2, ensure_ascii=False)
    else:
        text = json.dumps(to_wire(data), separators=(",", ":"), ensure_ascii=False)
    print(text, file=stream, flush=True)


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
