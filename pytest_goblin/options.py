"""One table of options for both front ends: `pytest --goblin-*` (plus `goblin_*` ini keys) and
`goblin audit --*`. Each option is declared once, with its type, default and help, so the two
surfaces cannot drift; values are converted and checked here, and Settings are built here.

Precedence in pytest: the command line, then the ini file, then the default. `goblin audit`
reads no ini file: it runs on pull requests, where the checkout's files are not trusted, so its
settings come from its command line (and GOBLIN_AGENT_BACKEND) alone.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .errors import GoblinError

Kind = Literal["str", "float", "int", "bool", "paths", "choice"]
Surface = Literal["pytest", "cli"]
BOTH: frozenset[Surface] = frozenset({"pytest", "cli"})


@dataclass(frozen=True)
class Option:
    name: str  # the Settings field it fills, or the session value's name
    flag: str  # `--goblin-<flag>` in pytest, `--<flag>` in `goblin audit`
    help: str
    kind: Kind = "str"
    default: Any = None
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    ini: bool = True  # also a `goblin_<name>` ini key in pytest
    setting: bool = True  # a Settings field (else a session value: report paths, --fix, shards)
    surfaces: frozenset[Surface] = BOTH
    only_because: str = ""  # why an option exists on one surface only

    @property
    def ini_name(self) -> str:
        return f"goblin_{self.name}"

    @property
    def dest(self) -> str:
        return f"goblin_{self.name}"


RUNNERS = ("auto", "projection", "torch", "command")

OPTIONS: tuple[Option, ...] = (
    Option("backend", "backend", "planner (default), claude or qwen; also GOBLIN_AGENT_BACKEND", metavar="NAME"),
    Option(
        "runner",
        "runner",
        "auto: command when a training command is set, else torch on a ROCm/CUDA machine, else projection",
        kind="choice",
        choices=RUNNERS,
        default="auto",
    ),
    Option(
        "target",
        "target",
        "GPU the audit targets: mi300x, mi325x, mi355x, mi250x (projected per GCD), mi210 or h100; default auto: the local AMD GPU, else mi300x",
        default="auto",
        metavar="GPU",
    ),
    Option("fail_at", "fail-at", "fail when the speedup's lower bound reaches this (default 1.10)", kind="float", default=1.10, metavar="X"),
    Option("warn_at", "warn-at", "warn when the speedup reaches this (default 1.03)", kind="float", default=1.03, metavar="X"),
    Option(
        "budget_s",
        "budget-s",
        "time limit of one audit's measurement (a measured benchmark, or all runs of the training command), seconds (default 300)",
        kind="float",
        default=300.0,
        metavar="S",
    ),
    Option(
        "world_size",
        "world-size",
        "GPUs the training runs on, where neither the config nor its repository says (the config's keys and launch lines, then the repository's launch scripts, slurm jobs, accelerate configs and README blocks are read first; README, How the repository is read); every finding that depends on it names the value used and where it came from",
        kind="int",
        metavar="N",
    ),
    Option("kb_paths", "kb-path", "extra KB rule files or folders (repeat the flag for several)", kind="paths", default=(), metavar="PATH"),
    Option("baseline", "baseline", "a JSON report from the base branch: fail only on configs this change made worse or introduced", metavar="JSON"),
    Option(
        "attribution", "attribution", "measured runs only: time the patch without each rule and drop rules that recover under 2%", kind="bool", default=False
    ),
    Option(
        "hub", "hub", "download config.json from the Hugging Face Hub for models the shape table and the local cache do not know", kind="bool", default=False
    ),
    Option(
        "command",
        "command",
        "your training command, run before and after each patch; must contain {config}, may contain {steps}",
        metavar="CMD",
    ),
    Option(
        "command_steps", "command-steps", "training steps per command run, passed as {steps} and GOBLIN_STEPS (default 20)", kind="int", default=20, metavar="N"
    ),
    Option("command_metric", "command-metric", "regex with one (group) around the throughput in the command's log", metavar="REGEX"),
    Option(
        "command_metric_unit",
        "command-metric-unit",
        "what command-metric's number is; unset, only the before/after ratio is reported",
        kind="choice",
        choices=("tokens/s", "samples/s", "steps/s", "s/step"),
    ),
    # session values
    Option("md", "md", "write the Markdown summary to PATH", setting=False, ini=False, metavar="PATH"),
    Option("json", "json", "write the full JSON report to PATH", setting=False, ini=False, metavar="PATH"),
    Option("sarif", "sarif", "write SARIF 2.1.0 for GitHub code scanning to PATH", setting=False, ini=False, metavar="PATH"),
    Option(
        "junit",
        "junit",
        "write JUnit XML to PATH",
        setting=False,
        ini=False,
        metavar="PATH",
        surfaces=frozenset({"cli"}),
        only_because="pytest writes JUnit XML itself (--junitxml), with goblin's verdicts as properties",
    ),
    Option("fix", "fix", "write each patch that won into its config file (comments and layout kept)", kind="bool", default=False, setting=False, ini=False),
    Option("diff", "diff", "print the findings and diff of warned items too, not only of failures", kind="bool", default=False, setting=False, ini=False),
    Option(
        "shard",
        "shard",
        "run only shard K of N (1-based, stable by node id); merge the JSON reports with `goblin merge`",
        setting=False,
        ini=False,
        metavar="K/N",
    ),
    Option(
        "cache_clear",
        "cache-clear",
        "forget measured runs cached from earlier sessions",
        kind="bool",
        default=False,
        setting=False,
        ini=False,
        surfaces=frozenset({"pytest"}),
        only_because="measured runs are cached in pytest's cache; `goblin audit` keeps no cache",
    ),
    Option(
        "events",
        "events",
        "stream every audit event as JSON Lines",
        kind="bool",
        default=False,
        setting=False,
        ini=False,
        surfaces=frozenset({"cli"}),
        only_because="pytest's own reports carry the events (the trajectory is shown with -v)",
    ),
)
BY_NAME = {o.name: o for o in OPTIONS}


def convert(option: Option, raw: Any, where: str) -> Any:
    """`raw` (a string from an ini file or a flag, or an already typed value) as the option's type."""
    if raw is None:
        return None
    if isinstance(raw, tuple | list):
        return tuple(str(p) for p in raw)
    if isinstance(raw, bool | int | float) and option.kind != "str":
        return raw
    text = str(raw).strip()
    try:
        if option.kind == "float":
            value = float(text)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError
            return value
        if option.kind == "int":
            return int(text)
        if option.kind == "bool":
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off", ""):
                return False
            raise ValueError
        if option.kind == "paths":
            return tuple(p for p in text.split() if p)
        if option.kind == "choice" and text not in option.choices:
            raise ValueError
    except ValueError:
        expected = {
            "float": "a number such as 1.10",
            "int": "a whole number such as 20",
            "bool": "true or false",
            "choice": "one of " + ", ".join(option.choices),
        }.get(option.kind, "a value")
        raise GoblinError(f"{where} = {raw!r}: expected {expected}") from None
    return text or None


def build_settings(values: Mapping[str, Any]) -> Any:
    """Settings from option values by name (missing ones take their defaults); the backend falls
    back to GOBLIN_AGENT_BACKEND and the target's `auto` to the local GPU."""
    from .hardware import resolve_target
    from .settings import Settings, backend_from_env

    fields: dict[str, Any] = {}
    for option in OPTIONS:
        if option.setting and values.get(option.name) is not None:
            fields[option.name] = values[option.name]
    fields["backend"] = backend_from_env(fields.get("backend"))
    fields["target"] = resolve_target(fields.get("target") or "auto")
    return Settings(**fields)


def _flag_kwargs(option: Option) -> dict[str, Any]:
    """argparse keywords of an option's flag (pytest's parser is argparse too); default None, so
    that "not given" is visible and the ini file or the default can fill it."""
    kwargs: dict[str, Any] = {"dest": option.dest, "default": None, "help": option.help.replace("%", "%%")}
    if option.kind == "bool":
        kwargs["action"] = "store_true"
    elif option.kind == "paths":
        kwargs.update(action="append", metavar=option.metavar)
    else:
        kwargs["metavar"] = option.metavar or option.name.upper()
        if option.kind == "choice":
            kwargs["choices"] = option.choices
    return kwargs


def add_one_to_argparse(parser: argparse.ArgumentParser, name: str) -> None:
    """One option's `--<flag>` on another subcommand (e.g. `goblin parse --world-size`), declared once here."""
    option = BY_NAME[name]
    parser.add_argument(f"--{option.flag}", **_flag_kwargs(option))


def add_to_argparse(parser: argparse.ArgumentParser) -> None:
    """Every option of the `cli` surface as `--<flag>`, default None (so "not given" is visible)."""
    for option in OPTIONS:
        if "cli" not in option.surfaces:
            continue
        parser.add_argument(f"--{option.flag}", **_flag_kwargs(option))


def from_argparse(args: argparse.Namespace) -> dict[str, Any]:
    """Option values by name from a parsed `goblin audit` command line, converted and defaulted."""
    out: dict[str, Any] = {}
    for option in OPTIONS:
        if "cli" not in option.surfaces:
            continue
        raw = getattr(args, option.dest, None)
        out[option.name] = option.default if raw is None else convert(option, raw, f"--{option.flag}")
    return out


def add_to_pytest(group: Any, parser: Any) -> None:
    """Every option of the `pytest` surface as `--goblin-<flag>`, and its `goblin_<name>` ini key."""
    for option in OPTIONS:
        if "pytest" not in option.surfaces:
            continue
        group.addoption(f"--goblin-{option.flag}", **_flag_kwargs(option))
        if option.ini:
            parser.addini(option.ini_name, option.help, type="paths" if option.kind == "paths" else None, default=None)


def from_pytest(getoption: Callable[[str], Any], getini: Callable[[str], Any], inifile: str) -> dict[str, Any]:
    """Option values by name: the command line, else the ini file, else the default."""
    out: dict[str, Any] = {}
    for option in OPTIONS:
        if "pytest" not in option.surfaces:
            continue
        raw = getoption(option.dest)
        where = f"--goblin-{option.flag}"
        if raw in (None, False) and option.ini:
            ini = getini(option.ini_name)
            if ini not in (None, "", []):
                raw, where = ini, f"{option.ini_name} in {inifile}"
        out[option.name] = option.default if raw is None else convert(option, raw, where)
    return out


def markdown_table() -> str:
    """The README's options table, generated so that it cannot drift from OPTIONS."""

    def shown(option: Option) -> str:
        value = option.default
        if value in (None, (), False):
            return ""
        if isinstance(value, float):
            return f"`{value:.2f}`" if value < 10 else f"`{value:g}`"
        return f"`{value}`"

    rows = ["| pytest | ini | `goblin audit` | default | meaning |", "|---|---|---|---|---|"]
    for o in OPTIONS:
        value = "" if o.kind == "bool" else f" {o.metavar or '|'.join(o.choices) or o.name.upper()}"
        pytest_flag = f"`--goblin-{o.flag}{value}`" if "pytest" in o.surfaces else ""
        ini = f"`{o.ini_name}`" if o.ini and "pytest" in o.surfaces else ""
        cli = f"`--{o.flag}{value}`" if "cli" in o.surfaces else ""
        meaning = o.help + (f" ({o.only_because})" if o.only_because else "")
        cells = (pytest_flag, ini, cli, shown(o), meaning)
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)
