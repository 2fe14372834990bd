"""Blockers: what stops a run from starting (or makes it crash) on the target GPU.

A slow run wastes some of the job; a run that does not start wastes all of it, so these come
first and fail the item whatever the speedup. They are data (kb/blockers.yaml): each entry reads
the config's own keys and launcher lines (the normalized workload keeps only what the cost model
needs, so `tf32` or a Hub kernel's name is not in it), names the framework source at a version
that shows the failure, and, where one edit removes it, the value to write. That edit passes
`frameworks.check_writes` like every edit goblin offers.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .errors import KBError
from .formats import LoadedConfig
from .formats.launch_line import script_flags
from .formats.launchers import topology_launcher_line
from .formats.pyargs import word_value
from .formats.semantics import strategy_unread
from .formats.textedit import RENAME
from .frameworks import check_writes
from .frameworks.pins import exact_pins
from .frameworks.rocm_ship import Shipped, shipped
from .hardware import kb_dir, load_yaml_list
from .rules import DERIVED_FACTS, facts, holds
from .safepath import text_or_empty
from .schemas import WORKLOAD_FIELDS, Blocker, Finding, Hardware
from .yamlio import YamlMap, get_path

if TYPE_CHECKING:
    from .frameworks.history import KeyCheck, Rejected
    from .frameworks.pins import Pin

BLOCKERS_FILE = "blockers.yaml"
# Distributions whose exact pin (`==`, or `~=` with a patch level) a blocker may read as `pin.<dist>`; transformers is
# the release the recipe's framework pin says runs (frameworks/pins.pins: an exact pin or a vendored copy with its
# version; not a range, a commit or the default branch).
PINNED = frozenset({"bitsandbytes", "torch", "transformers"})
_LAUNCHERS = ("torchrun", "accelerate", "tune ", "deepspeed", "llamafactory-cli", "axolotl", "python", "srun", "mpirun", "NPROC", "NUM_GPUS", "export ")


def blockers_path() -> Path:
    return kb_dir() / BLOCKERS_FILE


def check_blocker(b: Blocker) -> list[str]:
    """Names and patterns a blocker uses that goblin cannot read."""
    problems = []
    for p in b.when:
        scope, _, name = p.fact.partition(".")
        if p.fact == "value":
            if not b.keys:
                problems.append("predicate on `value` needs `keys`")
        elif scope == "key":
            if not name:
                problems.append("predicate `key.` needs a config key (`key.fp8`)")
        elif scope == "pin":
            if name not in PINNED:
                problems.append(f"predicate names a pin goblin does not read {p.fact!r} (known: {', '.join(sorted(PINNED))})")
        elif scope == "derived" and name not in DERIVED_FACTS:
            problems.append(f"predicate names unknown derived fact {p.fact!r}")
        elif scope not in {"hw", "derived", "env", "pin", "key"} and p.fact not in WORKLOAD_FIELDS:
            problems.append(f"predicate names unknown fact {p.fact!r}")
        if p.op == "matches":
            problems += _regex_problem(str(p.value), p.fact)
    if b.launch is not None:
        problems += _regex_problem(b.launch, "launch")
    if b.launch_fallback and (b.launch is None or b.severity != "requirement"):
        problems.append("`launch_fallback` reads a branch some hosts take: it needs `launch` and severity requirement")
    if b.check is not None and (b.keys or b.launch is not None or b.fix is not None):
        problems.append("a `check` blocker finds its own keys and fixes: no `keys`, `launch` or `fix`")
    if b.check is None and not b.keys and b.launch is None and not any(p.fact.startswith("pin.") for p in b.when):
        problems.append("a blocker needs `keys`, `launch` or a `pin.*` predicate: what in the config or its repository shows it")
    problems += [f"anchor names unknown workload field {a!r}" for a in b.anchor if a not in WORKLOAD_FIELDS]
    if b.fix is not None and not b.keys:
        problems.append("a `fix` is written to the key found, so it needs `keys`")
    return problems


def _regex_problem(pattern: str, where: str) -> list[str]:
    try:
        re.compile(pattern)
    except re.error as exc:
        return [f"{where}: not a regular expression ({exc})"]
    return []


def check_blockers(path: Path | None = None) -> tuple[list[Blocker], list[str]]:
    """Every valid blocker, and one message per problem (for `goblin kb lint`)."""
    path = path or blockers_path()
    try:
        entries = load_yaml_list(path)
    except KBError as exc:
        return [], [str(exc)]
    out: list[Blocker] = []
    problems: list[str] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        ident = entry.get("id", f"#{i}") if isinstance(entry, dict) else f"#{i}"
        try:
            b = Blocker.model_validate(entry)
        except ValidationError as exc:
            problems.append(f"{path}: blocker {ident}: " + "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()))
            continue
        names = check_blocker(b)
        if b.id in seen:
            names.append("duplicate id")
        if names:
            problems.append(f"{path}: blocker {b.id}: " + "; ".join(names))
            continue
        seen.add(b.id)
        out.append(b)
    return out, problems


@lru_cache(maxsize=1)
def cached_blockers() -> tuple[Blocker, ...]:
    found, problems = check_blockers()
    if problems:
        raise KBError(problems[0])
    return tuple(found)


def raw_key(loaded: LoadedConfig, dotted: str) -> tuple[bool, Any, int | None]:
    """(found, value, line) of a config key: a YAML key path (in the block a wrapper file holds the config in), or a
    Python script's keyword."""
    data = loaded.adapter.framework_data(loaded.data)
    if isinstance(data, (dict, YamlMap)):
        return get_path(data, dotted)
    values = getattr(data, "values", None)
    where = getattr(data, "where", None)
    if isinstance(values, dict) and dotted in values:
        loc = where.get(dotted) if isinstance(where, dict) else None
        return True, values[dotted], getattr(loc, "line", None)
    head, _, rest = dotted.partition(".")
    if rest and isinstance(values, dict) and isinstance(values.get(head), dict):  # model_init_kwargs={"dtype": ...}
        ok, value, _line = get_path(values[head], rest)
        loc = where.get(head) if isinstance(where, dict) else None
        return ok, value, getattr(loc, "line", None)
    return False, None, None


def run_key(loaded: LoadedConfig, dotted: str) -> tuple[bool, Any, int | None]:
    """raw_key with the value the run holds: a TRL/HF YAML's key its launch line passes beside `--config THIS_FILE`
    (`--num_generations 5` over the file's `num_generations: 8`, review15b #25) is the launch line's, since
    TrlParser.parse_args_and_config sets the file's values as defaults and parses the command line over them (trl
    0.18.0 trl/scripts/utils.py:186-208; 1.9.0 :338,343). Such a value has no line in the config (None): `_set_where`
    names the launch line's word."""
    if loaded.adapter.name == "hf-trainer":
        passed = launch_config_flags(loaded)
        if dotted in passed:
            return True, passed[dotted][0], None
    return raw_key(loaded, dotted)


def key_file(loaded: LoadedConfig, dotted: str, line: int | None) -> str | None:
    """The file a key's `line` (raw_key's) is in, as formats.base.shown_file names it, where that is not the config: a
    Python script's value its launch line passes (README.md line 153 for stanford_alpaca's `--tf32 True`, issue 24)."""
    from .formats.base import shown_file

    where = getattr(loaded.data, "where", None)
    if not line or not isinstance(where, dict):
        return None
    loc = where.get(dotted) or where.get(dotted.partition(".")[0])
    other = getattr(loc, "file", None)
    return shown_file(str(other), str(loaded.path)) if other and getattr(loc, "line", None) == line else None


def placed_key(loaded: LoadedConfig, dotted: str) -> tuple[bool, Any, int | str | None]:
    """raw_key with the line said as a place where it is another file's ("README.md line 153"), as rollout.Lookup takes
    it: a message then names that file, never a bare line number of a file it is not in."""
    ok, value, line = raw_key(loaded, dotted)
    other = key_file(loaded, dotted, line)
    return ok, value, f"{other} line {line}" if other else line


def run_placed(loaded: LoadedConfig, dotted: str) -> tuple[bool, Any, int | str | None]:
    """placed_key with a launch line's `--key value` beside `--config THIS_FILE` over the file's (launch_config_flags):
    the launch word's place as the line. The one lookup the rollout, offload and training-step readers share."""
    passed = launch_config_flags(loaded)
    return (True, *passed[dotted]) if dotted in passed else placed_key(loaded, dotted)


def _key_value(loaded: LoadedConfig, dotted: str) -> Any:
    found_, value, _line = run_key(loaded, dotted)
    return value if found_ else None


def launch_lines(text: str) -> list[tuple[int, str]]:
    """The comment and launcher lines of a config: where a recipe says how it is launched."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("#") or s.startswith(_LAUNCHERS) or ("#" in line and "$(" in line):
            out.append((n, line))
    return out


def _in_launcher(value: str) -> str:
    """`file:line: text` (from launchers.topology_launcher_line) as a message shows it: the place, then the line in a code span."""
    where, _, text = value.partition(": ")
    return f"the launcher {where}: `{text.replace('`', chr(39))}`"


def _blocker_pins(loaded: LoadedConfig) -> dict[str, Pin]:
    """The pins `pin.<dist>` reads (PINNED)."""
    from .frameworks.pins import pins

    pinned = exact_pins(str(loaded.path), loaded.text, loaded.adapter.name)
    torch = pinned.get("torch")
    if torch is not None and not (torch.exact and torch.kind == "pin"):
        # `pin.torch` is one release the repository itself pins (`torch==2.3.1`), never a range's lower bound nor the
        # torch another pinned package implies (IMPLIED_TORCH)
        pinned = {d: p for d, p in pinned.items() if d != "torch"}
    tf = pins(str(loaded.path), loaded.text).get("transformers")
    if tf is not None and tf.version and tf.exact and tf.kind in ("pin", "vendored"):
        pinned = {**pinned, "transformers": tf}
    return pinned


def _pin_facts(loaded: LoadedConfig) -> dict[str, Any]:
    pinned = _blocker_pins(loaded)
    return {f"pin.{d}": (pinned[d].version if d in pinned else None) for d in PINNED}


def _where_pinned(loaded: LoadedConfig, b: Blocker) -> str:
    pinned = _blocker_pins(loaded)
    used = dict.fromkeys(p.fact.partition(".")[2] for p in b.when if p.fact.startswith("pin."))
    return "; ".join(f"the recipe pins {pinned[d].spec} ({pinned[d].where})" for d in used if d in pinned)


def found(loaded: LoadedConfig, hw: Hardware, blockers: tuple[Blocker, ...] | list[Blocker] | None = None) -> list[tuple[Blocker, str | None, Any, int | None]]:
    """(blocker, key, value, line) for each blocker the config shows on this target."""
    blockers = cached_blockers() if blockers is None else blockers
    w = loaded.workload
    base = facts(w, hw, host={})
    lines = launch_lines(loaded.text)
    # a workload field the repository's own code sets (FieldSource.unread: hf_trainer._model_built_in_code's method
    # and weight dtype) is goblin's assumption, not the run's value: a blocker reading it is not judged, as a rule is not
    unread = {name for name, src in w.sources.items() if src.unread}
    if strategy_unread(w) is not None:  # DDP guessed: the launch names an accelerate config goblin could not read
        unread.add("strategy")
    out: list[tuple[Blocker, str | None, Any, int | None]] = []
    for b in blockers:
        if b.id in w.ignored_rules or (b.formats and loaded.adapter.name not in b.formats) or b.check is not None:
            continue
        if any(p.fact in unread for p in b.when):
            continue
        key: str | None = None
        value: Any = None
        line: int | None = None
        if b.keys:
            for k in b.keys:
                ok, v, ln = run_key(loaded, k)
                if ok and v is not None:
                    key, value, line = k, v, ln
                    break
            if key is None:
                continue
        if b.launch is not None and b.launch_fallback:
            # a fallback branch of the repository launcher (review13a #14 sm_accelerate_train.sh:98-103), where no
            # unconditional line of it (the blocker's case) matches
            if topology_launcher_line(w, b.launch, certain=True) is not None or next((1 for _, text in lines if re.search(b.launch, text)), None):
                continue
            branch = topology_launcher_line(w, b.launch, fallback=True)
            if branch is None:
                continue
            value = value if key else branch
        elif b.launch is not None:
            hit = next(((n, text) for n, text in lines if re.search(b.launch, text)), None)
            if hit is None:
                # the launcher in the repository that runs this config (review2: s1's sft.sh counts GPUs with nvidia-smi)
                elsewhere = topology_launcher_line(loaded.workload, b.launch, certain=True)  # not a branch's fallback
                if elsewhere is None:
                    continue
                value = value if key else elsewhere
            else:
                line = line or hit[0]
                value = value if key else hit[1].strip()
        # `key.<dotted>`: another key of the config as written (None when absent), e.g. fp8_backend beside fp8
        f = {**base, "value": value, **{p.fact: _key_value(loaded, p.fact[4:]) for p in b.when if p.fact.startswith("key.")}}
        later = [p for p in b.when if p.fact.startswith("pin.")]  # the repository's pin files: read only when the rest holds
        if all(holds(p, f) for p in b.when if p not in later) and (not later or all(holds(p, {**f, **_pin_facts(loaded)}) for p in later)):
            anchored = next(((a, s) for a in b.anchor if (s := w.sources.get(a)) is not None and s.explicit and s.line and s.file == w.path), None)
            if anchored is not None and line is None:
                a, src = anchored
                line = src.line
                if value is None and not key and src.key:  # show the config's own setting there, never `None`
                    own, written, _at = raw_key(loaded, src.key)  # as written (`load_in_4bit: true`), not the field's `4bit`
                    value = f"{src.key}: {_shown(written if own and written is not None else getattr(w, a))}"
            out.append((b, key, value, line))
    return out


def shipped_build(loaded: LoadedConfig, package: str) -> Shipped | None:
    """Where the config's repository installs the ROCm build of `package` (frameworks/rocm_ship.py), or None."""
    return shipped(exact_pins(str(loaded.path), loaded.text)).get(package)


def shipped_notes(loaded: LoadedConfig, hw: Hardware, rule_ids: Mapping[str, str], edits: Mapping[str, str] | None = None) -> list[str]:
    """A note for each "needs a ROCm build" entry whose premise holds but whose build the repository installs: the
    blockers found here, and the rules `rule_ids` names (rule id -> its package); and for each rule `edits` names
    whose edit needs a ROCm build (rule id -> its package), that the repository installs it."""
    builds = shipped(exact_pins(str(loaded.path), loaded.text))
    if not builds:
        return []  # most repositories install no ROCm build: the blockers (and their facts) are not judged a second time
    needs = [b for b in cached_blockers() if b.rocm_build is not None]
    asked = {b.id: b.rocm_build for b, *_rest in found(loaded, hw, needs)}
    out = [f"{rid} not raised: {builds[package].phrase()}" for rid, package in {**asked, **rule_ids}.items() if package in builds]
    return out + [
        f"{rid}: the edit needs a ROCm build of {package}, and {builds[package].phrase()}" for rid, package in (edits or {}).items() if package in builds
    ]


def findings(loaded: LoadedConfig, hw: Hardware, blockers: tuple[Blocker, ...] | list[Blocker] | None = None) -> list[Finding]:
    """The blockers (and build requirements) of a config on the target, as findings; a blocker's
    one-edit fix is offered only when the framework's own validation accepts it."""
    out = []
    for b, key, value, line in found(loaded, hw, blockers):
        if b.rocm_build is not None and shipped_build(loaded, b.rocm_build) is not None:
            continue  # the repository installs that ROCm build: said in the report's notes (shipped_notes)
        other = key_file(loaded, key, line) if key else None  # a launch line's value: its line is that file's
        # a YAML key its launch line passes over the file (run_key): that line's word, said where it is
        over = _set_where(loaded, key, line)[0] if key and not line and loaded.adapter.name == "hf-trainer" else ""
        # a launch line's word as it is written there (`--tf32 True`), a script's keyword as Python, a YAML key as YAML
        said = f"--{key} {value}" if other or over else f"{key}={value!r}" if loaded.adapter.name == "python" else f"{key}: {_shown(value)}"
        said = said.replace("`", "'")[:160]  # the config's own text, inside a code span
        shown = (
            f"`{said}`{over}"
            if key and over
            else f"`{said}` ({other + ' ' if other else ''}line {line})"
            if key and line
            else f"`{said}`"
            if key
            else f"line {line}: `{str(value)[:120].replace('`', chr(39))}`"
            if line
            else _in_launcher(str(value))
            if value
            else ""
        )
        fix: dict[str, Any] | None = None
        why_not = ""
        if b.fix is not None and key is not None and over:
            why_not = f" (the launch line sets `{key}` over this file: change it there)"
        elif b.fix is not None and key is not None:
            data = loaded.adapter.framework_data(loaded.data)
            declared = getattr(data, "config_class", None)
            keys_of = data if isinstance(data, dict) else getattr(data, "values", data)
            bad = check_writes(loaded.adapter.name, str(loaded.path), loaded.text, keys_of, {key: b.fix}, declared)
            if bad:
                why_not = f" (goblin does not write `{key}: {_shown(b.fix)}` here: {bad[key]})"
            elif not _reads_back(loaded, key, b.fix):
                why_not = f" (goblin could not write `{key}: {_shown(b.fix)}` in this file so that it reads back; edit it by hand)"
            else:
                fix = {key: b.fix}
        pinned = _where_pinned(loaded, b)
        head = "; ".join(x for x in (shown, pinned) if x)
        what = "will not start" if b.severity == "blocker" else "needs"
        message = f"{head + ': ' if head else ''}{b.symptom}. What to change: {b.guidance}{why_not}. Source: {'; '.join(b.sources)}"
        blocker = b.severity == "blocker"
        out.append(_finding(b, f"{b.title} ({what} on {hw.name})" if blocker else b.title, blocker, message, line, key, fix, other))
    checked: dict[str, Any] = {}  # a check's answer, shared by its blocker and requirement entries
    for b in cached_blockers() if blockers is None else blockers:
        if b.id in loaded.workload.ignored_rules or (b.formats and loaded.adapter.name not in b.formats):
            continue
        if b.check == "keys_at_version":
            out += _keys_at_version(loaded, hw, b, checked)
        elif (of_config := _CHECKS_OF_CONFIG.get(b.check or "")) is not None:
            out += of_config(loaded, b)
        elif (of_target := _CHECKS_OF_TARGET.get(b.check or "")) is not None:
            out += of_target(loaded, hw, b)
    return out


def _script_class(loaded: LoadedConfig) -> str | None:
    """The config class a recipe is read into: the script's own call (`config_class`), else, for a YAML/JSON recipe, the
    TRL config class the script its launch line runs parses it into, or the one its repository class subclasses
    (launched.Launched.trl_args: MiuLab/FactAlign run_kto.py:68 H4ArgumentParser((ModelArguments, DataArguments,
    FGKTOConfig)), FGKTOConfig(KTOConfig) at kto_trainer_fg.py:354; review12b C3 row 37). The script's code is the run's,
    not the file's comments (`# DPOTrainer arguments`) or path words."""
    declared = getattr(loaded.data, "config_class", None)
    if isinstance(declared, str) or loaded.adapter.name != "hf-trainer" or not str(loaded.path).endswith((".yaml", ".yml", ".json")):
        return declared if isinstance(declared, str) else None
    from .formats.launched import launched_script

    launched = launched_script(str(loaded.path))
    return launched.trl_args or None if launched is not None else None


def _own_trainer(loaded: LoadedConfig) -> str | None:
    """`FGKTOTrainer (kto_trainer_fg.py:367)` where the script a YAML/JSON recipe's launch line runs builds a trainer class
    of its repository that subclasses none of TRL's preference trainers: TRL's DPOTrainer/KTOTrainer code (its loss
    list, its __init__ checks) does not run, the repository's does (review12b C3 row 37: FGKTOTrainer computes
    `fg_kto`, kto_trainer_fg.py:1576). None otherwise."""
    if loaded.adapter.name != "hf-trainer" or not str(loaded.path).endswith((".yaml", ".yml", ".json")):
        return None
    from .formats.launched import launched_script

    launched = launched_script(str(loaded.path))
    if launched is None or not launched.own_trainer or launched.own_trainer_trl or not launched.trainer:
        return None
    return f"{launched.trainer} ({launched.own_trainer})"


def _trl_class(loaded: LoadedConfig) -> str | None:
    """The one TRL config class a recipe or script builds (`GRPOConfig`), None where it is not known to be one."""
    from .frameworks import parser_for

    data = loaded.data
    declared = _script_class(loaded)
    keys_of = data if isinstance(data, dict) else getattr(data, "values", None)
    if not isinstance(keys_of, dict) or loaded.adapter.name not in ("hf-trainer", "python"):
        return None
    parser, classes = parser_for(loaded.adapter.name, keys_of, declared, str(loaded.path), loaded.text)
    if parser != "trl":
        return None
    if isinstance(declared, str) and declared in classes:
        return declared
    return classes[0] if len(classes) == 1 else None


def _trl_run(loaded: LoadedConfig) -> tuple[tuple[int, ...], str, bool] | None:
    """(release, how it was found, assumed) of the TRL the recipe runs on; None for a commit goblin cannot place."""
    from .frameworks.history import reading, run_version
    from .frameworks.pins import pins
    from .frameworks.trl_limits import parse_version

    pin = pins(str(loaded.path), loaded.text).get("trl")
    if pin is not None and pin.kind == "commit" and not pin.version:
        return None
    run = run_version("trl", pin)
    framework = loaded.workload.framework or ""
    if run is not None and run.assumed and (pin is None or not pin.version) and framework.startswith("trl "):
        # an unpinned recipe whose keys (the file's and its launch line's) exist only in a range of releases is read at
        # the newest of them (history.reading): its findings speak of that release too, not of the newest goblin read
        # (review15b #26: the header said trl 0.17.0, the GRPO batch finding trl 1.16.0)
        got = reading(framework, str(loaded.path), loaded.text)
        if got is not None and got.assumed and got.version != run.version and parse_version(got.version) is not None:
            run = dataclasses.replace(run, version=got.version, how=f"assumed trl {got.version}: {got.source}")
    version = parse_version(run.version) if run is not None else None
    if run is None or version is None:
        return None
    return version, f"trl {run.version} ({run.how})", run.assumed


def _trl_run_for(loaded: LoadedConfig, b: Blocker) -> tuple[tuple[int, ...], str, bool] | None:
    """`_trl_run` where the release suits `b`'s severity: a pinned release for a blocker, an assumed (newest) one for a
    requirement; None otherwise."""
    run = _trl_run(loaded)
    return run if run is not None and run[2] == (b.severity == "requirement") else None


GRPO_KEYS = ("num_generations", "generation_batch_size", "steps_per_generation")


def _computed_in_code(loaded: LoadedConfig, keys: tuple[str, ...]) -> bool:
    """Whether a Python script passes one of `keys` to its config class as a value goblin could not read (computed at
    run time), or splats a mapping goblin does not read into the call (`**kwargs`), so the value the run uses is not
    known. A `**` of a loaded settings file goblin reads (`**cfg["training"]`, formats/dictcfg.py) passes its keys,
    each judged like a written keyword."""
    from .formats.pyscript import Script

    script = loaded.data
    if not isinstance(script, Script) or script.args_call is None:
        return False
    if script.args_call.lineno in script.spread_unread:
        return True
    passed = {kw.arg for kw in script.args_call.keywords} | set(script.args_spread)
    return any(k in passed and k not in script.values for k in keys)


def _set_where(loaded: LoadedConfig, key: str, line: int | None) -> tuple[str, int | None]:
    """(" (line N)" or " (passed by <launcher> line N)", the line in the config itself or None) for a key's value: a
    script's value its launcher passes is in another file, so the finding names that file and points at no script line;
    so does a YAML key its launch line passes over the file (run_key), with the file's own line that gives way."""
    if loaded.adapter.name == "hf-trainer" and key in (passed := launch_config_flags(loaded)):
        ok, own, own_line = raw_key(loaded, key)
        over = f"; the file's own `{key}: {_shown(own)}` (line {own_line}) gives way" if ok and own is not None and own_line else ""
        return f" ({passed[key][1]}{over})", None
    loc = getattr(loaded.data, "where", {}).get(key) if loaded.adapter.name == "python" else None
    other, at = getattr(loc, "file", None), getattr(loc, "line", None)
    settings = getattr(loc, "settings", None)
    if other and at and settings:  # a settings file the script loads (formats/dictcfg.py)
        return f" (set in {settings} line {at})", None
    if other and at:
        launch = getattr(loaded.data, "launch", None)
        place = launch.where(at) if launch is not None and getattr(launch, "file", None) == other else f"{Path(other).name} line {at}"
        return f" (passed by {place})", None
    return (f" (line {line})" if line else ""), line


def _repository_declares(loaded: LoadedConfig, field: str) -> bool:
    """Whether the repository's own argument dataclasses declare `field`: then its own trainer may read it (review4 #16,
    uclaml/SPPO: SPPOConfig.loss_type, sppo/alignment/configs.py:256, computed by SPPOTrainer, not TRL's DPOTrainer)."""
    from .frameworks.history import repository_fields

    return field in repository_fields(str(loaded.path))


def _int_key(loaded: LoadedConfig, key: str) -> tuple[bool, int | None, int | None]:
    """(readable, value, line) of an integer key: (True, None, None) where it is not set, (False, ...) where its value is
    not a plain integer goblin can use; the launch line's value over the file's (run_key)."""
    ok, value, line = run_key(loaded, key)
    if not ok or value is None:
        return True, None, None
    if isinstance(value, bool) or not isinstance(value, int):
        return False, None, line
    return True, value, line


def _old_rloo_keys(loaded: LoadedConfig, cls: str) -> bool:
    """An RLOOConfig that sets rloo_k or num_mini_batches: trl 0.22.0-0.24.x map them onto num_generations and
    steps_per_generation (trl 0.22.0 rloo_config.py:588-623, removed in 0.25.0), later ones reject them; the batch
    checks do not judge it."""
    return cls == "RLOOConfig" and any((r := raw_key(loaded, k))[0] and r[1] is not None for k in ("rloo_k", "num_mini_batches"))


def _grpo_generation_batch(loaded: LoadedConfig, b: Blocker) -> list[Finding]:
    """review4 #32 (dstack grpo_train.py: per_device_train_batch_size 2, num_generations 8 by default): the batch TRL
    generates for must hold whole groups of num_generations completions, else GRPOConfig.__post_init__ (trl 0.18.0 on)
    or GRPOTrainer.__init__ (0.15-0.17) raises ValueError. The batch depends on the world size: a blocker where the
    world size was read (or stated) and the release is known (or every release from 0.15.0 raises), a requirement
    where the world size is assumed (the finding says which GPU counts would start)."""
    from .formats.semantics import world_size_note
    from .frameworks.trl_limits import generation_rule, generation_rules, grpo_batch, grpo_fits

    cls = _trl_class(loaded)
    known = generation_rules(cls) if cls is not None else None
    if cls is None or known is None or _unsloth_grpo(loaded) or _old_rloo_keys(loaded, cls):
        return []
    rules, ng_default, default_at = known
    run = _trl_run(loaded)
    if run is None:
        return []
    version, how, assumed = run
    rule = generation_rule(cls, version)
    readable = [_int_key(loaded, k) for k in GRPO_KEYS]
    if rule is None or not all(r[0] for r in readable):
        return []
    if _computed_in_code(loaded, ("per_device_train_batch_size", "gradient_accumulation_steps", *GRPO_KEYS)):
        return []  # a value the script computes at run time: goblin would judge the trainer's default in its place
    (_o, ng_set, ng_line), (_o2, gen_batch, _l2), (_o3, steps, _l3) = readable
    # a group key the launch line passes with a value set at run time (`--num_generations $NG`): run_key falls back to
    # the file's value, which is not the run's, so the batch is not known
    if loaded.adapter.name == "hf-trainer" and any(k in _launch_flag_words(loaded) and k not in launch_config_flags(loaded) for k in GRPO_KEYS):
        return []
    ng = ng_default if ng_set is None else ng_set
    w = loaded.workload
    per_device, world, accum = w.micro_batch_size, w.world_size, w.gradient_accumulation
    if ng < 2 or per_device < 1 or accum < 1:
        return []
    batch = grpo_batch(rule, per_device, world, accum, gen_batch, steps)
    if batch is None or batch.size % ng == 0 or _repository_declares(loaded, "num_generations"):
        return []
    src = w.sources.get("world_size")
    # the micro-batch and accumulation as read: the config's own value or the release's plain default (a value goblin
    # had to assume, e.g. from an unset launcher variable, leaves the batch undecided like an assumed world size)
    batch_read = all((s := w.sources.get(f)) is None or s.explicit or "default" in (s.note or "") for f in ("micro_batch_size", "gradient_accumulation"))
    world_read = src is not None and src.explicit and batch_read
    every = all((o := grpo_batch(r, per_device, world, accum, gen_batch, steps)) is not None and o.size % ng != 0 for r in rules)
    blocker = world_read and (not assumed or every)
    if blocker != (b.severity == "blocker"):
        return []
    ng_place, ng_line = _set_where(loaded, "num_generations", ng_line) if ng_set is not None else ("", None)
    ng_said = f"num_generations {ng}" + (ng_place if ng_set is not None else f" (not set: TRL's default, {default_at})")
    mb_src = w.sources.get("micro_batch_size")
    mb_where = (
        mb_src.note
        if mb_src is not None and mb_src.note
        else f"line {mb_src.line}"
        if mb_src is not None and mb_src.explicit and mb_src.line and mb_src.file == w.path
        else "not set: TrainingArguments' default"
    )
    mb_said = f"per_device_train_batch_size {per_device} ({mb_where})"
    fits = grpo_fits(per_device, world, accum, ng) if gen_batch is None and steps is None else None
    worlds = [n for n in (1, 2, 4, 8, 16) if (per_device * n * (steps or accum)) % ng == 0] if gen_batch is None else []
    divisors = [d for d in range(2, batch.size + 1) if batch.size % d == 0]
    other_ng = f", or num_generations {' / '.join(str(d) for d in divisors[-3:])} (divides {batch.size})" if divisors else ""
    change = (
        f"per_device_train_batch_size {fits} (the smallest from {per_device} whose batch holds whole groups here){other_ng}, or more gradient_accumulation_steps"
        if fits is not None
        else f"a generation_batch_size / steps_per_generation whose batch is a multiple of num_generations {ng}{other_ng}"
    )
    if not blocker:
        world_stated = src is not None and src.explicit
        why = (
            "the world size is assumed"
            if not world_stated
            else "the micro-batch or gradient accumulation is assumed"
            if not batch_read
            else f"the release is assumed ({how}) and older releases form the batch otherwise"
        )
        on = f"; on {', '.join(str(n) for n in worlds)} GPUs it would hold whole groups" if worlds and not world_stated else ""
        change = f"state the GPU count (goblin_world_size) or check the batch on the run's GPUs{on}; else {change}"
        head = f"not decided, {why}: "
    else:
        head = ""
    message = (
        f"{head}{mb_said}, {world_size_note(w)}, gradient_accumulation_steps {accum}: {batch.formula} = {batch.size}, which is not "
        f"divisible by {ng_said}. On {how}, {rule.when} raises ValueError when the batch does not hold whole groups of "
        f"num_generations completions ({rule.where}), so the run stops before the first step on any GPU. What to change: {change}. "
        f"Source: {'; '.join(b.sources)}"
    )
    line = ng_line or (mb_src.line if mb_src is not None and mb_src.explicit and mb_src.file == w.path else None)
    return [_finding(b, f"{b.title} ({batch.size} is not a multiple of num_generations {ng})", blocker, message, line)]


def _grpo_eval_batch(loaded: LoadedConfig, b: Blocker) -> list[Finding]:
    """With evaluation on (eval_strategy not "no"), GRPO (trl 0.15.0-0.19.x, 0.22.0 on) and RLOO (0.22.0 on) need the
    eval batch, per_device_eval_batch_size x processes, to hold whole groups of num_generations (num_generations_eval
    where the release reads it), else ValueError before the first step (frameworks/trl_limits.EVAL_RULES). A blocker
    where the world size was read and the release pinned; a requirement where either is assumed."""
    from .formats.semantics import world_size_note
    from .frameworks.trl_limits import PER_DEVICE_EVAL_DEFAULT, PER_DEVICE_EVAL_DEFAULT_AT, eval_rule, generation_rules

    cls = _trl_class(loaded)
    known = generation_rules(cls) if cls is not None else None
    if cls is None or known is None or _unsloth_grpo(loaded) or _old_rloo_keys(loaded, cls):
        return []
    run = _trl_run(loaded)
    if run is None:
        return []
    version, how, assumed = run
    rule = eval_rule(cls, version)
    if rule is None:
        return []
    keys = ("eval_strategy", "evaluation_strategy", "per_device_eval_batch_size", "num_generations", "num_generations_eval")
    if _computed_in_code(loaded, keys):
        return []
    if any(_repository_declares(loaded, k) for k in ("num_generations", "num_generations_eval")):
        return []
    strategy: tuple[str, Any, int | None] | None = None
    for k in ("eval_strategy", "evaluation_strategy"):
        found, v, at = run_key(loaded, k)
        if found and v is not None:
            strategy = (k, v, at)
            break
    if strategy is None or not isinstance(strategy[1], str) or strategy[1].lower() == "no":
        return []  # eval_strategy not set: TrainingArguments' default "no", no evaluation
    (ok_e, per_eval, eval_line), (ok_n, ng_set, ng_line) = _int_key(loaded, "per_device_eval_batch_size"), _int_key(loaded, "num_generations")
    ok_ne, ng_eval, ng_eval_line = _int_key(loaded, "num_generations_eval") if rule.eval_generations else (True, None, None)
    if not (ok_e and ok_n and ok_ne):
        return []
    _rules, ng_default, default_at = known
    ng = ng_set if ng_set is not None else ng_default
    used, used_set, used_line, used_key = (
        (ng_eval, True, ng_eval_line, "num_generations_eval") if ng_eval else (ng, ng_set is not None, ng_line, "num_generations")
    )
    per = per_eval if per_eval is not None else PER_DEVICE_EVAL_DEFAULT
    w = loaded.workload
    world = w.world_size
    if used < 2 or per < 1 or (per * world) % used == 0:
        return []  # num_generations below 2 is its own raise (trl_config_raises)
    src = w.sources.get("world_size")
    world_read = src is not None and src.explicit
    blocker = world_read and not assumed
    if blocker != (b.severity == "blocker"):
        return []
    place, used_at = _set_where(loaded, used_key, used_line) if used_set else ("", None)
    used_said = f"{used_key} {used}" + (place if used_set else f" (not set: TRL's default, {default_at})")
    eplace, e_at = _set_where(loaded, "per_device_eval_batch_size", eval_line) if per_eval is not None else ("", None)
    per_said = f"per_device_eval_batch_size {per}" + (
        eplace if per_eval is not None else f" (not set: TrainingArguments' default, {PER_DEVICE_EVAL_DEFAULT_AT})"
    )
    splace, s_at = _set_where(loaded, strategy[0], strategy[2])
    fits = next(n for n in range(per, per * used + 1) if (n * world) % used == 0)
    worlds = [n for n in (1, 2, 4, 8, 16) if (per * n) % used == 0]
    change = f"per_device_eval_batch_size {fits} (the smallest from {per} whose eval batch holds whole groups here), or eval_strategy no"
    if blocker:
        head = ""
    else:
        why = "the world size is assumed" if not world_read else f"the release is assumed ({how})"
        on = f"; on {', '.join(str(n) for n in worlds)} GPUs it would hold whole groups" if worlds and not world_read else ""
        change = f"state the GPU count (goblin_world_size) or check the eval batch on the run's GPUs{on}; else {change}"
        head = f"not decided, {why}: "
    message = (
        f"{head}{strategy[0]} {strategy[1]}{splace} turns evaluation on; {per_said}, {world_size_note(w)}: the eval batch "
        f"{per} x {world} = {per * world} is not divisible by {used_said}. On {how}, {rule.raiser} raises ValueError when "
        f"the eval batch does not hold whole groups ({rule.where}), so the run stops before the first step"
        f"{'' if blocker else ' where that holds'}. What to change: {change}. Source: {'; '.join(b.sources)}"
    )
    line = used_at or e_at or s_at
    return [_finding(b, f"{b.title} ({per * world} is not a multiple of {used_key} {used})", blocker, message, line)]


def _dpo_loss_type(loaded: LoadedConfig, b: Blocker) -> list[Finding]:
    """review4 #25 (MedicalGPT orpo_training.py: `DPOConfig(loss_type="orpo")`, trl>=0.29.0): a loss_type the DPOTrainer
    of the release does not compute raises ValueError("Unknown loss type ...") at the first loss. A blocker where no
    DPOTrainer goblin read computes it, or the release is known and does not; a requirement on an assumed release."""
    from .frameworks.trl_limits import DPO_EVER, dpo_losses

    if _trl_class(loaded) != "DPOConfig" or _own_trainer(loaded):
        return []  # a repository trainer that is not TRL's DPOTrainer computes its own losses
    ok, value, line = run_key(loaded, "loss_type")
    if not ok or not isinstance(value, str):
        return []
    run = _trl_run(loaded)
    if run is None:
        return []
    version, how, assumed = run
    got = dpo_losses(version)
    if got is None or value in got[0]:
        return []
    names, where = got
    if _repository_declares(loaded, "loss_type"):
        return []
    never = value not in DPO_EVER
    blocker = never or not assumed
    if blocker != (b.severity == "blocker"):
        return []
    said = f"`loss_type={value!r}`" if loaded.adapter.name == "python" else f"`loss_type: {value}`"
    place, line = _set_where(loaded, "loss_type", line)
    shown = f"{said}{place}"
    ever = "no DPOTrainer release goblin read (trl 0.7.3 to 1.16.0) computes it" if never else "the release it runs on does not compute it"
    message = (
        f'{shown}: {ever}. On {how}, DPOTrainer computes {", ".join(sorted(names))} ({where}) and raises ValueError("Unknown loss '
        f'type: {value}. ...") for any other at the first loss, so the run stops before its first step on any GPU'
        f"{'' if blocker else ' where that release is installed'}. What to change: {b.guidance}. Source: {'; '.join(b.sources)}"
    )
    return [_finding(b, f"{b.title} (`{value}`)", blocker, message, line)]


def _kto_kl_term(loaded: LoadedConfig, b: Blocker) -> list[Finding]:
    """A KTOConfig whose keys are all valid but which KTOTrainer.__init__ refuses while the KL term is on (every loss_type
    but apo_zero_unpaired): per_device_train_batch_size <= 1 (trl 0.12.0 on), a train_sampling_strategy other than
    "sequential" (trl 1.6.0 on). A blocker on a pinned release that has the check, a requirement on an assumed one."""
    from .frameworks.trl_limits import KTO_NO_KL_AT, KTO_NO_KL_LOSS, kto_checks

    if _trl_class(loaded) != "KTOConfig" or _own_trainer(loaded):
        return []  # KTOTrainer.__init__'s checks run only in TRL's KTOTrainer (or a subclass)
    ok, loss, _loss_line = run_key(loaded, "loss_type")
    if not ok:
        loss = None  # not set: KTOConfig's default, "kto" (trl 1.16.0 kto_config.py:198-199)
    if (loss is not None and not isinstance(loss, str)) or loss == KTO_NO_KL_LOSS:
        return []
    run = _trl_run_for(loaded, b)
    if run is None:
        return []
    version, how, assumed = run
    checks = kto_checks(version)
    if not checks or _computed_in_code(loaded, ("loss_type", *(c.key for c in checks))) or _repository_declares(loaded, "loss_type"):
        return []
    w = loaded.workload
    loss_said = f"loss_type {loss}" if loss is not None else "loss_type kto (not set: KTOConfig's default)"
    out = []
    for check in checks:
        if check.key == "per_device_train_batch_size":
            src = w.sources.get("micro_batch_size")
            if src is None or not src.explicit or src.unread or w.micro_batch_size > 1:
                continue
            value: Any = w.micro_batch_size
            line = src.line if src.file == w.path else None
            place = f" (line {line})" if line else f" ({src.note})" if src.note else ""
            accum = w.gradient_accumulation
            change = (
                f"per_device_train_batch_size 2 with gradient_accumulation_steps {accum // 2} (the same effective batch)"
                if accum >= 2 and accum % 2 == 0
                else "per_device_train_batch_size 2 or more"
            )
        else:
            found, value, at = run_key(loaded, check.key)
            if not found or not isinstance(value, str) or value == "sequential":
                continue
            place, line = _set_where(loaded, check.key, at)
            change = "train_sampling_strategy sequential (KTOConfig's default), or remove the key"
        said = f"`{check.key}={value!r}`" if loaded.adapter.name == "python" else f"`{check.key}: {value}`"
        message = (
            f'{said}{place} with {loss_said}: on {how}, KTOTrainer.__init__ raises ValueError("{check.says}") while the KL '
            f"term is on ({check.where}; the KL term is off only for loss_type {KTO_NO_KL_LOSS}, {KTO_NO_KL_AT}), so the run stops "
            f"before its first step on any GPU{'' if not assumed else ' where that release is installed'}. What to change: "
            f"{change}, or loss_type {KTO_NO_KL_LOSS} (no KL term). Source: {'; '.join(b.sources)}"
        )
        out.append(_finding(b, f"{b.title} (`{check.key}` {value})", not assumed, message, line, check.key))
    return out


# A vision-language model's name: SFTTrainer skips the padding-free check for a vision dataset (trl 1.16.0
# sft_trainer.py:999, `_is_vision_dataset` from the dataset's image columns), which goblin does not read.
_VISION_MODEL = re.compile(r"(?i)(?:[-_/.]vl\b|vl[-_]|vision|llava|idefics|paligemma|smolvlm|pixtral|florence|\bvlm|omni)")


def _said(loaded: LoadedConfig, key: str, value: Any, at: int | None) -> tuple[str, int | None]:
    """(`key: value` (line N), the line in the config) for a key a check read; the launcher's file where it passes it."""
    shown = _shown(value)
    said = f"`{key}={value!r}`" if loaded.adapter.name == "python" else f"`{key}: {shown}`"
    place, line = _set_where(loaded, key, at)
    return said + place, line


def _raise_applies(name: str, read: dict[str, tuple[bool, Any, int | None]], loaded: LoadedConfig) -> list[str] | None:
    """The keys (in the order shown) whose values make the TRL raise `name` fire, None where it does not."""
    from .frameworks.trl_limits import RLOO_K_DEFAULTS, SFT_MAX_LENGTH_DEFAULT

    def val(key: str) -> Any:
        return read[key][1] if read[key][0] else None

    if name in ("grpo_one_generation", "rloo_one_generation"):
        ng = val("num_generations")
        return ["num_generations"] if isinstance(ng, int) and not isinstance(ng, bool) and ng < 2 else None
    if name in ("grpo_both_generation_sizes", "rloo_both_generation_sizes"):
        both = [k for k in ("generation_batch_size", "steps_per_generation") if isinstance(val(k), int) and not isinstance(val(k), bool)]
        return both if len(both) == 2 else None
    if name in ("grpo_auto_find_batch_size", "rloo_auto_find_batch_size"):
        return ["auto_find_batch_size"] if val("auto_find_batch_size") is True else None
    if name == "rloo_k_batch":
        nums = {k: (val(k) if read[k][0] and val(k) is not None else d) for k, d in RLOO_K_DEFAULTS.items()}
        if any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in nums.values()):
            return None
        local = nums["per_device_train_batch_size"] * nums["gradient_accumulation_steps"] * nums["num_mini_batches"]
        return list(RLOO_K_DEFAULTS) if local % nums["rloo_k"] else None
    if name == "sft_padding_free_unpacked":
        found_len, length, _l = read["max_length"]
        length = length if found_len else SFT_MAX_LENGTH_DEFAULT
        packing = val("packing")
        model = f"{loaded.workload.model.name} {val('model_name_or_path') or ''}"
        if val("padding_free") is not True or packing not in (None, False) or _VISION_MODEL.search(model):
            return None
        if not isinstance(length, int) or isinstance(length, bool):
            return None
        return ["padding_free", "max_length"]
    return None


def _trl_config_raises(loaded: LoadedConfig, b: Blocker) -> list[Finding]:
    """Valid keys whose combination a TRL config class or trainer refuses before the first step
    (frameworks/trl_limits.TRL_RAISES): GRPO's num_generations 1, generation_batch_size with steps_per_generation,
    auto_find_batch_size; SFT's padding_free without packing under a max_length. Judged at the release the repository
    pins (a blocker) or the newest when assumed (a requirement); a key the launch line passes, the script computes or
    the repository's own argument dataclass declares is not judged."""
    from .frameworks.trl_limits import RLOO_K_DEFAULTS, SFT_MAX_LENGTH_DEFAULT, trl_raises

    cls = _trl_class(loaded)
    if cls is None:
        return []
    run = _trl_run_for(loaded, b)
    if run is None:
        return []
    version, how, assumed = run
    out = []
    for r in trl_raises(cls, version):
        keys = (*r.keys, "model_name_or_path") if r.name == "sft_padding_free_unpacked" else r.keys
        if _computed_in_code(loaded, r.keys):
            continue
        if any(_repository_declares(loaded, k) for k in r.keys):
            continue  # the repository's own argument class holds the key: its own trainer may read it
        read = {k: run_key(loaded, k) for k in keys}
        hit = _raise_applies(r.name, read, loaded)
        if hit is None:
            continue
        parts, line = [], None
        for k in hit:
            found, value, at = read[k]
            if not found and k == "max_length":
                parts.append(f"max_length {SFT_MAX_LENGTH_DEFAULT} (not set: SFTConfig's default)")
                continue
            if (not found or value is None) and k in RLOO_K_DEFAULTS:
                whose = "RLOOConfig's" if k in ("rloo_k", "num_mini_batches") else "TrainingArguments'"
                parts.append(f"{k} {RLOO_K_DEFAULTS[k]} (not set: {whose} default)")
                continue
            said, at_line = _said(loaded, k, value, at)
            parts.append(said)
            line = line or at_line
        if r.name == "rloo_k_batch":
            nums = [read[k][1] if read[k][0] and read[k][1] is not None else d for k, d in RLOO_K_DEFAULTS.items()]
            parts.append(f"local_batch_size {nums[1]} x {nums[2]} x {nums[3]} = {nums[1] * nums[2] * nums[3]}, not a multiple of rloo_k {nums[0]}")
            hit = [k for k in hit if read[k][0] and read[k][1] is not None] or hit[:1]
        if r.name == "sft_padding_free_unpacked":
            found, value, _at = read["packing"]
            parts.append(f"packing {_shown(value) if value is not None else 'null'}" if found else "packing not set (false)")
        message = (
            f'{", ".join(parts)}: on {how}, {r.raised_by(version)} raises ValueError("{r.says} ...") before the first step ({r.where}), so '
            f"the run stops on any GPU{'' if not assumed else ' where that release is installed'}. What to change: {r.change}. "
            f"Source: {'; '.join(b.sources)}"
        )
        out.append(_finding(b, f"{b.title} ({cls}: {', '.join(hit)})", not assumed, message, line, hit[0]))
    return out


def _unsloth_grpo(loaded: LoadedConfig) -> bool:
    """A script whose GRPOConfig is Unsloth's (unsloth imported before trl), which sets a batch that holds no whole
    groups to num_generations before TRL checks it (frameworks/unsloth.GRPO_BATCH_AT)."""
    from .formats.pyscript import Script

    script = loaded.data
    return isinstance(script, Script) and script.unsloth is not None and script.unsloth.patches_trl


def _unsloth_load_raises(loaded: LoadedConfig, b: Blocker) -> list[Finding]:
    """An Unsloth `from_pretrained(load_in_8bit=True)` that leaves load_in_4bit on (its default True): Unsloth refuses
    the combination before any weight loads (frameworks/unsloth.EIGHT_BIT_AT). A blocker at an unsloth release the
    repository pins exactly in the range read (2025.3.11-2026.8.19), a requirement at the newest read where it pins none
    (or a range, a branch, a later release); nothing at a pinned release before the keyword, nor where the repository
    pins a bitsandbytes at or below 0.48.2, with which Unsloth on ROCm drops 4-bit and 8-bit instead of raising."""
    from packaging.version import InvalidVersion, Version

    from .formats.pyscript import Script
    from .frameworks import unsloth as u
    from .frameworks.pins import pins

    script = loaded.data
    load = script.unsloth if isinstance(script, Script) else None
    if load is None or load.eight_bit_with_4bit is None:
        return []
    line, four_default = load.eight_bit_with_4bit
    pin = pins(str(loaded.path), loaded.text).get("unsloth")
    try:
        pinned = Version(pin.version) if pin is not None and pin.exact and pin.version else None
        bnb = exact_pins(str(loaded.path), loaded.text).get("bitsandbytes")
        if bnb is not None and bnb.version and Version(bnb.version) <= Version("0.48.2"):
            return []
    except InvalidVersion:
        return []
    if pinned is not None and pinned < Version(u.EIGHT_BIT_RAISES_FROM):
        return []
    at_pin = pinned is not None and pinned <= Version(u.VERSION)
    if at_pin != (b.severity == "blocker"):
        return []
    how = (
        f"{pin.spec} ({pin.where})"
        if at_pin and pin is not None
        else (
            f"{u.RELEASE}, the newest release goblin read"
            + (f" (the repository pins {pin.spec}, {pin.where})" if pin is not None else " (the repository pins no unsloth release)")
        )
    )
    four = "load_in_4bit not passed, so its default True" if four_default else "load_in_4bit=True"
    message = (
        f"line {line}: {load.loader}.from_pretrained(load_in_8bit=True) with {four}: on {how}, Unsloth raises "
        f'RuntimeError("{u.EIGHT_BIT_SAYS} ...") before any weight loads ({u.EIGHT_BIT_AT}), so the run stops'
        f"{'' if at_pin else ' where that release is installed'}, on ROCm where a bitsandbytes newer than 0.48.2.dev0 is installed "
        f"(with none or an older one Unsloth drops both and loads 16-bit weights, {u.ROCM_AT}). What to change: {b.guidance}. "
        f"Source: {'; '.join(b.sources)}"
    )
    return [_finding(b, f"{b.title} ({load.loader}: load_in_8bit with load_in_4bit)", at_pin, message, line, "load_in_8bit")]


def _module_removed(loaded: LoadedConfig, b: Blocker) -> list[Finding]:
    """A training script's import of a module its framework's release no longer has (frameworks/modules.py):
    review2 #8, FastChat's `from transformers import ..., deepspeed` where `transformers>=4.31.0` installs a release
    without transformers.deepspeed (gone in 4.46.0). A blocker with a pin, a requirement on an assumed release."""
    from .frameworks.modules import imports, runs_without
    from .frameworks.pins import pins

    text, file, where = loaded.text, None, ""
    if loaded.adapter.name == "hf-trainer":  # a recipe: the imports of the script its launch line runs on it
        from .formats.launched import launched_script

        launched = launched_script(loaded.path)
        if launched is None or not launched.text:
            return []
        from .formats.base import shown_file

        text, where = launched.text, f"{launched.script} (run on this file by {launched.where}) "
        file = shown_file(launched.script_path, str(loaded.path)) if launched.script_path else launched.script
    out = []
    for imp in imports(text):
        r = imp.removed
        got = runs_without(r, pins(str(loaded.path), loaded.text).get(r.dist))
        if got is None or got[0] != (b.severity == "blocker"):
            continue
        said = imp.text.replace("`", "'")[:160]
        use = f"import from {r.instead}" if r.kind == "module" else f"import {r.instead}" if r.kept_under else f"call {r.instead}"
        message = (
            f"{where}line {imp.line}: `{said}`: {r.dist}.{r.module} is gone from {r.dist} {r.gone} on (the last release goblin read with it: "
            f"{r.last}), and the script runs on {r.dist} {got[1]} ({got[2]}). {b.symptom}. What to change: {use}, or pin "
            f"{r.dist}<{r.gone}. Source: {'; '.join(r.sources)}"
        )
        out.append(_finding(b, f"{b.title} (`{r.dist}.{r.module}`)", b.severity == "blocker", message, imp.line, file=file))
    return out


def _model_type_unknown(loaded: LoadedConfig, b: Blocker) -> list[Finding]:
    """The model's transformers model_type is newer than the transformers release the repository pins (exact, capped,
    vendored or a placed commit): AutoConfig.from_pretrained raises before training (frameworks/model_types.py; review10b
    #27/#28, Firefly's transformers==4.34 with Qwen2.5/Qwen1.5, model_type qwen2 from 4.37.0). Only a model goblin
    resolved from the config's own name (a table row, not a shape inferred for a fine-tune) of a family whose checkpoints
    ship no code of their own; never on an assumed (unpinned, or open-ended range) release."""
    from .frameworks.history import run_version
    from .frameworks.model_types import unknown_at
    from .frameworks.pins import pins

    shape = loaded.workload.model
    if not shape.known or shape.inferred:
        return []
    pin = pins(str(loaded.path), loaded.text).get("transformers")
    if pin is None:
        return []
    run = run_version("transformers", pin)
    if run is None or run.assumed:
        return []
    # a commit between two releases: judged at the next release (the commit may already have what that release has)
    release = run.also if run.also is not None else run.version
    if not release:
        return []
    got = unknown_at(shape.family, release)
    if got is None:
        return []
    src = loaded.workload.sources.get("model")
    line = src.line if src is not None and src.line else None
    other = src.file if src is not None and src.file and src.file != loaded.workload.path and line else None
    said = f"a commit before transformers {release}" if run.also else f"transformers {run.version}"
    raised = (
        f"KeyError: '{got.model_type}' ({got.lookup_at} looks the config's model_type up; {got.raise_at} raises)"
        if got.raises == "KeyError"
        else f"ValueError: the checkpoint has model type `{got.model_type}` but Transformers does not recognize this "
        f"architecture ({got.raise_at}, around {got.lookup_at})"
    )
    message = (
        f"`{shape.name}` is a `{got.model_type}` model, a model_type transformers has from {got.first} on "
        f"(models/auto/configuration_auto.py:{got.first_line}@{got.first}), and the repository runs {said} ({run.how}): "
        f"AutoConfig.from_pretrained stops with {raised}. {b.symptom}. What to change: pin transformers>={got.first}, or "
        f"{b.guidance}. Source: {got.source}; {'; '.join(b.sources)}"
    )
    return [_finding(b, f"{b.title} (`{got.model_type}` from transformers {got.first})", True, message, line, None, None, other)]


# DeepSpeed key -> (the TrainingArguments keys whose value the Trainer compares it with, joined by `or`; the kind of
# value). transformers 4.36.2/4.46.3/5.25.0 integrations/deepspeed.py HfTrainerDeepSpeedConfig.trainer_config_process
# (:140-143,169-180 @4.36.2; :143-157,188-199 @4.46.3; :146-156,185-186 @5.25.0) fill_match these pairs.
_DS_MATCHED: tuple[tuple[str, tuple[str, ...], type], ...] = (
    ("bf16.enabled", ("bf16", "bf16_full_eval"), bool),
    ("fp16.enabled", ("fp16", "fp16_full_eval"), bool),
    ("train_micro_batch_size_per_gpu", ("per_device_train_batch_size",), int),
    ("gradient_accumulation_steps", ("gradient_accumulation_steps",), int),
)


def _run_value(loaded: LoadedConfig, keys: tuple[str, ...], kind: type) -> tuple[Any, str, int | None] | None:
    """(value, key as written, line) the run's TrainingArguments hold for a compared pair; None where the first key is
    not set in the config, or any of them is not a plain value of `kind` (goblin could not read it). A second key left
    out is TrainingArguments' default, False (bf16_full_eval, fp16_full_eval: transformers 5.25.0 training_args.py:886-893)."""
    if _computed_in_code(loaded, keys):
        return None
    ok, value, line = run_key(loaded, keys[0])
    if not ok or value is None or isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
        return None
    total: Any = value
    for other in keys[1:]:
        ok2, extra, _ = run_key(loaded, other)
        if ok2 and extra is not None:
            if not isinstance(extra, bool):
                return None
            total = total or extra
    return total, keys[0], line


def _launch_command(loaded: LoadedConfig) -> tuple[str, list[tuple[int, str]]] | None:
    """The launch line that names this config, as (the launcher shown, its physical lines (1-based number, text)) with
    every backslash continuation before and after the line the launch was found on; None where no launch line names it."""
    from .formats.launch_rows import launch_rows

    return launch_rows(loaded.path)


def _launch_flag_words(loaded: LoadedConfig) -> set[str]:
    """The `--name` words of the repository's launch line that names this config (with its backslash continuations),
    without the dashes; empty where no launch line names it. A YAML/JSON run's own value may be overridden by such a
    flag (trl 1.16.0 trl/scripts/utils.py:340,345: TrlParser sets the file as defaults, then parses the flags over them),
    so a compared key passed there is not judged."""
    got = _launch_command(loaded)
    words: set[str] = set()
    for _n, text in got[1] if got else []:
        words.update(m.group(1).replace("-", "_") for m in re.finditer(r"(?<![\w-])--([A-Za-z][\w-]*)", text))
    return words


def launch_config_flags(loaded: LoadedConfig) -> dict[str, tuple[Any, str]]:
    """key -> (value, place) of the `--key value` / `--key=value` words a script's launch line passes beside
    `--config THIS_FILE`, continuation lines included (review7b #24: `--vllm_mode colocate` on the line after
    `src/open_r1/grpo.py --config x.yaml \\`). TrlParser.parse_args_and_config sets the file's values as defaults and
    parses the command line over them, so these win (trl 0.18.0 trl/scripts/utils.py:186-208; 1.16.0 :340,345). Only
    the words after the script (before it they are the launcher's own, accelerate 1.16.0 commands/launch.py:878,982);
    a value holding `$` or a backtick is set at run time and is not taken. Empty where no launch line passes the file
    with `--config` (a positional YAML is read by HfArgumentParser alone, with no flags over it)."""
    import shlex

    got = _launch_command(loaded)
    if got is None or got[0].endswith(".ipynb"):  # a notebook's line is a cell's, not the file's
        return {}
    shown, rows = got
    try:
        words = shlex.split(" ".join(t.rstrip().removesuffix("\\") for _n, t in rows), comments=True)
    except ValueError:
        return {}
    script = next((i for i, w in enumerate(words) if w.endswith(".py")), None)
    name = Path(str(loaded.path)).name
    at = next((i for i, w in enumerate(words) if w == "--config" and i + 1 < len(words) and Path(words[i + 1]).name == name), None)
    if script is None or at is None or at < script:
        return {}
    out: dict[str, tuple[Any, str]] = {}
    for key, raw, flag, _eq in script_flags(words, script, {at, at + 1}, split_pairs=True):
        if "$" in raw or "`" in raw or key in out:
            continue
        written = words[flag][2:].partition("=")[0]
        line = next((n for n, t in rows if re.search(rf"(?<![\w-])--{re.escape(written)}(?![\w-])", t)), rows[0][0])
        out[key] = (word_value(raw), f"{shown}:{line}, the launch line's `--{key} {raw}`")
    # a `$VAR` value the launcher set for certain before the line (formats/launch_line.py resolves it into
    # Launch.overrides, which hf_trainer._launch_words reads too): review12b #29 `--max_completion_length=$MAX_COMPLETION_LENGTH`
    from .formats.launchers import find_launch

    try:
        launch = find_launch(loaded.path)
    except (OSError, ValueError):
        launch = None
    if launch is not None and not launch.commented and launch.flag_form == "config":
        for key, raw, _file, _line, how in launch.overrides:
            if key not in out and "$" not in raw and "`" not in raw:
                out[key] = (word_value(raw), how)
    return out


def _deepspeed_mismatch(loaded: LoadedConfig, b: Blocker) -> list[Finding]:
    """Issue 24: a DeepSpeed JSON passed as TrainingArguments' `deepspeed` whose explicit value (not "auto") differs from
    the run's own TrainingArguments value. HfTrainerDeepSpeedConfig.fill_match records each such pair and
    trainer_config_finalize raises ValueError when train() starts DeepSpeed (transformers 4.46.3
    integrations/deepspeed.py:125-131,268-272). The file is TrainingArguments' `deepspeed` (LLaMA-Factory's `deepspeed:`
    key is the same field: llamafactory v0.9.5 hparams/training_args.py:143 subclasses Seq2SeqTrainingArguments), or
    for a Trainer recipe the `deepspeed_config_file` of the accelerate config its launch line passes: the Trainer then
    builds the same HfTrainerDeepSpeedConfig from accelerate's plugin (transformers 4.46.3 trainer.py:4989-4990,
    5019-5021; 5.25.0 trainer.py:886-887, integrations/deepspeed.py:718-720) and deepspeed_init finalizes it (5.25.0
    integrations/deepspeed.py:644). A Python script's accelerate file is not judged (its own loop runs no such check).
    Values goblin cannot read, or that the run leaves to defaults, are skipped."""
    from .formats import deepspeed as ds
    from .formats.base import DEEPSPEED_FILE

    if loaded.adapter.name not in ("hf-trainer", "python", "llamafactory"):
        return []
    ok, ref, ref_line = placed_key(loaded, "deepspeed")  # a launch line's `--deepspeed x.json`: "README.md line N"
    named = f"`deepspeed: {ref}`" + (f" ({ref_line if isinstance(ref_line, str) else f'line {ref_line}'})" if ref_line else "")
    if not ok or not isinstance(ref, str) or not ref.strip():
        src = loaded.workload.sources.get(DEEPSPEED_FILE)
        if loaded.adapter.name == "python" or src is None or not src.file or not (src.key or "").endswith(": deepspeed_config_file"):
            return []
        ref, ref_line = src.file, None
        named = f"`deepspeed_config_file` of the {(src.key or '').rsplit(': ', 1)[0]}"
    read = ds.explicit_values(loaded.path, ref, tuple(k for k, _, _ in _DS_MATCHED))
    if read is None:
        return []
    file, values = read
    skip: set[str] = set()
    for backend in ("fp16_backend", "half_precision_backend"):  # apex before transformers 5: another fp16 path
        ok_b, v_b, _ = raw_key(loaded, backend)
        if ok_b and v_b is not None:
            skip.add("fp16.enabled")
    if loaded.adapter.name == "llamafactory":
        ok_p, v_p, _ = raw_key(loaded, "pure_bf16")  # LLaMA-Factory's own bf16 path beside TrainingArguments' bf16: not compared
        if ok_p and v_p is not None and v_p is not False:
            skip.add("bf16.enabled")
    ok_a, v_a, _ = raw_key(loaded, "auto_find_batch_size")
    if ok_a and v_a is not None and v_a is not False:  # the Trainer does not require the micro batch to match then
        skip.add("train_micro_batch_size_per_gpu")
    flags = _launch_flag_words(loaded) if loaded.adapter.name != "python" else set()
    if "deepspeed" in flags:  # the launch line names another DeepSpeed file for the run
        return []
    pairs: list[str] = []
    first_line: int | None = None
    first_key: str | None = None
    for ds_key, keys, kind in _DS_MATCHED:
        if any(k in flags for k in keys):  # the launch line passes its own value (a parser that lets flags override the file)
            continue
        if ds_key in skip or ds_key not in values:
            continue
        ds_value, ds_line = values[ds_key]
        if isinstance(ds_value, str) or isinstance(ds_value, bool) != (kind is bool) or not isinstance(ds_value, int):
            continue  # a value goblin does not compare as the Trainer would
        run = _run_value(loaded, keys, kind)
        if run is None or run[0] == ds_value:
            continue
        value, key, line = run
        where, line = _set_where(loaded, key, line)
        said = f"{key}={value!r}" if loaded.adapter.name == "python" else f"{key}: {_shown(value)}"
        at = f" (line {ds_line})" if ds_line else ""
        pairs.append(f"`{said}`{where} but `{ds_key}: {_shown(ds_value)}` in {Path(file).name}{at}")
        if first_key is None:
            first_key, first_line = key, line
    if not pairs:
        return []
    message = f"{'; '.join(pairs)} ({named} names {file}): {b.symptom}. What to change: {b.guidance}. Source: {'; '.join(b.sources)}"
    own_line = ref_line if isinstance(ref_line, int) else None  # a launch line's place is in the message, not the config's line
    return [_finding(b, f"{b.title} (will not start)", True, message, first_line or own_line, first_key or "deepspeed")]


def _fp16_weights_in_script(loaded: LoadedConfig, hw: Hardware, b: Blocker) -> list[Finding]:
    """`fp16: true` on a recipe the repository's script loads the model for in float16 (hf_trainer._script_weights_dtype:
    the weights' dtype read from the script's `from_pretrained`, the file sets no dtype key; review10b #28, Firefly
    train.py:262-282). The blocker's `when` holds the rest of the premise (full fine-tune, no DeepSpeed or FSDP, gradient
    clipping on, no apex), read as `found` reads a keyed blocker's."""
    from .formats.hf_trainer import SCRIPT_DTYPE_KEY

    w = loaded.workload
    src = w.sources.get("weight_dtype")
    if loaded.adapter.name != "hf-trainer" or w.weight_dtype != "fp16" or src is None or src.key != SCRIPT_DTYPE_KEY or src.unread:
        return []
    unread = {name for name, s in w.sources.items() if s.unread}
    if strategy_unread(w) is not None:
        unread.add("strategy")
    if any(p.fact in unread for p in b.when):
        return []
    f = {**facts(w, hw, host={}), **{p.fact: _key_value(loaded, p.fact[4:]) for p in b.when if p.fact.startswith("key.")}}
    if not all(holds(p, f) for p in b.when):
        return []
    ok, value, line = placed_key(loaded, "fp16")
    if not ok:
        return []
    other = key_file(loaded, "fp16", line if isinstance(line, int) else None)
    at = f" ({other + ' ' if other else ''}line {line})" if line else ""
    message = f"`fp16: {_shown(value)}`{at}, and {src.note}: {b.symptom}. What to change: {b.guidance}. Source: {'; '.join(b.sources)}"
    return [
        _finding(b, f"{b.title} (will not start on {hw.name})", b.severity == "blocker", message, line if isinstance(line, int) else None, "fp16", None, other)
    ]


def _torch_rocm_build(loaded: LoadedConfig, hw: Hardware, b: Blocker) -> list[Finding]:
    """The torch the recipe or its repository pins, where no build of it runs on the target's architecture
    (frameworks/torch_rocm.py): review2 #7, DeepSeek-Coder's `torch==2.0.1` (ROCm 5.4.2 wheels only) on gfx942."""
    from .frameworks.torch_rocm import no_rocm_build

    if hw.vendor != "amd":
        return []
    found = exact_pins(str(loaded.path), loaded.text)
    pin = found.get("torch")
    got = no_rocm_build(pin, hw.arch) if pin is not None else None
    index = found.get("torch-index")
    if b.severity == "requirement":
        # an install line that takes torch from PyTorch's CUDA index: a fresh environment gets a CUDA build, a host
        # whose ROCm torch is already installed keeps it (not certain: a requirement), where no pin already blocks
        if index is None or got is not None:
            return []
        line = index.line if not index.file else None
        message = (
            f"`{index.spec}` ({index.where}): this install line takes torch from PyTorch's CUDA {index.version} wheel index. "
            f"{b.symptom}. What to change: {b.guidance}. Source: {'; '.join(b.sources)}"
        )
        return [_finding(b, b.title, False, message, line or None)]
    if pin is None or got is None:
        return []
    line = pin.line if not pin.file else None  # a line of the config itself; else the pin's file:line is in the message
    elsewhere = _torch_elsewhere(loaded, pin.file)
    if elsewhere is not None:
        # the run's torch is its environment's (review15a #15 LUMI `module load pytorch`, #17 AMD's own ROCm image): the pin
        # is what a fresh install from that file gets, not a certain stop
        message = (
            f"{got.why}. {elsewhere}: where the run uses that environment, the pin is not its torch; a fresh install from "
            f"{pin.where} gets the build above, on which it would not start. What to change: {got.fix}. Source: {'; '.join(got.sources)}"
        )
        return [_finding(b, f"{b.title} (check the environment it runs in)", False, message, line or None)]
    message = f"{got.why}. {b.symptom}. What to change: {got.fix}. Source: {'; '.join(got.sources)}"
    return [_finding(b, f"{b.title} (will not start on {hw.name})", True, message, line or None)]


def _torch_elsewhere(loaded: LoadedConfig, pin_file: str) -> str | None:
    """What says the run's torch is not the pinned one: the repository states an AMD GPU it trained on, or the launch
    path or the repository's ROCm image provides torch (formats/container.torch_from_environment)."""
    from .formats.container import torch_from_environment

    w = loaded.workload
    stated = w.stated_gpu
    if stated is not None and stated.gpu.upper().startswith("MI"):
        where = f"{Path(stated.file).name}:{stated.line}" if stated.file and stated.line else "the repository"
        return f"the repository says this config trained on {stated.gpu} ({where}), an AMD GPU, so its torch there was a ROCm build"
    return torch_from_environment(w, pin_file)


GFX_OVERRIDE = "HSA_OVERRIDE_GFX_VERSION"
# the form the ROCm thunk accepts: sscanf "%u.%u.%u%c" must read exactly three numbers, major <= 63, minor and stepping
# <= 255 (ROCT-Thunk-Interface rocm-6.2.4 src/topology.c:1216-1222; anything else fails the thunk's topology read)
_GFX_VALUE = re.compile(r"[ \t]{0,8}([0-9]{1,9})\.([0-9]{1,9})\.([0-9]{1,9})")


def _gfx_override(loaded: LoadedConfig, hw: Hardware, b: Blocker) -> list[Finding]:
    """HSA_OVERRIDE_GFX_VERSION in the run's environment (the launcher's exports, `launch_env`, or the config's own env /
    `os.environ`) that is not the target's own gfx version (blind review 15b #23: chkaos train_qwen.sh:3 `export
    HSA_OVERRIDE_GFX_VERSION=9.0.6` for MI50s, on an MI300X): the runtime takes the GPU for that ISA. The blocker where
    the value is read; the requirement where it is set in a way goblin cannot read (a variable, under a condition)."""
    from .formats.base import shown_file
    from .hardware import gfx_name, gfx_version

    own = gfx_version(hw.arch) if hw.vendor == "amd" else None
    src = loaded.workload.sources.get(f"env.{GFX_OVERRIDE}")
    if own is None or src is None:
        return []
    value = loaded.workload.env.get(GFX_OVERRIDE)
    other = shown_file(src.file, str(loaded.path)) if src.file and os.path.realpath(src.file) != os.path.realpath(loaded.path) else None
    at = f"{other} line {src.line}" if other else f"line {src.line}"
    line = None if other else src.line
    said_own = f"{hw.name} is {hw.arch}, {'.'.join(map(str, own))}"
    if b.severity == "requirement":
        if value is not None or not src.unread:
            return []
        message = (
            f"{at} sets {GFX_OVERRIDE} to a value goblin cannot read (a variable, or under a condition it cannot evaluate); the"
            f" {said_own}: {b.symptom}. What to change: {b.guidance}. Source: {'; '.join(b.sources)}"
        )
        return [_finding(b, b.title, False, message, line, file=other)]
    if value is None:
        return []
    shown = value.strip().strip("\"'")
    m = _GFX_VALUE.fullmatch(shown)
    got = (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
    if got == own:
        return []
    said = shown.replace("`", "'")[:40]
    if got is None or got[0] > 63 or got[1] > 255 or got[2] > 255:
        why = "is not major.minor.stepping within the thunk's limits: the thunk refuses it and the runtime does not start"
    else:
        why = f"makes the runtime take each GPU for {gfx_name(got)}"
    message = f"`{GFX_OVERRIDE}={said}` ({at}) {why}; the {said_own}: {b.symptom}. What to change: {b.guidance}. Source: {'; '.join(b.sources)}"
    return [_finding(b, f"{b.title} (will not start on {hw.name})", True, message, line, file=other)]


def _cuda_launch_path(loaded: LoadedConfig, hw: Hardware, b: Blocker) -> list[Finding]:
    """The NVIDIA GPU resource (`blocker.cuda_gpu_resource`) or CUDA-only image (`blocker.cuda_container_image`) of the
    container the launcher found for this config runs it in (formats/container.py; review 8a #4): only that launcher's,
    never a Dockerfile nothing links to the config."""
    from .formats.container import cuda_launch_path

    if hw.vendor != "amd":
        return []
    want = "resource" if b.id == "blocker.cuda_gpu_resource" else "image"
    out = []
    for seen in cuda_launch_path(loaded.workload):
        if not seen.how.startswith(want) and not (want == "image" and seen.how.startswith("dockerfile")):
            continue
        via = f" ({seen.how.partition(' ')[2].strip('()')})" if seen.how.startswith("dockerfile") else ""
        said = seen.text.replace("`", "'")
        message = f"{seen.file}:{seen.line}{via}: `{said}`: {b.symptom}. What to change: {b.guidance}. Source: {'; '.join(b.sources)}"
        out.append(_finding(b, f"{b.title} (will not start on {hw.name})", True, message, None))
    return out


def _legacy_flash_kwarg(loaded: LoadedConfig, b: Blocker) -> list[Finding]:
    """`use_flash_attention_2=True` in a model load at a transformers release that does not take it (formats/legacy_flash.py;
    review14b #34): a blocker on a pinned release, a requirement on the newest one assumed."""
    got = loaded.workload.legacy_flash
    if got is None:
        return []
    blocker = not got.assumed
    stops = "" if blocker else " (no pin fixes the release: at the newest goblin read the run would not start)"
    message = (
        f"`use_flash_attention_2=True` ({got.file}:{got.line}): {got.how}; {b.symptom}{stops}. What to change: {b.guidance} "
        f"(line {got.line} of {got.file}; goblin does not rewrite code). Source: {'; '.join(b.sources)}"
    )
    in_config = Path(got.file).name == Path(loaded.path).name and Path(loaded.path).suffix == ".py"
    title = f"{b.title} ({'will not start' if blocker else 'check the release it runs on'})"
    return [_finding(b, title, blocker, message, got.line, "use_flash_attention_2", file=None if in_config else got.file)]


def _flash_attn_v1_import(loaded: LoadedConfig, hw: Hardware, b: Blocker) -> list[Finding]:
    """A flash-attn 1.x import the script reaches (formats/flash_v1.py; review11b #35, alpaca_farm flash_llama.py:20): a
    blocker where every import on the way runs at start-up, a requirement where one is in a function or under a branch."""
    from .formats.flash_v1 import flash_v1_import

    if not all(holds(p, {"hw.vendor": hw.vendor}) for p in b.when):
        return []
    hit = flash_v1_import(loaded.path)
    if hit is None:
        return []
    way = f" (reached: {'; '.join(hit.via)})" if hit.via else ""
    when = "" if hit.certain else " Whether it runs depends on that function or branch (a flag of the run), so this is a requirement, not a certain stop."
    said = hit.statement.replace("`", "'")
    message = f"{hit.file}:{hit.line}: `{said}`{way}: {b.symptom}.{when} What to change: {b.guidance}. Source: {'; '.join(b.sources)}"
    in_script = Path(hit.path) == Path(loaded.path).resolve()
    title = f"{b.title} (will not start on {hw.name})" if hit.certain else b.title
    return [_finding(b, title, hit.certain, message, hit.line, file=None if in_script else hit.file)]


# trl 0.19.0 trl/scripts/utils.py:197-201 (TrlParser.parse_args_and_config takes sys.argv[1:] and removes `--config FILE`),
# :220 (the rest goes to parse_args_into_dataclasses with return_remaining_strings as given, False by default; the
# fail_with_unknown_args switch, :226, is for the file's keys only); the same lines at 0.21.0 :197,220 and 0.24.0 :331,354,
# and 1.16.0 :320-324,345. Read at those releases: judged from 0.19.0 to 1.16.0 (the newest goblin reads)
LAUNCH_ARGS_TRL = ("0.19.0", "1.16.0")
# The TrlParser of trl.commands.cli_utils (review15a #14, MathEDU train.py:9): trl v0.9.6 trl/commands/cli_utils.py:187
# (`__init__(self, parsers, ignore_extra_args=False)`), :227-238 (`--config FILE` popped from sys.argv, the file's keys
# set as the parser's defaults, parse_args_into_dataclasses with return_remaining_strings False by default), :252-254
# (ValueError "Some specified config arguments are not used by the TrlParser" on the keys no argument takes, unless
# ignore_extra_args); the same at v0.10.1 :187,227-254, v0.11.4 :201,241-268 and v0.12.2 :183,223-250. v0.9.4 and older
# parse with return_remaining_strings=True and warn (cli_utils.py:280-320@v0.9.4); v0.13.0 has no trl/commands/ package
LAUNCH_ARGS_TRL_COMMANDS = ("0.9.6", "0.12.2")
LAUNCH_CONFIG_KEYS_COMMANDS_AT = "trl v0.9.6 trl/commands/cli_utils.py:187,227-238,252-254; v0.11.4 :201,241-268; v0.12.2 :183,223-250"
_SHELL_STOPS = re.compile(r"[;&|<>]")


def _launch_words(loaded: LoadedConfig, config_name: str) -> tuple[str, list[tuple[str, int]]] | None:
    """(launcher shown, [(`--flag` word, its physical line)]) of the words after the script on the launch line that passes
    this file as `--config FILE` (backslash continuations included): the command line TrlParser parses. Words are split at
    blanks as written (a `$VAR` word stays one word); the reading stops at a bare `--` (what follows is another program's)
    and at a shell operator or comment. None where no such line, or the file is not passed with `--config` after a script."""
    got = _launch_command(loaded)
    if got is None or got[0].endswith(".ipynb"):
        return None
    shown, rows = got
    words = [(w.strip("'\""), n) for n, text in rows for w in text.rstrip().removesuffix("\\").split()]
    script = next((i for i, (w, _n) in enumerate(words) if w.endswith(".py")), None)
    if script is None:
        return None
    after = words[script + 1 :]
    cut = next((i for i, (w, _n) in enumerate(after) if w == "--" or w.startswith("#") or _SHELL_STOPS.match(w) or w == ""), len(after))
    after = after[:cut]
    if not any(w == "--config" and i + 1 < len(after) and Path(after[i + 1][0]).name == config_name for i, (w, _n) in enumerate(after)):
        return None
    return shown, [(w, n) for w, n in after if re.fullmatch(r"--[A-Za-z][\w-]{0,127}(=.*)?", w)]


def _launch_args_unknown(loaded: LoadedConfig, b: Blocker) -> list[Finding]:
    """review11b #24: a `--flag` on the launch line of a TRL recipe that none of the dataclasses the script's TrlParser
    is built from has (llm2025compet's `--server_ip` beside GRPOConfig's vllm_server_host). TrlParser.parse_args_and_config
    hands the command line to HfArgumentParser.parse_args_into_dataclasses, which raises ValueError on an argument no
    dataclass reads unless return_remaining_strings is set (LAUNCH_ARGS_TRL; formats/pycommand.HF_PARSE_AT). Judged only
    where every class is read (the repository's own dataclasses, TRL/transformers classes of goblin's key tables at the
    pinned release), the parse reads the launch line's words as written, and TRL is pinned to a release read."""
    from .formats.launched import launched_script
    from .frameworks.history import history, present, run_version
    from .frameworks.pins import pins

    path = str(loaded.path)
    if loaded.adapter.name == "python":
        return _script_args_unknown(loaded, b)
    if loaded.adapter.name != "hf-trainer" or not path.endswith((".yaml", ".yml")):
        return []
    launched = launched_script(path)
    if launched is None or launched.trl_parse is None or launched.parser_fields is None or launched.argv_changed:
        return []
    parse_line, kwargs = launched.trl_parse
    if "return_remaining_strings" in kwargs and kwargs["return_remaining_strings"] is not False:
        return []  # the unknown words are handed back to the script
    pinned = pins(path, loaded.text)
    runs = {dist: run_version(dist, pinned.get(dist)) for dist in ("transformers", "trl")}
    trl = runs["trl"]
    if trl is None:
        return []
    commands = _ver(LAUNCH_ARGS_TRL_COMMANDS[0]) <= _ver(trl.version) <= _ver(LAUNCH_ARGS_TRL_COMMANDS[1])
    held = pinned.get("trl") is not None and pinned["trl"].kind == "calls"
    # judged on a pinned release of either window, or where the script's own imports or calls hold an unpinned TRL to a
    # trl.commands release (pins._held_by_calls): a requirement there, since an older release (0.8.x) only warns
    certain = not trl.assumed
    if not (certain or (held and commands)):
        return []
    if not (commands or _ver(LAUNCH_ARGS_TRL[0]) <= _ver(trl.version) <= _ver(LAUNCH_ARGS_TRL[1])):
        return []
    if commands and kwargs.get("ignore_extra_args") not in (None, False):
        return []  # TrlParser(..., ignore_extra_args=True) keeps the file's unknown keys to itself
    own, outside = launched.parser_fields
    fields: set[str] = set(own) | {"config"}  # `--config` is TrlParser's own (removed before the parse)
    tables = history()
    for cls in (*outside, "TrainingArguments"):
        dist = next((d for d in ("trl", "transformers") if cls in tables.get(d, {}).get("classes", {})), None)
        if dist is None:
            return []  # a class goblin's tables do not hold: its fields are not known
        run = runs[dist]
        fields.update(k for k in _class_keys(dist, cls) if run is None or run.assumed or present(dist, cls, k, run.version) is not False)
    words = _launch_words(loaded, Path(path).name)
    if words is None:
        return []
    shown, flags = words
    out: list[Finding] = []
    seen: set[str] = set()
    for word, line in flags:
        key = word[2:].partition("=")[0].replace("-", "_")
        if key in seen or key in fields or key.removeprefix("no_") in fields or any(f.startswith(key) for f in fields):
            continue  # a field, `--no_<bool field>`, or argparse's unique-prefix abbreviation of one (allow_abbrev)
        seen.add(key)
        versions = f"trl {trl.version} ({trl.how})" + (f", transformers {runs['transformers'].version}" if runs["transformers"] else "")
        message = (
            f"`{word}` ({shown}:{line}) is a field of none of the dataclasses {', '.join(launched.parser_classes)} that the TrlParser of "
            f"{launched.script} is built from ({len(own)} field(s) of the repository's own classes, the rest from {', '.join(outside) or 'no framework class'}"
            f" and TrainingArguments at {versions}); {launched.script}:{parse_line} calls parse_args_and_config(), which hands the launch line's words to "
            f'parse_args_into_dataclasses() without keeping unknown ones, so it raises ValueError("Some specified arguments are not used by the '
            f'HfArgumentParser: [...]") before training starts. {b.symptom}. What to change: {b.guidance}. Source: {"; ".join(b.sources)}'
        )
        out.append(_finding(b, f"{b.title} (will not start: `{word}`)" if certain else b.title, certain, message, line, key=None, file=shown))
    if kwargs.get("fail_with_unknown_args") is not False:
        out += _config_keys_unknown(loaded, b, launched.script, parse_line, fields, f"trl {trl.version} ({trl.how})", commands, certain)
    return out


def _tracked(key: str) -> bool:
    """Whether TrainingArguments or a TRL config class had `key` at a release goblin read (keys_at_version's then)."""
    from .frameworks.history import ever, history

    return ever("transformers", "TrainingArguments", key) or any(ever("trl", c, key) for c in history().get("trl", {}).get("classes", {}))


def _script_args_unknown(loaded: LoadedConfig, b: Blocker) -> list[Finding]:
    """A Python script audited as its own item (no `--config` recipe): the `--flag` words its launch line passes that
    none of its HfArgumentParser/TrlParser dataclasses has (formats/pycommand: Script.launch_keys), where its parse keeps
    no unknown words (Script.launch_stops). Keys some TrainingArguments/TRL release had are keys_at_version's; the rest
    is judged where every class is read (launched.script_parser), and for TrlParser on a pinned trl 0.19.0-1.16.0."""
    from .formats.launched import script_parser
    from .formats.pycommand import HF_PARSE_AT
    from .formats.pyscript import Script
    from .frameworks.history import history, run_version
    from .frameworks.pins import pins

    script = loaded.data
    if not isinstance(script, Script) or not script.launch_keys or script.launch is None or script.parser_call is None or script.launch_stops is not True:
        return []
    path = str(loaded.path)
    trl_parse = script.launch_parse == "parse_args_and_config"
    if trl_parse:
        trl = run_version("trl", pins(path, loaded.text).get("trl"))
        if trl is None or trl.assumed or not (_ver(LAUNCH_ARGS_TRL[0]) <= _ver(trl.version) <= _ver(LAUNCH_ARGS_TRL[1])):
            return []
    got = script_parser(path)
    if got is None:
        return []
    classes, parsed, changed = got
    if parsed is None or changed:
        return []  # a class goblin cannot read, or the parse does not read the launch line's words as written
    own, outside = parsed
    fields: set[str] = set(own) | {"config"}
    tables = history()
    for cls in (*outside, "TrainingArguments"):
        dist = next((d for d in ("trl", "transformers") if cls in tables.get(d, {}).get("classes", {})), None)
        if dist is None:
            return []
        fields.update(_class_keys(dist, cls))
    call = "parse_args_and_config(), which hands them to parse_args_into_dataclasses()" if trl_parse else "parse_args_into_dataclasses()"
    out: list[Finding] = []
    for key, (flag, raw, line) in script.launch_keys.items():
        if key in fields or key.removeprefix("no_") in fields or any(f.startswith(key) for f in fields) or _tracked(key):
            continue
        where = script.launch.where(line)
        said = f"`{flag}{'' if raw is None else ' ' + raw}`"[:160]
        message = (
            f"{said} ({where}) is a field of none of the dataclasses {', '.join(classes)} that {loaded.path.name}'s parser (line "
            f"{script.parser_call.lineno}) is built from ({len(own)} field(s) of the repository's own classes, the rest from "
            f"{', '.join(outside) or 'no framework class'} and TrainingArguments at any release goblin read); the script parses its command line "
            f'with {call} without keeping unknown words, so it raises ValueError("Some specified arguments are not used by the HfArgumentParser: '
            f'[...]") ({HF_PARSE_AT}). {b.symptom}. What to change: {b.guidance}. Source: {"; ".join(b.sources)}'
        )
        at = (script.launch.shown, line) if line and where == f"{script.launch.shown} line {line}" else (None, None)
        out.append(_finding(b, f"{b.title} (will not start: `{flag}`)", True, message, at[1], file=at[0]))
    return out


# trl 0.19.0 trl/scripts/utils.py:208 (the recipe's `env` is popped), :215 and :259 (set_defaults_with_config hands back the
# keys no argument's dest is), :226-230 (ValueError "Unknown arguments from config file" unless fail_with_unknown_args=False);
# 0.21.0 the same lines; 0.24.0 :342,349,393,360; 1.16.0 :333,340,386,353
LAUNCH_CONFIG_KEYS_AT = "trl 0.19.0 trl/scripts/utils.py:208,215,226-230,259; 0.24.0 :342,349,360,393; 1.16.0 :333,340,353,386"


def _config_keys_unknown(
    loaded: LoadedConfig, b: Blocker, script: str, parse_line: int, fields: set[str], version: str, commands: bool = False, certain: bool = True
) -> list[Finding]:
    """The recipe's own top-level keys none of the TrlParser's dataclasses has, where TrlParser raises on them
    (LAUNCH_CONFIG_KEYS_AT; trl.commands' TrlParser of trl 0.9.6-0.12.2 where `commands`: LAUNCH_CONFIG_KEYS_COMMANDS_AT).
    A key some TRL config class or TrainingArguments had at a release goblin read is keys_at_version's (renamed or
    removed there): only keys of no class goblin tracks are said here. `certain`: the release is pinned (a blocker),
    else held by the script's own evidence, assumed (a requirement)."""
    from .frameworks.history import ever, history

    data = loaded.adapter.framework_data(loaded.data)
    if not isinstance(data, (dict, YamlMap)):
        return []
    trl_classes = list(history().get("trl", {}).get("classes", {}))
    out: list[Finding] = []
    for key in data:
        if not isinstance(key, str) or key == "env" or key in fields or key.replace("-", "_") in fields:
            continue
        if ever("transformers", "TrainingArguments", key) or any(ever("trl", c, key) for c in trl_classes):
            continue
        _ok, _value, line = raw_key(loaded, key)
        said, source = (
            ("Some specified config arguments are not used by the TrlParser: {...}", LAUNCH_CONFIG_KEYS_COMMANDS_AT)
            if commands
            else ("Unknown arguments from config file: [...]", LAUNCH_CONFIG_KEYS_AT)
        )
        stops = (
            "so the run stops at start-up on any GPU"
            if certain
            else "so on that release the run stops at start-up (trl 0.8.x and older only warn and drop it, so the setting does nothing)"
        )
        message = (
            f"`{key}` (line {line}) is a field of none of the dataclasses the TrlParser of {script} is built from (at {version}); "
            f"{script}:{parse_line} calls parse_args_and_config() on this file, which sets its keys as the parser's defaults and raises "
            f'ValueError("{said}") on the keys no argument takes ({source}), {stops}. What to change: remove the key, rename it to the '
            f"field it means, or add it to the script's own dataclass. Source: {source}; {b.sources[-1]}"
        )
        near = difflib.get_close_matches(key, sorted(fields), n=1, cutoff=0.75)
        if near:
            message = message.replace(" What to change: ", f" The nearest field is `{near[0]}`. What to change: ", 1)
        title = f"{b.title} (will not start: `{key}` in this file)" if certain else f"{b.title} (`{key}` in this file)"
        out.append(_finding(b, title, certain, message, line, key=key))
    return out


def _ver(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3])


def _cuda_repository_image(loaded: LoadedConfig, hw: Hardware, b: Blocker) -> list[Finding]:
    """A CUDA-only image the repository builds or names for the config (formats/container.repository_cuda_images: the
    framework image its release was read from, a Dockerfile of its folders) that is not on the launch path goblin found
    (that one is `blocker.cuda_container_image`): a requirement, since the config may be run in another image."""
    from .formats.container import cuda_launch_path, repository_cuda_images

    if hw.vendor != "amd":
        return []
    on_path = {(s.file, s.line) for s in cuda_launch_path(loaded.workload)}
    out = []
    for seen in repository_cuda_images(loaded.workload, loaded.text):
        if (seen.file, seen.line) in on_path:
            continue
        said = seen.text.replace("`", "'")
        what = (
            "the framework image the release was read from"
            if seen.how.startswith("framework image")
            else "the base image of a Dockerfile of the config's folders"
        )
        message = f"{seen.file}:{seen.line}: `{said}` ({what}): {b.symptom}. What to change: {b.guidance}. Source: {'; '.join(b.sources)}"
        out.append(_finding(b, f"{b.title} (`{said.split(' (', 1)[0]}`)", False, message, seen.line, file=seen.file))
    return out


def _finding(
    b: Blocker, title: str, blocker: bool, message: str, line: int | None, key: str | None = None, fix: dict[str, Any] | None = None, file: str | None = None
) -> Finding:
    """One blocker-table finding: a blocker where the run stops on the target, a requirement (shown with the footguns)
    where that is not certain; `file`: the file `line` is in where that is not the config."""
    return Finding(
        rule_id=b.id,
        title=title,
        category="blocker" if blocker else "requirement",
        line=line,
        file=file,
        key=key,
        message=message,
        citation=b.citation,
        footgun=not blocker,
        blocker=blocker,
        fix=fix,
    )


def _key_finding(b: Blocker, key: str, shown: str, line: int | None, message: str, fix: dict[str, Any] | None, file: str | None = None) -> Finding:
    """A blocker.keys_*_at_version finding: a blocker where the run stops, a requirement where that is not known."""
    blocker = b.severity == "blocker"
    return _finding(b, f"{b.title} ({'will not start' if blocker else 'check the release it runs on'}: `{shown}`)", blocker, message, line, key, fix, file)


def _script_parse(path: str) -> tuple[tuple[str, int, dict[str, Any]], dict[str, int]] | None:
    """The TrlParser.parse_args_and_config call of the script the repository's launch line runs on this YAML/JSON file
    (formats/launched.py), which decides what happens to a key no dataclass reads (history.trl_parser_stops), and the
    attributes that script reads."""
    if not path.endswith((".yaml", ".yml", ".json")):
        return None
    from .formats.launched import launched_script

    launched = launched_script(path)
    if launched is None or launched.trl_parse is None:
        return None
    line, kwargs = launched.trl_parse
    return (launched.script, line, kwargs), launched.attrs_read


def _trl_side_read(path: str) -> bool:
    """Whether TRL's side classes (ModelConfig, ScriptArguments ...) may read a YAML/JSON recipe: False only where the script
    its launch line runs parses it into argument classes none of which is one of them (MiuLab/FactAlign run_kto.py:68
    H4ArgumentParser((ModelArguments, DataArguments, FGKTOConfig)), alignment-handbook's ModelArguments: TRL
    ModelConfig's key history is not that class's; review12b C3 row 37)."""
    from .frameworks.history import _TRL_SIDE

    if not path.endswith((".yaml", ".yml", ".json")):
        return True
    from .formats.launched import launched_script

    launched = launched_script(path)
    if launched is None or not launched.parser_classes:
        return True
    return any(c in _TRL_SIDE or c.endswith("ScriptArguments") for c in launched.parser_classes)


def _rejected(parser: str, classes: tuple[str, ...], keys: list[str], pinned: dict[str, Pin], text: str, path: str) -> KeyCheck | None:
    """The keys the release rejects; only when some are is the repository's own Python read (its argument classes'
    fields, which accept a key the framework dropped), since that walks the tree."""
    from .formats.spread_args import spread_into
    from .frameworks.history import reading, rejected, repository_fields

    spread: str | None = None
    if parser == "transformers" and (into := spread_into(path)) is not None:
        spread = (
            f"the script that runs it, {into.script}, passes the file's keys at line {into.line} to {into.cls}(**{into.name}), whose __init__ takes only"
            f" its fields, so a key it lacks raises TypeError at start ({_DATACLASS_INIT})"
        )
        got = rejected(parser, classes, keys, pinned, text, frozenset(), spread=spread)
        return None if got is None else rejected(parser, classes, keys, pinned, text, repository_fields(path), spread=spread)

    # an unpinned TRL recipe is read at the newest release with its keys (history.reading): judged there too
    # (at the recipe's own config class's range, as its record is: history.reading reads the class from the label)
    label = f"trl ({next((c for c in classes if c.endswith('Config')), '')})" if classes else "trl"
    trl_read = reading(label, path, text) if parser == "trl" and "trl" not in pinned else None
    side = _trl_side_read(path)
    got = rejected(parser, classes, keys, pinned, text, frozenset(), trl_read, side_read=side)
    if got is not None and got.rejected:
        script = _script_parse(path) if parser == "trl" else None
        got = rejected(parser, classes, keys, pinned, text, repository_fields(path), trl_read, script[0] if script else None, side_read=side)
        if got is not None and script is not None:
            got = dataclasses.replace(got, script_reads=script[1])
    return got


def _key_check(loaded: LoadedConfig, data: dict[Any, Any]) -> KeyCheck | None:
    """The keys of a YAML recipe the release it runs on rejects (_keys_at_version), or None."""
    from .frameworks import parser_for
    from .frameworks.history import repository_fields
    from .frameworks.pins import pins
    from .frameworks.releases import llamafactory_rejected, torchtune_rejected

    declared = _script_class(loaded)
    parser, classes = parser_for(loaded.adapter.name, data, declared, str(loaded.path), loaded.text)
    path = str(loaded.path)
    keys, pinned = [k for k in data if isinstance(k, str)], pins(path, loaded.text)
    if loaded.adapter.name == "hf-trainer" and path.endswith((".yaml", ".yml", ".json")):
        from .formats.launched import launched_script

        # a recipe the script loads itself and passes key by key (launched.Launched.dict_reads, review8b #28): a key it
        # never reads cannot stop the run
        launched = launched_script(path)
        fit = launched.dict_reads(keys) if launched is not None else None
        if fit is not None:
            keys = [fit[3][k][0] for k in keys if k in fit[3]]
    framework_pin = pinned.get("torchtune" if loaded.adapter.name == "torchtune" else parser or "")
    if framework_pin is not None and framework_pin.kind == "commit" and not framework_pin.version:
        # pinned to a commit goblin's history does not place (frameworks/commits.py): judging its keys against the newest
        # release would speak of a release it does not run. A placed one (review3 X-R1: trl@...@019fc6d, 33 commits after
        # v0.15.0) is judged against the releases on both sides (history.has)
        return None
    if loaded.adapter.name == "torchtune":
        return torchtune_rejected(data, pinned)
    if parser == "llamafactory":
        got = llamafactory_rejected(keys, pinned, loaded.text, frozenset())
        if got is not None and got.rejected:
            got = llamafactory_rejected(keys, pinned, loaded.text, repository_fields(path))
        return got
    if parser in ("trl", "transformers"):
        return _rejected(parser, tuple(classes), keys, pinned, loaded.text, path)
    return None


def _keys_at_version(loaded: LoadedConfig, hw: Hardware, b: Blocker, checked: dict[str, Any] | None = None) -> list[Finding]:
    """_recipe_keys_at_version, and for a HF/TRL YAML/JSON recipe the TRL trainer keywords of the script its launch line
    runs on it that the release rejects (_trainer_kwargs_at_version)."""
    own = _recipe_keys_at_version(loaded, hw, b, checked)
    return own + (_trainer_kwargs_at_version(loaded, b) if loaded.adapter.name == "hf-trainer" else [])


def _recipe_keys_at_version(loaded: LoadedConfig, hw: Hardware, b: Blocker, checked: dict[str, Any] | None = None) -> list[Finding]:
    """One finding per key the transformers/TRL release the recipe runs on does not have (frameworks/history.py), or
    its pinned LLaMA-Factory release / torchtune dataset builder has no field for (frameworks/releases.py):
    a blocker where the parser that reads the file stops on it, a requirement where that is not known or it
    drops the key (then the key does nothing). An exact rename is the fix, where the run's release has the new key.
    `checked`: where findings() keeps the keys' check for the other entry of the pair (blocker / requirement)."""
    from .frameworks.history import rename_keeps_value

    data = loaded.adapter.framework_data(loaded.data)  # a wrapper file's own keys are not the framework's
    if loaded.adapter.name == "python":
        return _launch_keys_at_version(loaded, b) + _code_keys_at_version(loaded, b) + _trainer_kwargs_at_version(loaded, b)
    if not isinstance(data, dict):
        return []
    checked = {} if checked is None else checked
    if "keys_at_version" not in checked:
        checked["keys_at_version"] = _key_check(loaded, data)
    got = checked["keys_at_version"]
    if got is None:
        return []
    declared = getattr(data, "config_class", None)
    if "keys_container" not in checked:
        checked["keys_container"] = _container_of(loaded, got)
    container = checked["keys_container"]
    out = []
    for r in got.rejected:
        # a key judged at an assumed release (no pin, or an open range pip fills with the newest) is a requirement, as every
        # other release-dependent check is (README "Framework tables"; review12b C2/C3 rows 29, 30): the repository may
        # run an older release that accepts it. In a container goblin cannot read, the image's release decides (review11b #32)
        stops = got.stops is True and r.certain and not r.assumed
        if stops != (b.severity == "blocker") or (not stops and got.parser == "llamafactory" and got.stops is not True):
            continue  # the other entry (blocker / requirement) reports it; LLaMA-Factory keys it may keep: nothing
        _ok, value, line = raw_key(loaded, r.key)
        shown = "null" if value is None else _shown(value)  # as YAML writes it: a report never says Python's None
        said = f"`{r.key}: {shown}`".replace("\n", " ")[:160] if not isinstance(value, (dict, list)) else f"`{r.key}`"
        fix: dict[str, Any] | None = None
        instead = ""
        if r.rename is not None and rename_keeps_value(r.rename, value):
            instead = f"; `{r.rename.new}` takes the same value ({r.rename.cite})"
            if b.severity == "blocker":
                bad = check_writes(
                    loaded.adapter.name, str(loaded.path), loaded.text, {k: v for k, v in data.items() if k != r.key}, {r.rename.new: value}, declared
                )
                if not bad and _reads_back_renamed(loaded, r.key, r.rename.new, value):
                    fix = {r.key: {RENAME: r.rename.new}}
        elif r.rename is not None:
            instead = f"; `{r.rename.new}` replaces it, but not with the same value here ({r.rename.cite})"
        # the parser is known to drop the key (got.stops False): it does nothing, said without the KB's hedge; unless the
        # script reads an attribute of that name itself (review6b #28 sft_train.py:45 `model_args.torch_dtype`)
        how = got.stops_how
        reads = got.script_reads.get(r.key) if got.stops is False else None
        if reads is not None:
            how = f"{how.split(', so these do nothing', 1)[0]}; the script itself reads `.{r.key}` (line {reads}), which this key does not set there"
        symptom = (
            "What that line does at this release goblin does not judge. "
            if reads is not None
            else ""
            if got.stops is False and r.certain and got.parser != "llamafactory"
            else "So at that release the run would not start. "
            if got.stops is True and r.certain and r.assumed
            else "So the run does not start on any GPU. "
            if got.spread and got.stops is True and r.certain and not r.assumed
            else f"{b.symptom}. "
        )
        message = (
            f"{said}{f' (line {line})' if line else ''}: {r.why}{instead}. Versions: {got.versions}. {how[0].upper()}{how[1:]}. "
            f"{symptom}{_unpinned_said(r, container).lstrip()}{' ' if r.assumed and r.dist else ''}What to change: {b.guidance}. Source: {'; '.join(b.sources)}"
        )
        out.append(_key_finding(b, r.key, r.key, line, message, fix))
    return out


def _class_keys(dist: str, cls: str) -> list[str]:
    """Every key the class had at any release in the key history."""
    from .frameworks.history import history

    entry = history().get(dist, {}).get("classes", {}).get(cls)
    return list(entry["keys"]) if entry else []


# A dataclass's generated __init__ takes its fields as parameters and nothing else (CPython 3.11.7
# Lib/dataclasses.py _init_fn / _process_class), so a keyword the class lacks raises TypeError at the call.
_DATACLASS_INIT = "CPython 3.11.7 Lib/dataclasses.py _init_fn: a dataclass's __init__ has only its fields as parameters"


def _code_keys_at_version(loaded: LoadedConfig, b: Blocker) -> list[Finding]:
    """The keywords a Python script passes to its TrainingArguments / TRL config class in code
    (`SFTConfig(max_seq_length=...)`) that the release it runs on lacks: the call raises TypeError (review3:
    smollm train.py:98 with `trl>=0.15`, SFTConfig has no max_seq_length from trl 0.20). A blocker on a pinned
    release, a requirement on the newest release assumed for an unpinned one, nothing on a commit goblin cannot place between two releases; never written."""
    from .formats.pyscript import Script
    from .frameworks import parser_for
    from .frameworks.pins import pins

    script = loaded.data
    if not isinstance(script, Script) or script.args_call is None or script.config_class is None:
        return []
    path = str(loaded.path)
    parser, classes = parser_for("python", script.values, script.config_class, path, loaded.text)
    if parser not in ("trl", "transformers"):
        return []
    pinned = pins(path, loaded.text)
    pin = pinned.get(parser)
    if pin is not None and pin.kind == "commit" and not pin.version:
        return []  # a build between releases goblin's history does not place: not judged against one it does not run
    # a blocker on a pinned release of the class's framework; a requirement on the newest, assumed (also where an open
    # range such as `>=4.43.0` lets pip install it: review4 #31)
    if _release_known(parser, pinned) != (b.severity == "blocker"):
        return []
    lines = {kw.arg: kw.value.lineno for kw in script.args_call.keywords if kw.arg}
    # a key of a loaded settings file the call takes through `**` (formats/dictcfg.py) reaches the class as a keyword too
    spread = {k: v for k, v in script.args_spread.items() if k not in lines}
    got = _rejected(parser, tuple(classes), [*lines, *spread], pinned, loaded.text, path)
    if got is None:
        return []
    call = f"{script.config_class}(...)"
    container = _container_of(loaded, got)
    out = []
    for r in got.rejected:
        if r.key in spread:
            out.append(_spread_key_finding(b, r, got.versions, call, spread[r.key], container))
            continue
        line = lines[r.key]
        instead = f"; pass `{r.rename.new}=` instead ({r.rename.cite})" if r.rename is not None else ""
        stops = "so at that release the run would not start" if r.assumed else "so the run does not start on any GPU"
        message = (
            f"`{r.key}=` in {call} (line {line}): {r.why}{instead}. Versions: {got.versions}. The call raises TypeError on a keyword "
            f"the class lacks ({_DATACLASS_INIT}), {stops}.{_unpinned_said(r, container)} What to change: line {line} of the script "
            "(pass the new name, drop the keyword, or pin the release the script was written for); goblin does not rewrite code"
        )
        out.append(_key_finding(b, r.key, f"{r.key}=", line, message, None))
    return out


def _trainer_kwargs_at_version(loaded: LoadedConfig, b: Blocker) -> list[Finding]:
    """The literal keywords a script passes to a TRL trainer constructor (`SFTTrainer(tokenizer=...)`,
    `DPOTrainer(beta=...)`) or transformers' Trainer / Seq2SeqTrainer (`Trainer(tokenizer=...)`, gone in 5.0) that the
    release it runs on no longer takes (frameworks/trainer_kwargs.py; blind review 13b rows 25, 28-30), directly or
    through a repository subclass that hands them on (formats/trainer_subclass.py; row 29 DiscoPOP GPOTrainer): the call
    raises TypeError at start-up. A blocker on a release the pin fixes, a requirement on the newest one assumed;
    nothing where the table does not hold the release (or the class takes `**kwargs`), on a commit goblin cannot
    place, or for a call with `**`."""
    from .formats.trainer_subclass import subclass_calls
    from .frameworks.trainer_kwargs import trainer_calls

    path = str(loaded.path)
    file: str | None = None
    if loaded.adapter.name == "python":
        calls = trainer_calls(loaded.text) + subclass_calls(path)
        shown = "the script"
    else:
        # a YAML/JSON recipe: the calls of the script its launch line runs on it (review13b rows 28-30: CheXalign
        # scripts/run_dpo.py:169 DPOTrainer(beta=..., tokenizer=..., max_length=...) for config_chexagent_dpo.yaml)
        script = _launched_script_text(path)
        if script is None:
            return []
        file, shown, text = script
        calls = trainer_calls(text) + subclass_calls(file)
        shown = f"the script {shown}"
    out: list[Finding] = []
    for dist in ("trl", "transformers"):
        mine = [c for c in calls if c.dist == dist]
        if mine:
            out += _trainer_kwargs_of(loaded, b, dist, mine, file, shown)
    return out


def _trainer_kwargs_of(loaded: LoadedConfig, b: Blocker, dist: str, calls: list[Any], file: str | None, shown: str) -> list[Finding]:
    from .frameworks.history import run_version
    from .frameworks.pins import pins
    from .frameworks.trainer_kwargs import cite, last_accepting, rejects

    path = str(loaded.path)
    pinned = pins(path, loaded.text)
    if (held := pinned.get(dist)) is not None and held.kind == "calls":
        # the release these very calls hold the run to (pins._held_by_calls) is no pin: pip installs the newest
        pinned = {d: p for d, p in pinned.items() if d != dist}
    pin = pinned.get(dist)
    if pin is not None and pin.kind == "commit" and not pin.version:
        return []
    if _release_known(dist, pinned) != (b.severity == "blocker"):
        return []
    run = run_version(dist, pin)
    if run is None:
        return []
    at = [run.version, *([run.also] if run.also else [])]  # a placed commit: rejected only where both releases reject
    out = []
    for call in calls:
        for key, line in call.keywords:
            if not all(rejects(v, call.cls, key, dist) is True for v in at):
                continue
            last = last_accepting(call.cls, key, run.version, dist)
            before = f"; {dist} {last} is the newest release goblin read whose {call.cls} still takes it" if last else ""
            stops = "so at that release the run would not start" if run.assumed else "so the run does not start on any GPU"
            via = f"; {call.via}" if call.via else ""
            moved = "the trainer's config class or processing_class" if dist == "trl" else "processing_class or TrainingArguments"
            message = (
                f"`{key}=` in {call.written}(...) ({'' if file is None else shown + ' '}line {line}){via}: {run.how}; {call.cls}.__init__ there has no parameter `{key}` "
                f"({cite(run.version, call.cls, dist)}){before}. The call raises TypeError on an unexpected keyword argument, {stops}. "
                f"What to change: line {line} of {shown} (move the setting to {moved}, "
                "drop the keyword, or pin the release the script was written for); goblin does not rewrite code"
            )
            out.append(_key_finding(b, key, f"{key}=", line, message, None, file))
    return out


def _launched_script_text(path: str) -> tuple[str, str, str] | None:
    """(absolute file, file shown, text) of the Python script a launch line runs on this YAML/JSON recipe, or None."""
    if not path.endswith((".yaml", ".yml", ".json")):
        return None
    from pathlib import Path

    from .formats.launched import launched_script
    from .safepath import repository_root

    launched = launched_script(path)
    root = repository_root(Path(path))
    if launched is None or root is None or not launched.script.endswith(".py"):
        return None
    target = root / launched.script
    # inside the repository, bounded and never a FIFO or a link out of the tree, as launched.launched_script read it
    text = text_or_empty(target, roots=[root])
    return (str(target), launched.script, text) if text else None


def _unpinned_said(r: Rejected, container: str | None) -> str:
    """For a key judged at a release goblin assumed (no pin, or a range pip fills with the newest: review11b #21-#32), what
    the message adds: that the repository leaves the release open, the newest release goblin read that still accepts the
    key, and what to do; and the container the launch line runs the config in, whose release decides (not read)."""
    if not r.assumed or not r.dist:
        return ""
    said = f" The repository does not fix its {r.dist} release, so goblin judged the newest it knows (above)"
    if r.last:
        said += f"; {r.dist} {r.last} is the newest release goblin read that still accepts `{r.key}`: pin `{r.dist}=={r.last}` where the recipe was written for it, or rename or drop the key"
    if container:
        said += f". The launch line runs it in the container {container}, whose {r.dist} goblin cannot read: the release the image holds decides whether the key is accepted"
    return said + "."


def _container_of(loaded: LoadedConfig, got: KeyCheck) -> str | None:
    """The container the launch line runs the config in (formats/container.launch_container), read only where a key was
    judged at an assumed release."""
    from .formats.container import launch_container

    return launch_container(loaded.workload) if any(r.assumed for r in got.rejected) else None


def _spread_key_finding(b: Blocker, r: Rejected, versions: str, call: str, where: tuple[str, int | None, int], container: str | None = None) -> Finding:
    """A key of a loaded settings file that reaches the config class through `**` (`TrainingArguments(**cfg["training"])`)
    and that the release lacks: the call raises TypeError as for a written keyword. The edit is in the settings file."""
    file, at, line = where
    place = f"{file} line {at}" if at else file
    instead = f"; `{r.rename.new}` takes its place ({r.rename.cite})" if r.rename is not None else ""
    message = (
        f"`{r.key}` ({place}) reaches {call} as a keyword through the `**` at line {line} of the script: {r.why}{instead}. "
        f"Versions: {versions}. The call raises TypeError on a keyword the class lacks ({_DATACLASS_INIT}), "
        f"{'so at that release the run would not start' if r.assumed else 'so the run does not start on any GPU'}.{_unpinned_said(r, container)} "
        f"What to change: `{r.key}` in {place} (rename or drop it, or pin the release the script was written for)"
    )
    return _key_finding(b, r.key, r.key, line, message, None)


def _release_known(dist: str, pinned: dict[str, Pin]) -> bool:
    """Whether the repository's pin says which release of `dist` runs: an exact pin, a range whose newest allowed release
    goblin read is older than the newest it knows, a placed commit. An open range (`transformers>=4.43.0`) lets pip install
    whatever is newest, which goblin assumes (history.run_version: assumed), as it does with no pin: a requirement then."""
    from .frameworks.history import run_version

    run = run_version(dist, pinned.get(dist)) if dist in pinned else None
    return run is not None and not run.assumed


def _launch_keys_at_version(loaded: LoadedConfig, b: Blocker) -> list[Finding]:
    """The keys a Python script's launch line passes through HfArgumentParser/TrlParser that the
    transformers/TRL release it runs on does not have (review2: `--evaluation_strategy` to stanford_alpaca's
    and FastChat's train.py at transformers 5.x). A blocker where the script's parse stops on an argument no
    dataclass reads (parse_args_into_dataclasses: formats/pycommand.HF_PARSE_AT) on a pinned release, a requirement
    on the newest release assumed for an unpinned one; nothing where the script keeps unknown arguments. Never
    written: the edit belongs in the launch line, which the finding names."""
    from .formats.pycommand import HF_PARSE_AT, TRL_PARSE_AT, TRL_PARSE_READ, typed_word
    from .formats.pyscript import Script
    from .frameworks import parser_for
    from .frameworks.history import present, rename_keeps_value, run_version
    from .frameworks.pins import pins

    script = loaded.data
    if not isinstance(script, Script) or not script.launch_keys or script.launch is None or script.parser_call is None:
        return []
    if script.launch_stops is not True:
        return []  # the script keeps what its parser does not know (return_remaining_strings, parse_known_args)
    path = str(loaded.path)
    parser, classes = parser_for("python", script.values, script.config_class, path, loaded.text)
    if parser not in ("trl", "transformers"):
        return []
    # argparse takes a unique prefix of an option (allow_abbrev defaults to True, CPython 3.11.7 Lib/argparse.py:1749;
    # formats/pycommand.CommandLine._abbreviations):
    # a key that begins a field name of the release it runs on (or of one goblin cannot place) is not judged
    pinned = pins(path, loaded.text)
    # a blocker on a pinned release; on the newest release assumed for an unpinned one, a requirement
    if (_release_known("transformers", pinned) or (parser == "trl" and _release_known("trl", pinned))) != (b.severity == "blocker"):
        return []
    runs = {dist: run_version(dist, pinned.get(dist)) for dist in ("transformers", "trl")}
    trl_parse = script.launch_parse == "parse_args_and_config"
    if trl_parse and (parser != "trl" or (run_trl := runs["trl"]) is None or run_trl.version != TRL_PARSE_READ):
        return []  # TrlParser's stop on an unknown argument is read at one release only (TRL_PARSE_AT)
    fields = [
        k
        for dist, cls in (("transformers", "TrainingArguments"), *(("trl", c) for c in classes))
        for k in _class_keys(dist, cls)
        if (run := runs[dist]) is None or present(dist, cls, k, run.version) is not False
    ]
    keys = [k for k in script.launch_keys if not any(f != k and f.startswith(k) for f in fields)]
    if trl_parse:
        # the TrlParser's own classes are the script's: their fields are already out of launch_keys (formats/pycommand),
        # so another file's dataclass with a field of that name (review7b #33: malaya's dpo.py scripts) does not excuse it
        from .frameworks.history import reading, rejected

        got = rejected(parser, tuple(classes), keys, pinned, loaded.text, frozenset(), reading(f"trl ({script.config_class})", path, loaded.text))
    else:
        got = _rejected(parser, tuple(classes), keys, pinned, loaded.text, path)
    if got is None:
        return []
    how = (
        f"{loaded.path.name} parses its command line with TrlParser.parse_args_and_config() (line {script.parser_call.lineno}), which hands it to "
        f"parse_args_into_dataclasses() without keeping unknown arguments ({TRL_PARSE_AT}) and so stops with ValueError on an argument no dataclass reads ({HF_PARSE_AT})"
        if trl_parse
        else f"{loaded.path.name} parses its command line with parse_args_into_dataclasses() (line {script.parser_call.lineno}), which stops with ValueError on an argument no dataclass reads ({HF_PARSE_AT})"
    )
    container = _container_of(loaded, got)
    out = []
    for r in got.rejected:
        flag, raw, line = script.launch_keys[r.key]
        where = script.launch.where(line)
        said = f"`{flag}{'' if raw is None else ' ' + raw}`"[:160]
        instead = ""
        if r.rename is not None:
            value = typed_word(raw, None) if raw is not None else True
            keeps = rename_keeps_value(r.rename, value)
            instead = (
                f"; pass `--{r.rename.new}` instead ({r.rename.cite})"
                if keeps
                else f"; `--{r.rename.new}` replaces it, but not with the same value here ({r.rename.cite})"
            )
        message = (
            f"{said}, passed by {where}: {r.why}{instead}. Versions: {got.versions}. {how}. "
            f"{b.symptom}.{_unpinned_said(r, container)} What to change: {b.guidance}; the key is in the launch line ({where}), not in this script. Source: {'; '.join(b.sources)}"
        )
        # anchored at the launch line's own file and line (README.md:142), where `where` names one (not a notebook cell)
        at = (script.launch.shown, line) if line and where == f"{script.launch.shown} line {line}" else (None, None)
        out.append(_key_finding(b, r.key, f"--{r.key}", at[1], message, None, at[0]))
    return out


def _reads_back_renamed(loaded: LoadedConfig, old: str, new: str, value: Any) -> bool:
    from .errors import GoblinError
    from .formats import parse_text

    text, missed = loaded.adapter.apply_keys(loaded.text, loaded.data, {old: {RENAME: new}})
    if missed or text == loaded.text:
        return False
    try:
        data, adapter = parse_text(loaded.path, text)
    except GoblinError:
        return False
    return adapter.name == loaded.adapter.name and isinstance(data, dict) and old not in data and data.get(new) == value


def _reads_back(loaded: LoadedConfig, key: str, value: Any) -> bool:
    """Whether the file, with the key written, still reads as the same format and says `key: value`
    (one scalar changes: the rest of the file reads as before)."""
    from .errors import GoblinError
    from .formats import parse_text

    text, missed = loaded.adapter.apply_keys(loaded.text, loaded.data, {key: value})
    if missed or text == loaded.text:
        return False
    try:
        data, adapter = parse_text(loaded.path, text)
        if adapter.name != loaded.adapter.name:
            return False
    except GoblinError:
        return False
    ok, new, _ = raw_key(LoadedConfig(path=loaded.path, text=text, data=data, adapter=adapter, workload=loaded.workload), key)
    return ok and new == value


def _shown(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def counted(ids: list[str]) -> str:
    """Rule ids once each, in order, with how many findings each has (`blocker.keys_rejected_at_version x7`)."""
    seen: dict[str, int] = {}
    for rid in ids:
        seen[rid] = seen.get(rid, 0) + 1
    return ", ".join(f"{rid} x{n}" if n > 1 else rid for rid, n in seen.items())


def blocked_reason(blocked: list[Finding], target: str) -> str:
    """The verdict's reason when the run will not start: every blocker, what to change first."""
    names = counted([f.rule_id for f in blocked])
    fixable = sum(1 for f in blocked if f.fix)
    tail = f"; --goblin-fix writes {fixable} of the fixes" if fixable else ""
    return f"will not start on {target}: {len(blocked)} blocker(s) ({names}); fix them before any speedup matters{tail}"


_TRAILING_NOTE = re.compile(r" \([^()]*\)$")  # a source's closing "(what it shows)"


def readme_table(blockers: tuple[Blocker, ...] | list[Blocker] | None = None) -> str:
    """The README's table of the blockers goblin knows (tests keep the README equal to it)."""
    rows = ["| id | kind | what stops the run | --goblin-fix writes | source |", "|---|---|---|---|---|"]
    for b in cached_blockers() if blockers is None else blockers:
        fix = (
            f"`{b.keys[0]}: {_shown(b.fix)}`"
            if b.fix is not None and b.keys
            else "an exact rename (`old` -> `new`)"
            if b.check == "keys_at_version" and b.severity == "blocker"
            else "guidance only"
        )
        source = _TRAILING_NOTE.sub("", b.sources[0])
        rows.append(f"| `{b.id}` | {b.severity} | {b.title.replace('|', '/')} | {fix} | {source} |")
    return "\n".join(rows)


# The function that reads each blocker entry's `check` (schemas.Blocker.check; keys_at_version, which shares its answer
# between a blocker and its requirement entry, is called on its own): those that read the config and its repository
# alone, and those that also name the target GPU in what they say.
_CHECKS_OF_CONFIG: dict[str, Callable[[LoadedConfig, Blocker], list[Finding]]] = {
    "module_removed_at_version": _module_removed,
    "model_type_unknown_at_version": _model_type_unknown,
    "grpo_generation_batch": _grpo_generation_batch,
    "grpo_eval_batch": _grpo_eval_batch,
    "dpo_loss_type": _dpo_loss_type,
    "kto_kl_term": _kto_kl_term,
    "trl_config_raises": _trl_config_raises,
    "unsloth_load_raises": _unsloth_load_raises,
    "deepspeed_mismatch": _deepspeed_mismatch,
    "launch_args_unknown": _launch_args_unknown,
    "legacy_flash_kwarg": _legacy_flash_kwarg,
}
_CHECKS_OF_TARGET: dict[str, Callable[[LoadedConfig, Hardware, Blocker], list[Finding]]] = {
    "torch_rocm_build": _torch_rocm_build,
    "cuda_launch_path": _cuda_launch_path,
    "cuda_repository_image": _cuda_repository_image,
    "fp16_weights_in_script": _fp16_weights_in_script,
    "flash_attn_v1_import": _flash_attn_v1_import,
    "gfx_override": _gfx_override,
}
