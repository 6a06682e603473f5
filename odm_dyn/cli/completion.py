"""Shell completion for bash and zsh, answered by ``odm-dyn`` itself.

``odm-dyn completion bash|zsh`` prints a script for the shell to source; the script asks the
hidden command ``odm-dyn __complete WORD...`` (the words typed so far, the one being completed
left out) for the candidates: commands and tag groups, then a group's operations, then the
flags of the operation. The same parsers make the candidates, so completion never disagrees
with what the command accepts, and a ``--spec`` among the words is honoured.

Layer: cli; imports ``api`` lazily.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..exit_codes import EXIT_OK
from ..spec.read import spec_source
from .parsers import add_global_options, kebab, operation_parser, spec_values, sub_parser

if TYPE_CHECKING:
    from ..api.plans import Api

BASH = """\
# odm-dyn completion for bash: source it, or add `eval "$(odm-dyn completion bash)"` to ~/.bashrc
_odm_dyn() {
    local IFS=$'\\n'
    local words=("${COMP_WORDS[@]:1:COMP_CWORD-1}")
    COMPREPLY=($(compgen -W "$(odm-dyn __complete "${words[@]}" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}"))
}
complete -o default -F _odm_dyn odm-dyn
"""

ZSH = """\
#compdef odm-dyn
# odm-dyn completion for zsh: add `eval "$(odm-dyn completion zsh)"` to ~/.zshrc (after compinit)
_odm_dyn() {
    local -a candidates
    candidates=("${(@f)$(odm-dyn __complete "${(@)words[2,CURRENT-1]}" 2>/dev/null)}")
    compadd -a candidates
}
compdef _odm_dyn odm-dyn
"""

SCRIPTS = {"bash": BASH, "zsh": ZSH}


def cmd_completion(ns: argparse.Namespace, args: list[str]) -> int:
    parser = sub_parser(
        "odm-dyn completion",
        "Print the shell completion script.\n\n"
        '  bash:  eval "$(odm-dyn completion bash)"   (in ~/.bashrc)\n'
        '  zsh:   eval "$(odm-dyn completion zsh)"    (in ~/.zshrc, after compinit)',
    )
    parser.add_argument("shell", choices=sorted(SCRIPTS), metavar="SHELL", help="bash or zsh")
    print(SCRIPTS[parser.parse_args(args).shell], end="")
    return EXIT_OK


def cmd_complete(ns: argparse.Namespace, args: list[str], static: tuple[str, ...] = ()) -> int:
    """The candidates for the word after ``args``, one a line (no error ever reaches the shell)."""
    try:
        print("\n".join(candidates(args, static)))
    except Exception:  # noqa: BLE001 - a completion must never break the prompt, whatever the spec holds
        pass
    return EXIT_OK


def candidates(words: list[str], static: tuple[str, ...]) -> list[str]:
    from ..api.load import load_api

    api = load_api(spec_source(spec_values(words)))
    positional = leading_words(words)
    groups = {kebab(attr): ids for attr, (_tag, ids) in api.tags.items()}
    if not positional:
        return [name for name in static if not name.startswith("_")] + list(groups) + global_flags()
    head, rest = positional[0], positional[1:]
    if head == "call":
        return list(api.plans) if not rest else operation_flags(api, rest[0])
    if head in groups:
        names = [kebab(api.plans[op_id].op.python_name) for op_id in groups[head]]
        return names if not rest else operation_flags(api, rest[0])
    return []


def leading_words(words: list[str]) -> list[str]:
    """The command words typed, global options and their values skipped."""
    takes_value = {"--spec", "--host", "--token", "--access-token", "--request-timeout", "--retries", "--output"}
    out: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in takes_value:
            skip = True
        elif not word.startswith("-"):
            out.append(word)
    return out


def global_flags() -> list[str]:
    parser = sub_parser("odm-dyn", "")
    add_global_options(parser, leaf=False)
    shown = [action for action in parser._actions if action.help != argparse.SUPPRESS]
    return [flag for action in shown for flag in action.option_strings if flag.startswith("--")]


def operation_flags(api: Api, name: str) -> list[str]:
    try:
        plan = api.find_plan(name)
    except LookupError:
        return []
    parser = operation_parser(api, plan, "odm-dyn")
    shown = [action for action in parser._actions if action.help != argparse.SUPPRESS]
    return [flag for action in shown for flag in action.option_strings if flag.startswith("--")]
