"""The naming rule: spec names as Python names.

operationIds, tags and parameter names become snake_case; a name that is a Python keyword, one
of the client's own attributes, or already taken by an earlier operation, tag or parameter of
the same scope gets ``_`` appended until it is free. Spec order decides which one is
"earlier"; operations come before tags, and an operation's name counts as taking its
``<name>_with_http_info`` twin too.

Did-you-mean lives here too, the one implementation for operations, arguments and flags: a
name matches across the spellings the naming rule makes (``versionMessage``, ``version_message``,
``--version-message``), then by similarity.

Layer: the bottom; imports nothing of odm_dyn.
"""

from __future__ import annotations

import functools
import keyword
import re
from typing import Iterable

WITH_HTTP_INFO = "_with_http_info"
# The attribute that marks a module made on import from the generated-client surface's spec
# (``odm_dyn.models.<name>``, ``odm_dyn.api.<tag>_api``): a new surface spec drops them.
SURFACE_MODULE_MARK = "__odm_dyn_surface__"


@functools.lru_cache(maxsize=4096)
def snake_case(name: str) -> str:
    """``publishAllStudies`` → ``publish_all_studies``; ``Tasks API`` → ``tasks_api``.

    A capitalised word written mostly in capitals is one acronym (``SPoT`` → ``spot``,
    ``URLs`` → ``urls``), not a run of one-letter words.
    """
    words = [_snake_word(word) for word in re.split(r"[^0-9A-Za-z]+", name) if word]
    name = "_".join(word for word in words if word) or "_"
    return "_" + name if name[0].isdigit() else name


def _snake_word(word: str) -> str:
    upper = sum(ch.isupper() for ch in word)
    if word[0].isupper() and upper > sum(ch.islower() for ch in word):
        return word.lower()
    word = _LOWER_THEN_UPPER.sub("_", word)
    word = _ACRONYM_THEN_WORD.sub("_", word)
    return word.lower()


# Where an underscore goes: ``aB`` → ``a_B``, ``HTTPServer`` → ``HTTP_Server``. Empty matches and a
# plain ``_`` replacement: a group template would be expanded on every match (a fifth of building
# the vendor API's operations went to expanding ``\1_\2``).
_LOWER_THEN_UPPER = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_ACRONYM_THEN_WORD = re.compile(r"(?<=[A-Z])(?=[A-Z][a-z])")


def pascal_case(name: str) -> str:
    """``Tasks API`` → ``TasksAPI``: words capitalised, the rest of each word kept."""
    words = re.split(r"[^0-9A-Za-z]+", name)
    joined = "".join(word[:1].upper() + word[1:] for word in words if word)
    return joined if joined and not joined[0].isdigit() else "_" + joined


def generator_module(class_name: str) -> str:
    """The module the vendor's generated client keeps a class in: ``TasksAPIApi`` →
    ``tasks_api_api``, ``StudySPoTAsCuratorApi`` → ``study_spo_tas_curator_api``.

    Its rule, not ours: a run of capitals before a capitalised word of three letters or more
    is a word; then a capital after a lowercase letter or digit starts one.
    """
    name = re.sub(r"([A-Z]+)([A-Z][a-z][a-z]+)", r"\1_\2", class_name)
    name = re.sub(r"([a-z\d])([A-Z])", r"\1_\2", name)
    return name.replace("-", "_").lower()


def free_name(name: str, taken: set[str]) -> str:
    """The naming rule: append ``_`` while the name is a keyword or taken; record it."""
    while keyword.iskeyword(name) or name in taken:
        name += "_"
    taken.add(name)
    return name


def free_method_name(name: str, taken: set[str]) -> str:
    """The naming rule for an operation, whose method comes with a ``_with_http_info`` twin:
    both names must be free, and both are recorded."""
    while keyword.iskeyword(name) or name in taken or name + WITH_HTTP_INFO in taken:
        name += "_"
    taken.update((name, name + WITH_HTTP_INFO))
    return name


def _folded(name: str) -> str:
    """A name with case, ``-`` and ``_`` taken out: one key for all its spellings."""
    return re.sub(r"[-_]", "", name).lower()


def close_names(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names closest to ``name``, best first: another spelling of it, then look-alikes."""
    by_fold: dict[str, list[str]] = {}
    for candidate in known:
        by_fold.setdefault(_folded(candidate), []).append(candidate)
    import difflib  # only for a name that is not known: never on import, never on a good call

    wanted = _folded(name)
    folds = [wanted] if wanted in by_fold else []
    folds += difflib.get_close_matches(wanted, list(by_fold), n=n + 6)
    found: list[str] = []
    for fold in folds:  # within one fold, the spelling closest to the one asked first
        spellings = sorted(by_fold[fold], key=lambda each: -difflib.SequenceMatcher(None, name, each).ratio())
        found += [candidate for candidate in spellings if candidate not in found]
    return found[:n]


def did_you_mean(name: str, known: Iterable[str], n: int = 3, quote: bool = False) -> str:
    """``"; did you mean a, b?"``, or ``""`` when nothing is close (``quote``: names in repr quotes)."""
    close = close_names(name, known, n)
    shown = [repr(each) if quote else each for each in close]
    return f"; did you mean {', '.join(shown)}?" if shown else ""
