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
    4    a waited-for task ended FAILED, KILLED or BLOCKED_BY_DEPENDENCY_FAILURE, or a job
         ended FAILED, STOPPED or ABANDONED
    5    a waited-for task or job was not finished after --timeout (TaskTimeoutError, JobTimeoutError)
    6    the server answered off-spec (ResponseValidationError)
    130  interrupted (Ctrl-C)

Commands are registered in one place, ``COMMANDS`` below; their code lives in ``commands.py``
(and modules of their own), parsers in ``parsers.py``, value conversion in ``values.py``, the
client's settings in ``session.py``, and what is printed in ``output.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, Sequence

from ..errors import OdmError
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
from . import commands, completion
from .behaviours import cmd_behaviours
from .commands import follow_task
from .output import Explained, UsageError, configure_logging, report, say
from .parsers import main_parser, refuse_misplaced_timeout, spec_values
from .spec_commands import cmd_spec

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
    "follow_task",
    "main",
]

Command = Callable[[argparse.Namespace, list[str]], int]

# The one place commands are registered: name → (handler, usage, one line of help for --help).
# A command of its own module is one import and one line here.
COMMANDS: dict[str, tuple[Command, str, str]] = {
    "call": (commands.cmd_call, "call OPERATION ...", "any operation by operationId or Python name"),
    "ops": (
        commands.cmd_ops,
        "ops [SEARCH] [--tag T]",
        "the operations by tag; --long: method, path, signature",
    ),
    "describe": (commands.cmd_describe, "describe OPERATION", "the full documentation of one operation"),
    "stubs": (commands.cmd_stubs, "stubs OUT.pyi", "write a type stub of the client, for editors and mypy"),
    "serve": (commands.cmd_serve, "serve", "run the embedded ODM server"),
    "demo": (commands.cmd_demo, "demo", "ODM's workflow on an embedded server: import, curate, publish, read"),
    "completion": (completion.cmd_completion, "completion SHELL", "print the bash or zsh completion script"),
    "behaviours": (cmd_behaviours, "behaviours", "what the embedded server does for each operation"),
    "spec": (
        cmd_spec,
        "spec diff OLD NEW",
        "what changed between two specs (files, folders, URLs); exit 1 if it breaks callers",
    ),
    "__complete": (completion.cmd_complete, "", ""),  # hidden: what the completion scripts ask
}


def commands_help() -> str:
    rows = [("TAG OPERATION ...", "one command per operation of the spec, grouped by tag (below)")]
    rows += [(usage, text) for _, usage, text in COMMANDS.values() if usage]
    return "commands:\n" + "\n".join(f"  {usage:<21} {text}" for usage, text in rows)


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
    except (OdmError, Explained) as error:
        return report(error)


def run(argv: list[str]) -> int:
    parser = main_parser(commands_help())
    parser.spec_values = spec_values(argv)  # --help runs inside parse_args, before ns exists
    ns = parser.parse_args(argv)
    refuse_misplaced_timeout(ns)
    if ns.command is None:
        parser.print_usage(sys.stderr)
        say("error: a command is required; `odm-dyn --help` lists them")
        return EXIT_USAGE
    if ns.command == "__complete":
        return completion.cmd_complete(ns, ns.args, static=tuple(COMMANDS))
    if ns.command in COMMANDS:
        return COMMANDS[ns.command][0](ns, ns.args)
    return commands.cmd_tag(ns, ns.args, static=tuple(name for name in COMMANDS if not name.startswith("_")))
