"""The run a shell or slurm launcher named on the command line launches (`pytest --goblin run.sh`): each launch line's
target, the training config (or Python script) it runs that goblin reads, found in the repository; nothing run.

The item that audits it is the launcher's (its node id), the target read with the launcher's lines looked at first
(`launch_walk.launched_by`): the launch line read is this file's."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .launch_forms import script_run
from .launch_line import short_command
from .launch_naming import resolve_relative
from .launch_walk import read_launcher, real_tree
from .launcher_text import Line
from .lf_flags import flags_of

SHELL_SUFFIXES = frozenset({".sh", ".bash", ".slurm", ".sbatch"})  # a launcher goblin audits as the run it launches
_CONFIG_WORDS = (".yaml", ".yml", ".json")  # a config file a launch line passes
# the value of a flag that passes a DeepSpeed, accelerate or FSDP settings file, not the run's config
_SETTINGS_FILE = re.compile(r"(?i)^--?\w*(?:deepspeed|ds_config|accelerate|fsdp)\w*$")


def is_shell_launcher(path: Path) -> bool:
    return path.suffix.lower() in SHELL_SUFFIXES


def walked_flags_run(path: Path) -> bool:
    """Whether a folder walk collects this launcher: its first launch line that runs anything goblin reads runs
    LLaMA-Factory on its flags alone (formats/lf_flags.py), a run no other file of the walk audits. A launcher whose first
    such line runs a config or script of the repository is not collected: that file is, as itself."""
    real, roots, root = real_tree(path)
    lf = read_launcher(real, roots)
    for line in lf.lines if lf is not None else ():
        if flags_of(line, real.parent, root) is not None:
            return True
        if line_targets(line, real.parent, root):
            return False
    return False


@dataclass(frozen=True)
class Chosen:
    """The one run a launcher launches that goblin reads, or why none is."""

    launcher: Path  # real path
    shown: str  # the launcher, relative to its repository root
    target: Path | None = None  # the config (or script) audited: None when none is read
    line: int = 0  # the launch line read
    why: str = ""  # with no target: the reason, naming the launcher's line and its target
    notes: tuple[str, ...] = field(default_factory=tuple)  # other launch lines whose targets are not audited here


def line_targets(line: Line, folder: Path, root: Path) -> list[Path]:
    """The files of the repository a launch line runs on: each config word (`.yaml`/`.yml`/`.json`, also as
    `--flag=x.yaml`) resolved as the line's own paths are, then the `.py` script it runs."""
    out: list[Path] = []
    at = next((i for i, tok in enumerate(line.tokens) if tok.endswith(".py") and not tok.startswith("-")), -1)
    words = line.tokens[at + 1 :]  # after the script it runs: not the launcher's own `--config_file` (accelerate's)
    for i, tok in enumerate(words):
        flag, _, word = tok.partition("=") if tok.startswith("-") and "=" in tok else (words[i - 1] if i else "", "", tok)
        if not word.lower().endswith(_CONFIG_WORDS) or "$" in word or word.startswith("-") or _SETTINGS_FILE.search(flag):
            continue
        found, _ = resolve_relative(word, folder, root, line.cwd)
        if found is not None and found.is_relative_to(root) and found not in out:
            out.append(found)
    script = script_run(line, folder, root)
    if script and Path(os.path.realpath(script)) not in out:
        out.append(Path(os.path.realpath(script)))
    return out


def choose(path: Path, reads: Callable[[Path], str | None]) -> Chosen:
    """The first launch line of `path` whose target `reads` accepts (`reads(target)` is None for a training config
    goblin reads, else why not); the other lines' targets said in notes. With none, the reason names the first line's
    target and why goblin does not read it."""
    real, roots, root = real_tree(path)
    shown = os.path.relpath(real, root)
    lf = read_launcher(real, roots)
    if lf is None:
        return Chosen(real, shown, why=f"{shown} could not be read as a launcher (outside the tree, too large, or not UTF-8 text)")
    if not lf.lines:
        return Chosen(
            real, shown, why=f"{shown} has no launch line (python, torchrun, accelerate launch, deepspeed, llamafactory-cli, tune run) that goblin reads"
        )
    chosen: tuple[Path, int] | None = None
    refused: list[str] = []
    others: list[str] = []
    flags_at = 0  # the first line running LLaMA-Factory on its flags alone: the launcher itself is that run's config
    for line in lf.lines:
        if flags_of(line, real.parent, root) is not None:
            if flags_at:  # goblin reads the first such line as the launcher's config (lf_flags.flags_line)
                if chosen is not None:
                    others.append(f"line {line.line} (LLaMA-Factory on its flags, `{short_command(line.tokens)}`)")
                continue
            flags_at = line.line
            targets = [real]
            rel = [f"the LLaMA-Factory run its flags make (`{short_command(line.tokens)}`)"]
        else:
            targets = line_targets(line, real.parent, root)
            rel = [os.path.relpath(t, root) for t in targets]
        if not targets and any(Path(t).name == "llamafactory-cli" for t in line.tokens):
            refused.append(f"line {line.line} (`{short_command(line.tokens)}`) runs LLaMA-Factory on no config file goblin reads")
            continue
        missing = next((t for t in line.tokens if t.endswith(".py") and not t.startswith("-")), "")
        if not targets and missing:
            refused.append(f"line {line.line} runs `{missing}`, which is not a file of the repository goblin can find (a checkout elsewhere?)")
            continue
        if not targets:
            refused.append(f"line {line.line} (`{short_command(line.tokens)}`) runs no config file or script of the repository that goblin reads")
            continue
        if chosen is not None:
            if chosen[0] not in targets:
                others.append(f"line {line.line} ({', '.join(rel)})")
            continue
        for target, name in zip(targets, rel, strict=True):
            why = reads(target)
            if why is None:
                chosen = (target, line.line)
                break
            refused.append(f"line {line.line} runs {name}, which goblin does not read: {why}")
    if chosen is None:
        return Chosen(real, shown, why=f"{shown}: " + "; ".join(refused[:3]) + (f"; and {len(refused) - 3} more" if len(refused) > 3 else ""))
    target, at = chosen
    what = "LLaMA-Factory on the flags of that line" if target == real else os.path.relpath(target, root)
    notes = [f"{shown} line {at} launches {what}: audited as that run, with this launch line"]
    if others:
        notes.append(
            f"{shown} also launches other runs, not audited here (the first launch line whose config goblin reads is): {', '.join(others[:4])}"
            + (f" and {len(others) - 4} more" if len(others) > 4 else "")
        )
    return Chosen(real, shown, target=target, line=at, notes=tuple(notes))
