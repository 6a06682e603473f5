"""The argument parsers: the top level, the global options, and one parser per operation.

Only the parser of the command asked for is built, so the spec is read once and ``--help``
stays quick. A flag is ``--`` plus the kebab-case of its parameter's Python name.

Layer: cli; imports ``api`` and ``spec`` (lazily where it is heavy).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, NoReturn

from ..errors import OdmError
from ..spec.document import TASKS_SPEC
from ..spec.read import spec_source
from .output import OUTPUTS, UsageError
from .spec_commands import SPEC_OPTIONS
from .values import list_parser, positive_float, retry_count, schema_kind, value_parser

if TYPE_CHECKING:
    from ..api.plans import Api, CallPlan


EXIT_CODES = """\
exit codes:
  0    success
  1    the server answered with an error status (4xx, 5xx)
  2    bad usage, or a request the spec refuses (nothing was sent); serve: cannot listen
  3    the transport failed: refused, reset, DNS, TLS, no answer in time
  4    a waited-for task ended FAILED, KILLED or BLOCKED_BY_DEPENDENCY_FAILURE (a job: not COMPLETED)
  5    a waited-for task or job was not finished after --timeout
  6    the server answered off-spec (its answer breaks the spec)
  130  interrupted"""


ENVIRONMENT = """\
environment (flags win; a token flag replaces both tokens of the environment):
  ODM_HOST, ODM_API_TOKEN, ODM_ACCESS_TOKEN, ODM_SPEC (a spec file, folder or URL, as --spec)
  PRED_SPOT_HOST, PRED_SPOT_SCHEME, PRED_SPOT_TOKEN, PRED_SPOT_ACCESS_TOKEN"""


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


def main_parser(commands_help: str) -> MainParser:
    parser = MainParser(
        prog="odm-dyn",
        usage="odm-dyn [GLOBAL OPTIONS] COMMAND ...",
        description="Command line for the Genestack ODM REST API, built from its OpenAPI spec at run time.\n\n"
        + commands_help,
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
        ("--spec", dict(action="append", metavar="FILE|URL", help=SPEC_HELP)),
        ("--host", dict(metavar="URL", help="server base URL (ODM_HOST; default: the spec's server)")),
        ("--token", dict(metavar="TOKEN", help="Genestack API token ('-': read it from stdin)")),
        ("--access-token", dict(metavar="TOKEN", help="access token, sent as Bearer ('-': read it from stdin)")),
        ("--request-timeout", dict(type=positive_float, metavar="SECONDS", help="timeout of each request")),
        ("--retries", dict(type=retry_count, metavar="N", help="retries of idempotent requests (default 3)")),
        ("--no-validate", dict(action="store_true", help="do not check requests and responses against the spec")),
        *SPEC_OPTIONS,
        (
            "--output",
            dict(choices=OUTPUTS, metavar="FORMAT", help=f"answer format: {'|'.join(OUTPUTS)} (default json)"),
        ),
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
    "spec file, folder or http(s) URL to use instead of the bundled one (repeatable; ODM_SPEC); "
    "'+FILE' adds FILE to the bundled spec instead of replacing it"
)


class OperationParser(argparse.ArgumentParser):
    """A command's parser that speaks the shell's words.

    An unknown flag gets a did-you-mean among the command's flags; the wire name of a parameter
    (``--versionMessage``) is an alias of its flag; a boolean flag also takes ``true``/``false``
    (``--include-drafts false`` is ``--no-include-drafts``).
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.aliases: dict[str, str] = {}  # a wire-name flag → the command's flag
        self.booleans: set[str] = set()

    def canonical(self, args: list[str]) -> list[str]:
        """The arguments with wire-name flags renamed and ``--flag true|false`` folded."""
        out: list[str] = []
        words = iter(args)
        for word in words:
            if word == "--":
                return out + [word, *words]
            flag, eq, value = word.partition("=")
            flag = self.aliases.get(flag, flag) if flag not in self._option_string_actions else flag
            if flag in self.booleans:
                if not eq:
                    value = next(words, "")
                    if value.lower() not in BOOLEAN_WORDS:  # not a boolean: the next argument itself
                        out.append(flag)
                        out += [value] if value else []
                        continue
                out.append(flag if BOOLEAN_WORDS.get(value.lower(), True) else "--no-" + flag[2:])
                continue
            out.append(flag + eq + value if eq else flag)
        return out

    def error(self, message: str) -> NoReturn:
        """argparse's message, with a did-you-mean for a mistyped flag."""
        from ..names import did_you_mean

        if message.startswith("unrecognized arguments:"):
            unknown = [word.split("=", 1)[0] for word in message.split(":", 1)[1].split() if word.startswith("--")]
            known = [flag for flag in self._option_string_actions if flag.startswith("--")]
            hints = [did_you_mean(flag, known) for flag in unknown]
            message += "".join(hint for hint in hints if hint) or "; `--help` lists the flags"
        super().error(message)


BOOLEAN_WORDS = {
    "true": True,
    "yes": True,
    "1": True,
    "on": True,
    "false": False,
    "no": False,
    "0": False,
    "off": False,
}


def sub_parser(prog: str, description: str, **kwargs: Any) -> OperationParser:
    parser = OperationParser(
        prog=prog,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # a flag added to the spec later must not change what an abbreviation meant
        **kwargs,
    )
    return parser


def parse_into(parser: argparse.ArgumentParser, args: list[str], ns: argparse.Namespace) -> argparse.Namespace:
    """Parse a sub-command's arguments over the global namespace: its repeats of globals win."""
    if isinstance(parser, OperationParser):
        args = parser.canonical(args)
    parsed = parser.parse_args(args, namespace=argparse.Namespace(**vars(ns)))
    refuse_misplaced_timeout(parsed)
    return parsed


def operations_help(spec_values: list[str] | None) -> str:
    """The operation commands of the spec, for the top-level help."""
    try:
        api = LightIndex(spec_source(spec_values))
    except OdmError as error:
        return f"operations: the spec could not be loaded ({error})\n"
    if len(api.operations) > HELP_OPERATIONS:  # a large spec: its tags, not hundreds of lines
        lines = [f"tags of the loaded spec ({len(api.operations)} operations; `odm-dyn ops --tag TAG` lists a tag's):"]
        for attr, (tag, op_ids) in api.tags.items():
            lines.append(f"  {kebab(attr):<40} {len(op_ids):>3}  {tag}")
        return "\n".join(lines) + "\n"
    lines = ["operations of the loaded spec (odm-dyn ops --long shows their signatures):"]
    for op in api.operations.values():
        lines.append(f"  {command_of(api, op).removeprefix('odm-dyn '):<40} {op.summary}")
    return "\n".join(lines) + "\n"


HELP_OPERATIONS = 30  # above this many operations the top-level help lists tags instead


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


def command_of(api: Api | LightIndex, op: Any) -> str:
    """The shell command that runs an operation, with its positional arguments."""
    return " ".join([command_head(api, op), *(p.python_name.upper() for p in op.positional())])


def command_head(api: Api | LightIndex, op: Any) -> str:
    """``odm-dyn TAG OPERATION`` when the operation has a tag, else ``odm-dyn call OPERATION_ID``."""
    from ..api.plans import command_head as head

    return head(api.tags, op)


def operation_parser(api: Api, plan: CallPlan, prog: str) -> OperationParser:
    """A parser for one operation: path parameters positional, the others flags."""
    from .docs import body_help

    op = plan.op
    epilog = "\n\n".join(part for part in (body_help(plan), EXIT_CODES) if part)
    parser = sub_parser(prog, op.docstring().replace("%", "%%"), epilog=epilog.replace("%", "%%"))
    taken = {"-h", "--help", "--body", "--body-example", "--wait", "--timeout", "--wait-timeout", "--all"}
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
        parser.aliases.setdefault("--" + param.name, flag)  # the wire name, as the spec writes it
    if op.body is not None:
        add_body_options(parser, op)
    from .follow import add_follow_options

    if not add_follow_options(parser, api, plan):  # --wait/--timeout (tasks, jobs), --all (paged lists)
        add_misplaced_timeout(parser, argparse.SUPPRESS)
    add_global_options(parser, leaf=True, taken=taken | {"--spec"})
    return parser


def add_body_options(parser: OperationParser, op: Any) -> None:
    media = ", ".join(op.body.content) or "any media type"
    parser.add_argument(
        "--body",
        dest="body",
        metavar="JSON|@FILE",
        help=f"request body ({media}; {'required' if op.body.required else 'optional'}): "
        "the text itself, @FILE, or @- for stdin; its fields are listed below",
    )
    parser.add_argument("--body-example", action="store_true", help="print a valid example body and exit")


def free_flag(flag: str, taken: set[str]) -> str:
    """The naming rule, for flags: append ``-`` until no other option of the command has it."""
    while flag in taken:
        flag += "-"
    taken.add(flag)
    return flag


def add_flag(parser: OperationParser, flag: str, param: Any, op: Any) -> None:
    dest = "p:" + param.python_name
    kind = schema_kind(param.schema)  # a parameter's own schema: its $ref is followed already
    common: dict[str, Any] = {"dest": dest, "required": param.required, "help": param_help(param)}
    if kind == "boolean":
        common["help"] += f"; {flag} true|false works too"
        parser.add_argument(flag, action=argparse.BooleanOptionalAction, **common)
        parser.booleans.add(flag)
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
