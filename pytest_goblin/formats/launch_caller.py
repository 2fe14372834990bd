"""A launch script's node count from the script of the repository that runs it.

`torchrun --nnodes=$NNODES ...` in a script that never sets NNODES leaves the node count unknown
(`launch_line.NODES_UNSET`); where another script (or a README code block) of the repository runs that script
(`bash x.sh`, `sh x.sh`, `srun x.sh`, `./x.sh`, `source x.sh`: `launcher_text.ScriptRun`) with the variable set in
what the script's shell sees (a `NNODES=4 bash x.sh` prefix, an export, SLURM's SLURM_NNODES /
SLURM_JOB_NUM_NODES from an `#SBATCH --nodes`, or, for `source`, any value set for certain before it), that value
is the count. Every such caller is read (within the launcher walk's files, already parsed for the other launch lines
of the config); callers that disagree, or one that runs the script without the variable, leave the count unknown,
and the note says which. A script that assigns the variable itself (`NNODES=$1`) is not read this way: its own
assignment, not the caller's environment, decides.

SLURM sets SLURM_JOB_NUM_NODES / SLURM_NNODES in the job's environment to its node count (Slurm
doc/man/man1/sbatch.1:3330-3331, :3417-3418@284c3b95f0, as `launcher_text` reads them); a child shell sees the
exported variables of its parent, a sourced file every variable of the shell that sources it (GNU bash 5.2 manual,
3.7.4 Environment; 4.1 Bourne Shell Builtins, `.`/`source`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..safepath import UnsafePath, read_text
from .launch_line import NODES_UNSET, Launch
from .launch_naming import resolve_relative
from .launch_walk import launcher_candidates, read_launcher
from .launcher_text import MAX_BYTES

_ONE_VAR = re.compile(r"^\$\{?([A-Za-z_]\w{0,63})\}?$")
MAX_CALLERS = 8  # lines that run the launch script, read for its variable


def _assigns(text: str, name: str) -> bool:
    """True when the script assigns `name` itself anywhere (`NNODES=$1`, `export NNODES=2`, `read NNODES`,
    `${NNODES:=1}`): the caller's value may not be the one its command sees."""
    word = re.escape(name)
    return bool(
        re.search(rf"(?m)^[ \t]*(?:export[ \t]+|local[ \t]+|readonly[ \t]+|declare[ \t]+(?:-\w+[ \t]+)?)?{word}=", text)
        or re.search(rf"(?m)\bread\b[^\n]{{0,200}}\b{word}\b", text)
        or re.search(rf"\$\{{{word}:?=", text)
        or re.search(rf"(?m)\bfor[ \t]+{word}\b", text)
    )


def caller_nodes(found: Launch, config: Path, root: Path, roots: list[Path]) -> None:
    """Set `found`'s node count from the repository's scripts that run its launcher, where the launch line's node
    count is one variable the launcher never sets (`found.nodes_unset`); a note says where the value was read, or
    which callers disagree. Nothing changes where no caller runs the launcher."""
    m = _ONE_VAR.match(found.nodes_unset)
    launcher = Path(found.file)
    if m is None or launcher.suffix.lower() in (".md", ".markdown", ".ipynb", ".py"):
        return
    name = m.group(1)
    try:
        if _assigns(read_text(launcher, roots=roots, limit=MAX_BYTES), name):
            return
    except (UnsafePath, OSError):
        return
    said: list[tuple[str, str, int, str, str]] = []  # (value or "", file, line, how, where)
    for folder, path in launcher_candidates(config, root):
        if len(said) >= MAX_CALLERS:
            break
        if os.path.realpath(path) == str(launcher):
            continue
        lf = read_launcher(path, roots)
        if lf is None or not lf.runs:
            continue
        shown = os.path.relpath(lf.path, root) if lf.path.is_relative_to(root) else str(lf.path)
        for run in lf.runs:
            target, _ = resolve_relative(run.word, folder, root, run.cwd)
            if target is None or str(target) != str(launcher):
                continue
            got = next(((v, f, at, how) for k, v, f, at, how in run.values if k == name), None)
            where = f"{shown} line {run.line}"
            said.append((got[0], got[1], got[2], got[3], where) if got else ("", str(lf.path), run.line, "", where))
            if len(said) >= MAX_CALLERS:
                break
    if not said:
        return
    unset = found.nodes_unset
    values = {v for v, *_ in said}
    ran = f"`{Path(found.file).name}`"
    if len(values) == 1 and "" not in values:
        value, file, at, how, where = said[0]
        at_shown = os.path.relpath(file, root) if Path(file).is_relative_to(root) else file
        found.nodes, found.nodes_said, found.nodes_unset = int(value) or 1, True, ""
        found.nodes_at = (file, at)
        found.assumed = [a for a in found.assumed if not (a.startswith(f"node count `{unset}`") and NODES_UNSET in a)]
        others = f" ({len(said)} lines run it, all with {name}={value})" if len(said) > 1 else ""
        found.notes.append(f"node count `{unset}` is {value}: {where} runs {ran} with {name} {how} ({at_shown} line {at}){others}")
        return
    if values == {""}:
        wheres = ", ".join(where for *_, where in said)
        found.notes.append(f"node count `{unset}`: {wheres} {'runs' if len(said) == 1 else 'run'} {ran} without {name} set for it: it stays unknown")
        return
    listed = "; ".join(f"{where}: {name}={v}" if v else f"{where}: {name} not set for it" for v, _f, _a, _h, where in said)
    found.notes.append(f"node count `{unset}`: the lines that run {ran} do not agree, it stays unknown ({listed})")
