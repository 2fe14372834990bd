"""How an edit to a value a script's command line sets can be made, for the option's action and type:
a word of the launch line that passes it (named by file and line), the `add_argument` default in the
script, or no edit where the script cannot take the value.

The semantics, from CPython 3.11.7 Lib/argparse.py (the interpreter's own source):
- `store_const` / `store_true` / `store_false` take no value (nargs=0) and store their `const` (:959-979);
  `store_true` stores only True, default False (:982-996); `store_false` stores only False, default True
  (:999-1013): with `store_true, default=True` no command-line word makes the attribute False.
- `BooleanOptionalAction` adds `--no-x` for every `--x` and stores False for it (:885-918).
- a passed word goes through `type=` (:2521-2545): `type=int` stops on "0.5"; `type=bool` is Python's
  bool(), so every non-empty word, "False" included, is True; a passed value must be one of `choices`
  (:2547-2553).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import IN_LAUNCH_LINE
from .pyargs import Arg

ARGPARSE_ACTIONS_AT = "CPython 3.11.7 Lib/argparse.py"
STORE_AT = f"{ARGPARSE_ACTIONS_AT}:959-1013"
BOOLEAN_OPTIONAL_AT = f"{ARGPARSE_ACTIONS_AT}:885-918"
TYPE_AT = f"{ARGPARSE_ACTIONS_AT}:2521-2545"
CHOICES_AT = f"{ARGPARSE_ACTIONS_AT}:2547-2553"

_FLAG_ACTIONS = ("store_true", "store_false", "store_const")


@dataclass(frozen=True)
class OptionSite:
    """Where the value of one command-line option comes from, as `CommandLine.value_of` read it."""

    arg: Arg
    value: Any  # the value the run has (the launch word's, else the default)
    script: str  # the file that declares the option, as shown (the script's name, or an imported module's path)
    launch: str | None  # the launch line that runs the script ("run.sh line 3"); None: none found
    passed: tuple[str, str | None, str] | None = None  # the word the launch line passes: (flag, value, where)


def _word(value: Any) -> str:
    return str(value)


def _written(passed: tuple[str, str | None, str]) -> str:
    flag, raw, _where = passed
    return f"`{flag}{'' if raw is None else ' ' + raw}`"


def _add(site: OptionSite, words: str) -> str:
    """Pass `words` where the script is launched (the launch line, named), or say there is none."""
    if site.passed is not None:
        return f"{_written(site.passed)} is passed by {site.passed[2]}: change it {IN_LAUNCH_LINE} to `{words}`"
    if site.launch is not None:
        return f"add `{words}` {IN_LAUNCH_LINE} ({site.launch})"
    return f"pass `{words}` where the script is launched"


def _impossible(site: OptionSite, new: Any) -> str | None:
    """Why no word and no default of this option can hold `new`: not one of its choices, a float for `type=int`."""
    arg = site.arg
    decl = f"`{arg.flags[0]}` ({site.script}:{arg.line})"
    if arg.choices is not None and new not in arg.choices:
        shown = ", ".join(repr(c) for c in arg.choices)
        return f"{decl} accepts only the choices {shown}, and {_word(new)} is not one of them ({CHOICES_AT}): no edit offered; change the script by hand"
    if arg.type_name == "int" and isinstance(new, float):
        return f"{decl} is `type=int`, and {_word(new)} is not an int ({TYPE_AT}): no edit offered; change the script by hand"
    return None


def how(site: OptionSite, new: Any) -> str | None:
    """How to give the option the value `new`: None where writing the option's default literal in the script makes
    the edit (not passed by the launch line, a plain value option; the caller still needs a literal to write),
    else where to make it instead or why no edit is offered."""
    if not isinstance(new, (bool, int, float, str)):
        return None  # a value goblin writes as code (torch.bfloat16): the caller's own reason stands
    arg = site.arg
    flag = arg.flags[0]
    if arg.action in _FLAG_ACTIONS:
        return _flag(site, new)
    if arg.action == "BooleanOptionalAction":
        return _boolean_optional(site, new)
    if arg.action not in (None, "store"):
        return None
    if (no := _impossible(site, new)) is not None:
        return no
    if site.passed is None:
        return None
    passed_flag = site.passed[0] if site.passed[0] not in arg.negated_by else flag
    if arg.type_name == "bool" and new is False:
        written = _written(site.passed)
        after = (
            f"; without it the default `{_word(arg.default)}` ({site.script}:{arg.line}) applies"
            if arg.has_default and arg.default is not None and not arg.default
            else f", and set the default of `{flag}` ({site.script}:{arg.line}) to False by hand"
        )
        return (
            f"{written} is passed by {site.passed[2]}, and `{flag}` is `type=bool`, Python's bool(): every non-empty word, `False`"
            f" included, is True ({TYPE_AT}); remove {written} {IN_LAUNCH_LINE}{after}"
        )
    return _add(site, f"{passed_flag} {_word(new)}")


def _flag(site: OptionSite, new: Any) -> str | None:
    """store_true / store_false / store_const: the flag gives `const`, its absence the default; nothing else."""
    arg = site.arg
    flag = arg.flags[0]
    decl = f"`{flag}` is a {arg.action} option ({'line ' if arg.file is None else site.script + ':'}{arg.line})"
    if type(new) is type(arg.const) and new == arg.const:
        if site.passed is not None:
            return f"{_written(site.passed)} at {site.passed[2]} already sets it"
        return f"{decl}: {_add(site, flag)}"
    if arg.has_default and type(new) is type(arg.default) and new == arg.default:
        if site.passed is not None:
            return f"{decl}: remove {_written(site.passed)} {IN_LAUNCH_LINE} ({site.passed[2]}); without it the default {_word(arg.default)} applies"
        return None  # the default already is the value; nothing to write
    default = f"its default is {_word(arg.default)}" if arg.has_default and arg.default is not None else "it has no default"
    optional = f", or `action=argparse.BooleanOptionalAction` for a `--no-{flag[2:]}` flag" if flag.startswith("--") and isinstance(new, bool) else ""
    removed = f"; and remove {_written(site.passed)} {IN_LAUNCH_LINE} ({site.passed[2]})" if site.passed is not None else ""
    return (
        f"no command-line word sets `{arg.dest}` to {_word(new)}: `{flag}` is a {arg.action} option, which only stores {_word(arg.const)}"
        f" ({STORE_AT}), and {default}; edit the `add_argument` call at {site.script}:{arg.line} by hand"
        f" (`default={_word(new)}`{optional}){removed}"
    )


def _boolean_optional(site: OptionSite, new: Any) -> str | None:
    """BooleanOptionalAction: `--x` stores True, `--no-x` False."""
    arg = site.arg
    longs = [f for f in arg.flags if f.startswith("--")]
    if not isinstance(new, bool) or not longs or not arg.negated_by:
        return None
    word = longs[0] if new else arg.negated_by[0]
    said = f"`{arg.flags[0]}` is a BooleanOptionalAction option ({site.script}:{arg.line}; `{word}` sets {_word(new)}, {BOOLEAN_OPTIONAL_AT})"
    return f"{said}: {_add(site, word)}"
