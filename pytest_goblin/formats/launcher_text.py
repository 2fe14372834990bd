"""A launcher file read as text: its logical command lines (shell and slurm scripts, notebooks, Markdown
code blocks, cloud launcher YAML), variables expanded from its own assignments (nothing is run), and the
words of a launch command (`launcher_kind`, `module_file`, `word_path`, `var_pattern`)."""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..frameworks.pins import hash_comment_cut
from .nb_env import KernelSetting
from .npu_block import npu_lines
from .shell_branch import Branches

MAX_BYTES = 256_000  # a launcher or README larger than this is not read
NOTEBOOK_BYTES = 2_000_000  # a notebook (its outputs included) larger than this is not read


CONFIG_SUFFIXES = (".yaml", ".yml", ".json", ".py", ".toml")


Exported = tuple[str, str, str, int, bool]


@dataclass(frozen=True)
class Line:
    """One logical command (continuations joined, variables expanded) of a launcher file."""

    line: int  # 1-based line where the command starts
    tokens: tuple[str, ...]
    env: tuple[tuple[str, str], ...]  # variables in effect for it (the file's assignments and an inline prefix)
    place: str = ""  # in a notebook: "cell N line M" (`line` is then the .ipynb file's line)
    notes: tuple[str, ...] = ()  # how a command a Python file builds was read (formats/pylaunch.py)
    cwd: str = ""  # the folder a `cd` before it moved to (`_cd`): "" none, "@/x" from the launcher's folder, "?/x" from where it is run, "!" unknown
    reads: tuple[str, ...] = ()  # config files the file reads into a variable the line passes (`ARGS=$(build_args)` over `done < x.yaml`)
    # the command's words before expansion (`batch_size=$BATCH_SIZE`), and where each variable it names was set for certain:
    # (name, file (real path), line) for a literal assignment outside any branch or loop, in the file or a file it sources
    raw: tuple[str, ...] = ()
    origins: tuple[tuple[str, str, int], ...] = ()
    # a command written into a file by a here-document (`cat > "$INNER" << EOF` ... `EOF`): that file's word and the
    # lines of the body; `run_by` the `srun` line of this file that runs it (6a #19 llm-workshop job_multiGPU_QA.sh:89-147)
    written_to: str = ""
    body: tuple[int, int] = (0, 0)
    run_by: Line | None = None
    # a command a Modal function builds: the GPUs its container has (`gpu="H100:4"`, formats/pylaunch.py) and how read
    gpus: tuple[int, str] | None = None
    # a command one of whose lines ends without `\\` before bare `--flag` lines (`_broken_continuations`): the first of
    # those lines, read as its arguments as the author meant them (assumed); 0 for any other command
    joined_at: int = 0
    # the environment the launched process gets from the launcher (`launch_env`): (name, value, file (real path), line,
    # known): the file's exports before the line, in order (`unset` removes one), a sourced file's, the line's own
    # `NAME=value` prefix and `env NAME=value` words; `known` False for a value holding `$`/backticks or an export
    # inside an `if`/loop/function or after `&&`/`||` (its value in the run is unknown, not guessed)
    exported: tuple[Exported, ...] = ()
    # lines before it that source a file goblin did not read (a variable word, under a branch, outside the tree): that
    # file may export any variable, so one the launcher is not read to export is unknown, not unset (`launch_world`)
    unread_sources: tuple[int, ...] = ()
    # exported names whose value is their own `${X:-literal}` default: the literal unless the caller's environment sets X
    env_defaults: tuple[str, ...] = ()
    # a command a Python file builds inside an `if` whose test is not read: (its line, 0 body / 1 `else`, the test)
    # (formats/pylaunch.py); the other arm's command of another topology makes the topology ambiguous (launchers._count_others)
    branch: tuple[int, int, str] | None = None


@dataclass(frozen=True)
class LauncherFile:
    path: Path  # real path
    lines: tuple[Line, ...]
    sbatch: tuple[tuple[str, int, int], ...]  # (what, value, line): nodes, gpus_per_node, ntasks_per_node
    names: frozenset[str] = frozenset()  # the last path part of every word: a file that names no `x.yaml` is skipped unread
    globs: frozenset[str] = frozenset()  # the last path part of every word that is a glob (`configs/*.yaml` of a `for` loop)
    commented: tuple[Line, ...] = ()  # launch commands written as a shell comment (`# N_GPUS=2 modal run ... x.yaml`)
    cloud: tuple[str, ...] = ()  # a dstack/SkyPilot/PyTorchJob YAML (formats/cloud.py): what it asks for, said in every launch read from it
    npu: frozenset[int] = frozenset()  # a Markdown file's lines in code blocks that launch on Ascend NPUs (formats/npu_block.py)
    runs: tuple[ScriptRun, ...] = ()  # commands that run another shell script (`bash x.sh`, `srun ./x.sh`, `source x.sh`)


@dataclass(frozen=True)
class ScriptRun:
    """A command of a launcher that runs a shell script (`bash x.sh`, `sh x.sh`, `srun x.sh`, `./x.sh`, `source x.sh`),
    with what that script's shell sees from it: the variables set before the line, for a `source`/`.` (the same shell);
    else its `NAME=value` prefix, the file's exports and SLURM's node-count variables of its #SBATCH lines
    (formats/launch_caller.py reads a node count from it)."""

    line: int
    word: str  # the script as written (expanded)
    how: str  # the command word: bash, sh, zsh, srun, source, ., or the script itself (`./x.sh`)
    cwd: str  # Line.cwd
    values: tuple[tuple[str, str, str, int, str], ...]  # (name, value, file (real path) and line it was set at, how) of each integer it sees


MAX_RUNS = 32  # commands that run another shell script, kept per launcher file
_RUNNERS = ("bash", "sh", "zsh", "srun", "source", ".")
_RUN_SUFFIXES = (".sh", ".bash", ".zsh", ".slurm")
# `export NNODES=$SLURM_NNODES`: the job's node count, set by SLURM in the job's environment (see the #SBATCH note below)
_FROM_SLURM_NODES = re.compile(r"""^["']?\$\{?(?:SLURM_NNODES|SLURM_JOB_NUM_NODES)\}?["']?$""")


def _script_run(
    part: str,
    n: int,
    env: dict[str, str],
    exports: dict[str, Exported],
    assigned: dict[str, str],
    origin: dict[str, tuple[str, int]],
    slurm_line: dict[str, int],
    cwd: str,
    real: str,
) -> ScriptRun | None:
    """The ScriptRun of one command when it runs a shell script; None otherwise. A value is kept only where it is an
    integer and reaches the script: every variable of the shell for `source`/`.`; else a `NAME=value` prefix word, an
    export known for certain (or `export NAME=$SLURM_NNODES` under a #SBATCH node count), SLURM's own node counts."""
    try:
        words = _split(expand(part.strip(), env))
    except ValueError:
        return None
    inline: dict[str, str] = {}
    i = 0
    while i < len(words) and (a := re.match(r"^([A-Za-z_]\w*)=(.*)$", words[i])):
        inline[a.group(1)] = a.group(2)
        i += 1
    if i >= len(words):
        return None
    how = words[i]
    if how in _RUNNERS:
        rest = words[i + 1 : i + 12]
        if how == "srun":  # `srun -l bash x.sh`, `srun --export=ALL ./x.sh`: the first script word after its options
            target = next((w for w in rest if w.endswith(_RUN_SUFFIXES) and not w.startswith("-")), "")
        else:
            target = next((w for w in rest if not w.startswith("-")), "")
    elif how.endswith(_RUN_SUFFIXES) and "/" in how:  # `./x.sh`, `scripts/x.sh`
        target, how = how, "./"
    else:
        return None
    if not target.endswith(_RUN_SUFFIXES) or "$" in target:
        return None
    values: dict[str, tuple[str, str, int, str]] = {}
    for name in ("SLURM_NNODES", "SLURM_JOB_NUM_NODES"):
        if name in slurm_line and env.get(name, "").isdigit():
            values[name] = (env[name], real, slurm_line[name], "set by SLURM from the #SBATCH node count")
    for name, value, file, at, known in exports.values():
        if known and value.isdigit():
            values[name] = (value, file, at, "exported")
        elif not known and env.get(name, "").isdigit() and _FROM_SLURM_NODES.match(assigned.get(name, "")) and slurm_line and file == real:
            values[name] = (env[name], file, at, f"exported from {assigned[name].strip(chr(39) + chr(34))}, the #SBATCH node count")
    if how in ("source", "."):  # the same shell: every value set for certain before the line (Line.origins)
        for name, (file, at) in origin.items():
            if env.get(name, "").isdigit():
                values[name] = (env[name], file, at, "set in the same shell")
    for name, value in inline.items():
        if value.isdigit():
            values[name] = (value, real, n, "set on the command")
    return ScriptRun(n, target, how, cwd, tuple((k, *v) for k, v in sorted(values.items())))


# ------------------------------------------------------------------ reading launcher files
_ASSIGN = re.compile(r"^(?:export\s+|local\s+|declare\s+(?:-\w+\s+)?)?([A-Za-z_]\w*)=(.*)$")
# The default of `${VAR:-default}` is bounded and holds no `$`: an unclosed `${A:-` repeated along a
# line cost quadratic time with `[^}]*` (red team round 9, D1).
_VAR = re.compile(r"\$(?:\{([A-Za-z_]\w{0,63})(?:(:?[-=])([^}$\n]{0,256}))?\}|([A-Za-z_]\w{0,63}))")
_ARITH = re.compile(r"\$\(\(([^()]*)\)\)")
_SBATCH = re.compile(r"^#SBATCH\s+(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_POSITIONAL = re.compile(r"^\$(?:\{[1-9]\d?\}|[1-9])$")  # `$4` / `${10}`: a positional parameter alone
_ARG_DEFAULT = re.compile(r"^\$\{([1-9])(?::-|-)(.{1,512})\}$")  # `${1:-default}`: a positional parameter's default
_DEFAULT_OF = re.compile(r"^\$\{([A-Za-z_]\w{0,63}):-([^}$]{0,256})\}$")  # `${VAR:-default}` alone
# `${VAR:-"$ROOT_DIR/x.yaml"}` alone: a named variable's default that holds other variables (`.{1,512}` then `}` at the
# end: one pass, no nested quantifier); `: "${VAR:=default}"`, the no-op command that assigns the default
_VAR_DEFAULT = re.compile(r"^\$\{([A-Za-z_]\w{0,63})(:?[-=])(.{1,512})\}$")
_COLON_ASSIGN = re.compile(r"""^:\s+["']?(\$\{[A-Za-z_]\w{0,63}:?=.{1,512}\})["']?$""")
_LAUNCH_WORDS = (
    "torchrun",
    "torch.distributed",
    "accelerate",
    "deepspeed",
    "tune",
    "llamafactory-cli",
    "lmf",
    "axolotl",
    "srun",
    "sbatch",
    "python",
    "modal",
    "pyflyte",
)
# a line of a `.txt` file that is a launch command: after `VAR=value` words, a launcher (or `envsubst` writing its config)
_COMMAND_LINE = re.compile(
    r"^(?:[A-Za-z_]\w*=\S*\s+){0,16}(?:accelerate\s+launch|torchrun|deepspeed|tune\s+run|llamafactory-cli|axolotl|trl|envsubst|python3?\s+-m\s+torch\.distributed)\b"
)
_COPY = re.compile(r"^cp\s+(.+)$")
_ENVSUBST = re.compile(r"""^envsubst(?:\s+(?:'[^']{0,512}'|"[^"]{0,512}"))?\s*<\s*(\S{1,512})\s*>\s*(\S{1,512})$""")
_READS = re.compile(r"(?:^|\s)<\s*(\S{1,512}\.(?:ya?ml|json))[\"']?(?:\s|$)|(?:^|[\s(])cat\s+(\S{1,512}\.(?:ya?ml|json))[\"']?(?:\s|$)")
_FUNC = re.compile(r"^(?:function\s+)?([A-Za-z_][\w-]{0,63})\s*\(\)\s*\{?$")
_ARRAY = re.compile(r"^(?:declare\s+-a\s+|local\s+)?([A-Za-z_]\w{0,63})=\((.{0,4096})\)$")
_ARRAY_OPEN = re.compile(r"^(?:declare\s+-a\s+|local\s+)?[A-Za-z_]\w{0,63}=\((?:\s*#.*)?$")  # `NAME=(` alone: its words on the lines after
# `${NAME[0]}`, `${NAME[$I]}`, `${NAME[I]}`: one word of an array (a subscript is arithmetic: a bare name is a variable)
_ARRAY_AT = re.compile(r"""\$\{([A-Za-z_]\w{0,63})\[(-?\d{1,4}|\$?\{?[A-Za-z_]\w{0,63}\}?)\]\}""")
_ARRAY_JOB = re.compile(r"(?:^|\s)(?:--array[=\s]|-a\s*)(\d{1,6})(?:%\d+)?(?:\s|$)")  # `#SBATCH --array=0`: one task, index 0
_ARRAY_ALL = re.compile(r"""["']?\$\{([A-Za-z_]\w{0,63})\[[@*]\]\}["']?""")
_ARRAY_LEN = re.compile(r"\$\{#([A-Za-z_]\w{0,63})\[[@*]\]\}")
_SLURM_VARS = {"SLURM_NNODES": "nodes", "SLURM_JOB_NUM_NODES": "nodes", "SLURM_GPUS_PER_NODE": "gpus_per_node", "SLURM_GPUS_ON_NODE": "gpus_per_node"}


_ESCAPED = re.compile(r"\\[$`\\]")


def _substitutes(value: str) -> bool:
    """Whether an assigned value holds a command substitution (`$(cmd)`, backticks), the shell's to compute: unknown
    here. `\\$(hostname -s)` and `` \\` `` are escaped, a literal `$(` / backtick the value keeps for a later shell
    (`export ACC_LAUNCHER="accelerate launch ... --role \\$(hostname -s)"`, run by `bash -c "$ACC_LAUNCHER ..."`;
    review10b #26 lumi-nlp-recipes sft_trl/slurm_scripts/sft.sh:66-74): bash(1), QUOTING: within double quotes "the
    backslash retains its special meaning only when followed by one of the following characters: $, `, \", \\, or
    <newline>"."""
    bare = _ESCAPED.sub("", value)
    return "$(" in bare.replace("$((", "") or "`" in bare


def _arith(expr: str) -> str | None:
    """`8*2` -> "16": digits and + - * / % only, left to right with * / % first; None otherwise. Integer division
    truncates toward zero and `%` takes the dividend's sign, division by 0 is unresolved (GNU bash 5.2 manual, 6.5
    Shell Arithmetic: "evaluation is done in fixed-width integers", `* / %` above `+ -`, "Division by 0 is trapped")."""
    if not expr.strip() or expr.strip("0123456789 \t+-*/%"):
        return None
    try:
        terms = re.findall(r"[+-]?[^+-]+", expr.replace(" ", "").replace("\t", ""))
        total = 0
        for term in terms:
            sign = -1 if term.startswith("-") else 1
            parts = re.split(r"([*/%])", term.lstrip("+-"))
            value = int(parts[0])
            for op, num in zip(parts[1::2], parts[2::2], strict=True):
                value = value * int(num) if op == "*" else _divide(value, int(num), op)
            total += sign * value
        return str(total)
    except (ValueError, ZeroDivisionError):
        return None


def _divide(a: int, b: int, op: str) -> int:
    """C's integer `/` and `%` (bash's): the quotient truncated toward zero, the remainder with the dividend's sign."""
    q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
    return q if op == "/" else a - b * q


# `${VAR//\//_}` / `${VAR/a/b}`: a known variable with a literal pattern (no glob character, `\/` an escaped slash) replaced,
# every match for `//`, the first for `/` (bash(1), Parameter Expansion `${parameter/pattern/string}`); a replacement with
# `&` or a backslash (bash 5.2's patsub_replacement gives `&` the matched text) is left as written
_REPLACE = re.compile(r"\$\{([A-Za-z_]\w{0,63})(//?)((?:\\/|[^/}\\$*?\[&]){1,128})/([^}$&\\\n]{0,128})\}")


def _replaced(m: re.Match[str], env: dict[str, str]) -> str:
    value = env.get(m.group(1))
    if value is None or "$" in value:
        return m.group(0)
    pattern = m.group(3).replace("\\/", "/")
    return value.replace(pattern, m.group(4)) if m.group(2) == "//" else value.replace(pattern, m.group(4), 1)


def expand(text: str, env: dict[str, str]) -> str:
    """`$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR//a/b}` from `env` (unknown ones stay as written), then `$((a*b))`."""
    if "/" in text and "${" in text:
        text = _REPLACE.sub(lambda m: _replaced(m, env), text)

    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(4)
        if name in env and not (env[name] == "" and m.group(2) in (":-", ":=")):  # `:-` takes the default for an empty value too
            return env[name]
        if m.group(2) is not None:  # ${VAR:-default} / ${VAR-default} / ${VAR:=default}
            return m.group(3)
        return m.group(0)

    out = _VAR.sub(sub, text)
    return _ARITH.sub(lambda m: _arith(_arith_names(m.group(1), env)) or m.group(0), out)


_ARITH_NAME = re.compile(r"[A-Za-z_]\w{0,63}")


def _arith_names(expr: str, env: dict[str, str]) -> str:
    """`SLURM_GPUS_ON_NODE*SLURM_NNODES` -> `8*6`: inside `$(( ))` a variable may be named without `$` (GNU bash 5.2
    manual, 6.5 Shell Arithmetic: "shell variables may also be referenced by name without using the parameter
    expansion syntax"); only a name whose value is a literal integer is replaced. Bash reads an unset name as 0:
    goblin leaves it as written, so the whole expression stays unresolved (never guessed)."""
    return _ARITH_NAME.sub(lambda m: env[m.group(0)] if re.fullmatch(r"\d{1,9}", env.get(m.group(0), "")) else m.group(0), expr)


# An inline comment inside a continued command: `` `# note` \`` or `$(# note)`, a command substitution whose
# command is only a comment, expands to nothing (GNU bash 5.2 manual, 3.5.4 Command Substitution: replaced by
# the command's output; 3.1.3 Comments: a word beginning with # and the rest of that line are ignored). shlex
# would read its `#` as a comment to the end of the joined line and drop every flag after it (review4 #24,
# MedicalGPT scripts/run_grpo.sh:24 `` `# QLoRA配置` \`` before `--use_peft True`).
_INLINE_COMMENT = re.compile(r"`[ \t]{0,64}#[^`\n]{0,512}`|\$\([ \t]{0,64}#[^)\n]{0,512}\)")


def _split(text: str) -> list[str]:
    if "#" in text:
        text = _INLINE_COMMENT.sub("", text)
    try:
        return shlex.split(text, comments=True)
    except ValueError:  # an unbalanced quote: words as written
        return text.split()


# A launch command is a few hundred characters; a longer logical line is not read (its flags are
# looked up line by line, and a 200 KB line of flags cost minutes: red team round 9, D2).
MAX_COMMAND_CHARS = 16_384


def _logical_lines(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    out = [(n, text) for n, text in _joined(lines) if len(text) <= MAX_COMMAND_CHARS]
    return out


MAX_QUOTED_LINES = 40  # a quoted value open over more lines than this is cut (read as written)


def _open_quote(text: str, quote: str) -> str:
    """The quote still open at the end of `text` ("" when none), given the one open at its start; a
    `#` that starts a word outside quotes ends the line (a comment's `don't` opens nothing)."""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote == "'":
            if ch == "'":
                quote = ""
        elif ch == "\\":
            i += 1  # escaped (outside single quotes)
        elif quote == '"':
            if ch == '"':
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1].isspace()):
            break
        i += 1
    return quote


def _joined(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Logical lines: a trailing `\\` continues a line, and so does a quote an assignment leaves
    open (`ARGS="` ... `"` over several lines, read as one value with the line breaks as spaces)."""
    out: list[tuple[int, str]] = []
    start, buf, quote, held = 0, "", "", 0
    listing = False  # inside `NAME=(` ... `)`: a bash array written one word a line (bash(1), Arrays)
    for n, raw in lines:
        text = raw.rstrip()
        if buf and not listing and not quote and buf.lstrip().startswith("#") and not text.lstrip().startswith("#"):
            # a comment's trailing `\` continues nothing (bash(1), COMMENTS: the rest of the line is ignored): the
            # command after `#  --pack_sequences \` lines is a command of its own (review12b #22 llm_training_demo
            # fsdp/launch_fsdp.sh:7-9); commented lines still join one another (a commented-out launch)
            out.append((start, buf.rstrip()))
            buf = ""
        if not buf:
            start, held = n, 0
        if listing or (not buf and _ARRAY_OPEN.match(text.strip())):
            word = hash_comment_cut(text).strip()  # a commented-out word (`# "old.yaml"`) is not in the array
            held += 1
            listing = ")" not in word and held < MAX_QUOTED_LINES
            buf += word + " "
            if not listing:
                out.append((start, buf.rstrip()))
                buf = ""
            continue
        quote = _open_quote(text, quote)
        if quote and held < MAX_QUOTED_LINES and _ASSIGN.match((buf + text).strip()):  # `ARGS="` opens a value; a stray quote elsewhere opens nothing
            held += 1
            buf += (text[:-1] if text.endswith("\\") else text) + " "
            continue
        quote = ""
        if text.endswith("\\"):
            buf += text[:-1] + " "
            continue
        out.append((start, buf + text))
        buf = ""
    if buf:
        out.append((start, buf))
    return out


# in a value's source: a word of a command read as the author meant it past a line that ends without `\\` (not explicit)
ASSUMED_ARGUMENT = "assumed its argument"
BROKEN_COMMAND = "the command on "  # how `_broken_continuations`' finding begins (it names its own file)
_ORPHAN_FLAG = re.compile(r"^--?[A-Za-z][\w-]*(?:[=\s]|$)")
_ENDS_LIKE_ARGS = re.compile(r"(\.(?:py|ya?ml|json)|\s--?[A-Za-z][\w-]*(?:[=\s]\S+)?)$")


def _broken_continuations(logical: list[tuple[int, str]], raw: list[tuple[int, str]], name: str) -> tuple[list[tuple[int, str]], dict[int, tuple[int, str]]]:
    """Launch commands continued over several lines, one of which ends without `\\`, the lines after it being bare
    `--flag ...` words (review7b #35 codealpaca README.md:102-103): the shell runs the command without those lines and
    them as a command of their own, which fails. Returns the logical lines with those flags joined to the command, as
    the author meant them (an assumption, said), and start line -> (first line joined, the finding). A one-line command
    (`python train.py --help` over its usage text) or one ending in a pipe or `then` is left as it is."""
    physical = dict(raw)
    out: list[tuple[int, str]] = []
    found: dict[int, tuple[int, str]] = {}
    skip = False
    for i, (n, text) in enumerate(logical):
        if skip:
            skip = False
            continue
        after = logical[i + 1] if i + 1 < len(logical) else None
        last = physical.get(after[0] - 1, "") if after is not None else ""
        if (
            after is None
            or not any(w in text for w in _LAUNCH_WORDS)
            or not _ORPHAN_FLAG.match(after[1].strip())
            or after[0] - 1 <= n  # one physical line: no continuation that broke
            or not last.strip()
            or last.rstrip().endswith("\\")
            or not _ENDS_LIKE_ARGS.search(text.rstrip())
            or re.search(r"\s(--help|-h)$", text.rstrip())
        ):
            out.append((n, text))
            continue
        m = after[0]
        flags = [w for w in _split(after[1]) if w.startswith("-")][:4]
        shown = ", ".join(f"`{f}`" for f in flags)
        found[n] = (
            m,
            f"{BROKEN_COMMAND}{name}:{n} ends without `\\` at line {m - 1}; lines {m}.. are not its arguments: the shell runs them "
            f"as a command of their own, which fails; goblin reads them ({shown}...) as the command's arguments, as the author "
            "meant: assumed",
        )
        out.append((n, f"{text} {after[1]}"))
        skip = True
    return out, found


def _markdown_code(text: str) -> list[tuple[int, str]]:
    """Lines inside fenced code blocks of a README, with their line numbers; `$ ` prompts dropped."""
    out: list[tuple[int, str]] = []
    inside = False
    for n, line in enumerate(text.splitlines(), 1):
        if _FENCE.match(line):
            if inside:  # a block's end ends its last command: a trailing `\` does not reach the next block (review4 #33 starcoder README.md:157)
                out.append((n, ""))
            inside = not inside
            continue
        if inside:
            out.append((n, re.sub(r"^\s*[$>]\s+", "", line)))
        else:  # prose: an inline code span that is a whole launch command naming a config (review4 #4 SWE-Gym docs/OpenHands.md:96)
            found = [(n, m.group(1)) for m in _INLINE_LAUNCH.finditer(line)]
            if not found and _bare_launch(line):
                found = [(n, line.strip())]
            out.extend(found)
    return out


# A prose line that is, as a whole, a launch command naming a config, written without a code fence or backticks
# (review12b #21 daje0601/AllinOne_LLM chapter3/3.5/readme.md:7 `ACCELERATE_USE_FSDP=1 ... torchrun --nproc_per_node=4
# ./1_train_full_fine_tuning.py --config ./0_full_fine_tuning_config.yaml`): env assignments, then a launcher program
_BARE_LAUNCH = re.compile(
    r"^\s{0,8}(?:[A-Z_][A-Z0-9_]{0,63}=[^\s`]{0,256}\s+){0,16}(?:accelerate\s+launch\s|tune\s+run\s|llamafactory-cli\s+train\s|axolotl\s+train\s|torchrun\s+--|deepspeed\s+--)"
)
_CONFIG_WORD = re.compile(r"\.(?:ya?ml|json)(?:\s|$)")


def _bare_launch(line: str) -> bool:
    return "`" not in line and len(line) <= MAX_COMMAND_CHARS and _BARE_LAUNCH.match(line) is not None and _CONFIG_WORD.search(line) is not None


# `N_GPUS=8 modal run scripts/train.py --config configs/x.yaml` in a sentence: env assignments, a launcher program,
# and a config file word; other inline code (`pip install`, a path) is not a command goblin reads.
_INLINE_LAUNCH = re.compile(
    r"`((?:[A-Z_][A-Z0-9_]*=\S+\s+)*(?:tune|torchrun|accelerate|deepspeed|modal|llamafactory-cli|axolotl)\s[^`]*?\.(?:ya?ml|json)\b[^`]*)`"
)


_CELL_SHELL = re.compile(r"^(?:%%(?:bash|sh|script\s+(?:ba)?sh)|%sh)\b")  # `%sh`: a Databricks shell cell
# IPython expands `{expr}` and `$name` in a `!` line from the notebook's namespace before the shell runs it, and
# leaves the whole command as written when any part fails to format (IPython 9.17.0.dev 7f0ee556
# core/interactiveshell.py:2722, :2739 `self.var_expand(cmd, depth=1)`, :3984-4008); a `!` line ending in `\`
# continues on the next (core/inputtransformer2.py:254-294, :560-561); a cell magic's body (`%%bash`) is passed as written.
# `{{`/`}}` (a literal brace), `{expr}`, `$$name` (a literal `$name`), `$name` outside single quotes (IPython 9.17.0.dev
# 7f0ee556 utils/text.py:517-557 DollarFormatter: `$` fields are names and attributes, `$$foo` -> `$foo`)
_IPY_FIELD = re.compile(r"\{\{|\}\}|\{([^{}\n]{1,200})\}|\$(\$?)([A-Za-z_][\w.]*)")


def _bang_expand(command: str, literals: dict[str, str]) -> str:
    """A `!` line's `{name}` / `$name` words: the notebook's literal value; a `{name}` or `{expression}` goblin does not
    know reads as `${name}` (as a shell script's unset variable does), a `$name` it does not know stays as written."""

    def sub(m: re.Match[str]) -> str:
        text = m.group(0)
        if text in ("{{", "}}"):
            return text[0]
        if m.group(1) is not None:
            inner = m.group(1).strip()
            if re.fullmatch(r"[A-Za-z_]\w*", inner):
                return literals.get(inner, "${" + inner + "}")
            return "${_notebook_expression}"
        if m.group(2):  # `$$name`
            return "$" + m.group(3)
        if command[: m.start()].count("'") % 2:  # inside single quotes: not a field
            return text
        return literals.get(m.group(3), text)

    return _IPY_FIELD.sub(sub, command)


def _notebook_shell(text: str, databricks: bool = False) -> tuple[list[tuple[int, str]], dict[int, str], dict[str, str]]:
    """The shell lines of a notebook (an `.ipynb`, or a Databricks notebook exported as `.py`), with their file line
    and "cell N line M": every line of a `%%bash` / `%%sh` / `%%script bash` / `%sh` cell, `!command` lines of other
    code cells (with the lines a trailing `\\` continues them on; `{name}` from the notebook's literal Python
    values), and the fenced code blocks of Markdown cells (`$ ` prompts dropped); and those literal values."""
    from ..notebook import databricks_lines, notebook_lines, python_literals

    lines = databricks_lines(text) if databricks else notebook_lines(text)
    cells: dict[str, list[str]] = {}
    for _, place, line, kind in lines:
        if kind == "code":
            cells.setdefault(place.rsplit(" line ", 1)[0], []).append(line)
    literals = python_literals(["\n".join(c) for c in cells.values() if not _CELL_SHELL.match(c[0].strip())])
    out: list[tuple[int, str]] = []
    shown: list[tuple[int, str]] = []  # Markdown cells' code blocks
    places: dict[int, str] = {}
    shell_cell = ""
    fenced = False
    bang = False  # the previous line was a `!` command ending in `\`
    for n, place, line, kind in lines:
        cell = place.rsplit(" line ", 1)[0]
        if place.endswith(" line 1"):
            fenced, bang = False, False
            shell_cell = cell if kind == "code" and _CELL_SHELL.match(line.strip()) else ""
            if shell_cell:
                continue
        if kind == "markdown":
            if _FENCE.match(line):
                if fenced:  # a block's end ends its last command
                    shown.append((n, ""))
                fenced = not fenced
                continue
            if not fenced:
                continue
            shown.append((n, re.sub(r"^\s*[$>]\s+", "", line)))
            places.setdefault(n, place)
            continue
        if cell == shell_cell:
            command = line
        elif line.lstrip().startswith("!") or bang:
            command = _bang_expand(line.lstrip()[1:] if not bang else line, literals)
            bang = line.rstrip().endswith("\\")
        elif hashed := _HASHED_BANG.match(line):
            # `# ! tune run ... --config x.yaml` in a code cell: a commented-out command, kept as a shell comment so that
            # it is read as one (`_commented_command`: the repository's hint, never a live launch; review12a #7)
            command = "# " + _bang_expand(hashed.group(1), literals)
        else:
            continue
        out.append((n, command))
        places.setdefault(n, place)
    # the code cells' commands first (what the notebook runs), then the commands its Markdown shows
    return [*out, (out[-1][0] if out else 0, ""), *shown], places, literals


# a code cell's commented-out shell command (`# ! tune run ...`, `#!torchrun ...`)
_HASHED_BANG = re.compile(r"^\s*#\s*!\s*(\S.*)$")


# `REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)`: the launcher's own folder (and a relative path below it), which a
# later `cd "$REPO_ROOT"` moves to (6a #4 interpolation-of-experts-torchtune scripts/launch_mi250x_fsdp.sh:24,38)
_HERE_VAR = re.compile(
    r"""^(?:export\s+)?([A-Za-z_]\w{0,63})=["']?\$\(\s*cd\s+["']?\$\(\s*dirname\s+["']?\$(?:0|\{?BASH_SOURCE(?:\[0\])?\}?)["']?\s*\)"""
    r"""((?:/[\w.-]{1,64}){0,8})["']?\s*&&\s*pwd\s*\)["']?$"""
)
# `--config "'"$CONFIG"'"` inside a single-quoted `bash -c '...'` body (6b #26 maxent-grpo training.sh:174-211): the `'`
# closes the outer quote, the outer shell expands "$CONFIG", the next `'` reopens it, so the inner command reads
# `--config "value"` (GNU bash 5.2 manual, 3.1.2.2 Single Quotes, 3.1.2.3 Double Quotes); read line by line the
# idiom would leave the `'` marks in the word
# `ROOT_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"` over a `SCRIPT_DIR` that holds the launcher's folder: that folder's parent
# (review13a #15 tprimat train/amd_tran_llama.sh:4-5)
_HERE_OF = re.compile(
    r"""^(?:export\s+)?([A-Za-z_]\w{0,63})=["']?\$\(\s*cd\s+["']?\$\{?([A-Za-z_]\w{0,63})\}?((?:/[\w.-]{1,64}){0,8})["']?\s*&&\s*pwd\s*\)["']?$"""
)
# a word that starts with such a variable: `"$ROOT_DIR/config.env"`
_HERE_WORD = re.compile(r"""^(["']?)\$\{?([A-Za-z_]\w{0,63})\}?(/[^\s"'$`]{0,300})?(["']?)$""")


def here_word(word: str, here_vars: dict[str, str]) -> str:
    """`word` with a leading variable that holds the launcher's folder (or one below or above it) written as a path
    relative to that folder (`"$ROOT_DIR/config.env"` -> `../config.env`); `word` unchanged otherwise."""
    m = _HERE_WORD.match(word)
    if not m or m.group(2) not in here_vars or m.group(1) != m.group(4):
        return word
    folder = here_vars[m.group(2)]
    return posixpath.normpath(posixpath.join("." if folder == "@" else folder[2:], (m.group(3) or "/.").lstrip("/")))


_QUOTE_HOLE = re.compile('"\'"' + r"(\$\{?[A-Za-z_]\w{0,63}\}?)" + '"\'"')
_HERE = re.compile(r"""^["']?\$\(\s*(?:cd\s+)?dirname\s+["']?\$(?:0|\{?BASH_SOURCE(?:\[0\])?\}?)["']?\s*\)["']?""")


def _cd(command: str, cwd: str, env: dict[str, str]) -> str:
    """The folder after `cd DIR` (see Line.cwd): `cd "$(dirname "$0")"/..` is the launcher's own folder
    and below; a relative DIR joins the folder before it; an absolute one, `cd -`, `cd` alone or a
    value not set in the file is unknown ("!"), and the script's path is then resolved as if no `cd` ran."""
    words = command.split(None, 1)
    if len(words) < 2:
        return "!"
    target = words[1].strip()
    here = _HERE.match(target)
    if here:
        rest = target[here.end() :].strip("\"'")
        return "@/" + rest.lstrip("/") if rest else "@"
    parts = _split(expand(target, env))
    if len(parts) != 1 or "$" in parts[0] or "`" in parts[0] or parts[0].startswith(("/", "~", "-")):
        return "!"
    if cwd == "!":
        return "!"
    base = cwd or "?"
    return f"{base}/{parts[0]}"


# `source FILE` / `. FILE` runs FILE in the current shell: its assignments stay set after it (GNU bash 5.2 manual,
# 4.1 Bourne Shell Builtins, `.`/`source`: "Read and execute commands from the filename argument in the current shell context")
_SOURCE = re.compile(r"^(?:source|\.)\s+(\S+)$")
_OPENS = re.compile(r"^(?:if|case|while|until|for|select)\b")
_CLOSES = re.compile(r"^(?:fi|esac|done)\b")
MAX_SOURCED = 16  # files a launcher sources that are read (each once)
Sourcer = Callable[[str], "tuple[str, str] | None"]  # a `source` word -> (real path, text), None when not read


def _sourced_parts(text: str) -> Iterator[tuple[int, str, bool]]:
    """A sourced file's simple commands as `_sourced_values` and `_sourced_exports` walk them: (line, command, after
    `&&`/`||`), continuations joined, comments cut, a `do`/`then`/`else` word before the command dropped."""
    for n, logical in _logical_lines(list(enumerate(text.splitlines(), 1))):
        stripped = hash_comment_cut(logical).strip()
        conditional = bool(re.search(r"&&|\|\|", stripped))
        for part in re.split(r"&&|\|\||;", stripped):
            yield n, re.sub(r"^\s*(?:do|then|else)\s+", "", part).strip(), conditional


def _sourced_values(real: str, text: str) -> dict[str, tuple[str, int]]:
    """The literal values a sourced file assigns for certain: `VAR=value` outside any `if`/`case`/loop and not after
    `&&`/`||`, with no command substitution, positional parameter or unknown variable; (value, line) each."""
    env: dict[str, str] = {}
    at: dict[str, int] = {}
    depth = 0
    for n, part, conditional in _sourced_parts(text):
        if _OPENS.match(part):
            depth += 1
            continue
        if _CLOSES.match(part):
            depth = max(depth - 1, 0)
            continue
        m = _ASSIGN.match(part)
        if not m:
            continue
        value = m.group(2).strip()
        expanded = _split(expand(value, env)) if value else [""]
        literal = "$(" not in value and "`" not in value and not _POSITIONAL_IN.search(value) and len(expanded) == 1 and "$" not in expanded[0]
        if depth or conditional or not literal:
            env.pop(m.group(1), None)
            at.pop(m.group(1), None)
            continue
        env[m.group(1)] = expanded[0]
        at[m.group(1)] = n
    return {name: (env[name], at[name]) for name in env}


# bash 5.2.15 doc/bash.1 ENVIRONMENT :5141-5175 (a command inherits the shell's environment plus `export` additions,
# less `unset` removals, a modified exported value replacing the old; a `name=value` prefix augments one simple
# command's only) and SHELL BUILTIN COMMANDS :8770-8800 (`export [-fn] name[=word]`: -n removes the export property,
# -f names functions); GNU coreutils 9.1 env(1) :15,21 (`-i` starts from an empty environment, `-u NAME` removes one)
_EXPORT = re.compile(r"^export\s+(.{1,4096})$")
# `declare -x NAME=V` / `typeset -x`: -x marks each name for export, `+x` takes the mark off (bash 5.2.15 doc/bash.1
# :8376-8379, :8481, :8484-8485; bminor/bash doc/bash.1@001918cd `declare`)
_DECLARE = re.compile(r"^(?:declare|typeset)\s+(.{1,4096})$")
_UNSET = re.compile(r"^unset\s+(.{1,4096})$")
_SET = re.compile(r"^set\s+(.{1,4096})$")


def allexport_change(part: str) -> bool | None:
    """What `set` does to the allexport option: True for `set -a` / `set -o allexport`, False for `set +a` /
    `set +o allexport`, None when the command is no `set` or leaves it alone. bash 5.2.15 doc/bash.1 :9835-9838 (`-a`:
    each variable created or modified is given the export attribute), :9932-9934 (`-o allexport`: same as -a), :10198
    (`+` turns an option off); bminor/bash doc/bash.1@001918cd, the `set` builtin."""
    m = _SET.match(part.strip())
    if m is None:
        return None
    words = _split(m.group(1))
    out: bool | None = None
    for i, word in enumerate(words):
        if word in ("--", "-") or not word.startswith(("-", "+")):
            break  # the rest are positional parameters
        if word in ("-o", "+o"):
            if i + 1 < len(words) and words[i + 1] == "allexport":
                out = word == "-o"
            continue
        if i and words[i - 1] in ("-o", "+o"):
            continue
        if "a" in word[1:]:
            out = word.startswith("-")
    return out


_NAME_VALUE = re.compile(r"^([A-Za-z_]\w{0,63})(?:=(.*))?$", re.DOTALL)


def _unknown(raw: str) -> bool:
    """A value the shell computes: a variable, a command substitution or backticks; not guessed."""
    return "$" in raw or "`" in raw


# `${NAME:-word}` / `${NAME-word}` with a literal word (no `$`, backticks or braces)
_OWN_DEFAULT = re.compile(r"""^\$\{([A-Za-z_]\w{0,63}):?-([^$`{}]{1,200})\}$""")


def track_export(
    part: str,
    n: int,
    real: str,
    exports: dict[str, Exported],
    env: dict[str, str],
    origin: dict[str, tuple[str, int]],
    scoped: bool,
    allexport: bool | None = False,
    defaults: set[tuple[str, int]] | None = None,
) -> None:
    """Keep `exports` (name -> what the launched process would see) as the shell runs `part`: `export A=1 B`,
    `declare -x A=1` / `typeset -x`, an assignment to a name already exported or made while `set -a` holds
    (`allexport`; None: it may hold, set under a branch: the name's value is then unknown), `unset A`. `scoped`: inside
    an `if`/loop/function or after `&&`/`||`, where goblin cannot tell whether it runs: the name's value is then unknown."""
    text = part.strip()
    if d := _DECLARE.match(text):
        dwords = _split(d.group(1))
        flags = "".join(w[1:] for w in dwords if w.startswith("-"))
        names = [w for w in dwords if not w.startswith(("-", "+"))]
        if any(c in flags for c in "fFaA"):
            return  # functions or arrays: no variable goblin reads
        if any(w.startswith("+") and "x" in w for w in dwords):
            text = "export -n " + shlex.join(names)
        elif "x" in flags or (allexport is not False and any("=" in w for w in names)):
            scoped = scoped or ("x" not in flags and allexport is None)
            text = "export " + shlex.join(names)
        else:
            return
    if m := _UNSET.match(text):
        for word in _split(m.group(1)):
            if _NAME_VALUE.match(word) and "=" not in word:
                if scoped and word in exports:
                    exports[word] = (word, "", real, n, False)
                elif not scoped:
                    exports.pop(word, None)
        return
    m = _EXPORT.match(text)
    words = _split(m.group(1)) if m else []
    if not m:
        a = _ASSIGN.match(text)
        if not a or text.startswith(("local ", "declare ")) or len(_split(a.group(2))) > 1:
            return
        if a.group(1) not in exports and allexport is False:
            return  # only an assignment to an exported name, or one made under `set -a`, changes what the process sees
        scoped = scoped or (a.group(1) not in exports and allexport is None)
        words = [f"{a.group(1)}={(_split(a.group(2)) or [''])[0]}"]
    if m and any(w.startswith("-") and "f" in w for w in words):
        return  # `export -f fn`: a shell function, no variable
    if m and any(w.startswith("-") and "n" in w for w in words):  # `export -n X`: X no longer exported
        for word in words:
            if word.startswith("-") or not (nv := _NAME_VALUE.match(word)):
                continue
            if scoped:
                exports[nv.group(1)] = (nv.group(1), "", real, n, False)
            else:
                exports.pop(nv.group(1), None)
        return
    for word in words:
        nv = _NAME_VALUE.match(word)
        if nv is None or word.startswith("-"):
            continue
        name, raw = nv.group(1), nv.group(2)
        if raw is None:  # `export X`: the value X holds, where it was set
            if name not in env and name not in origin:
                if name in exports or scoped:
                    exports[name] = (name, "", real, n, False)
                continue
            held = origin.get(name)
            known = not scoped and held is not None
            exports[name] = (name, env.get(name, "") if known else "", held[0] if held else real, held[1] if held else n, known)
            continue
        own = _OWN_DEFAULT.match(raw)
        if own and own.group(1) == name and name not in env and name not in exports and not scoped and defaults is not None:
            # `export TORCH_DISTRIBUTED_DEBUG=${TORCH_DISTRIBUTED_DEBUG:-DETAIL}` where the file set it nowhere above: the
            # literal, unless the caller's environment sets it (bash(1), Parameter Expansion `${parameter:-word}`), said
            # (Line.env_defaults; review13a #6/#7 interpolation-of-experts-torchtune scripts/launch_mi250x_fsdp.sh:18)
            value = (_split(own.group(2)) or [""])[0] if own.group(2).strip() else ""
            exports[name] = (name, value, real, n, True)
            defaults.add((name, n))
            continue
        known = not scoped and not _unknown(raw)
        exports[name] = (name, raw if known else "", real, n, known)


def _sourced_exports(real: str, text: str, allexport: bool | None = False) -> tuple[dict[str, Exported], bool | None]:
    """The variables a sourced file exports (`export X=1`, and every assignment while `set -a` holds, which may be
    the caller's: `set -a; source .env; set +a`), as `track_export` reads them; and whether `set -a` holds at its end
    (the file runs in the caller's shell)."""
    exports: dict[str, Exported] = {}
    env: dict[str, str] = {}
    origin: dict[str, tuple[str, int]] = {}
    depth = 0
    for n, part, conditional in _sourced_parts(text):
        if _OPENS.match(part) or _FUNC.match(part):
            depth += 1
            continue
        if _CLOSES.match(part) or part == "}":
            depth = max(depth - 1, 0)
            continue
        if (change := allexport_change(part)) is not None:
            allexport = change if not depth and not conditional else (allexport if allexport == change else None)
            continue
        a = _ASSIGN.match(part)
        if a and not part.startswith("export") and len(_split(a.group(2))) <= 1 and not _unknown(a.group(2)) and not depth and not conditional:
            env[a.group(1)] = (_split(a.group(2)) or [""])[0]
            origin[a.group(1)] = (real, n)
        track_export(part, n, real, exports, env, origin, bool(depth) or conditional, allexport)
    return exports, allexport


def _prefix_env(words: list[str], n: int, real: str, physical: dict[int, str], exports: dict[str, Exported]) -> list[Exported]:
    """The launch line's own environment over the file's exports: its `NAME=value` prefix words, then `env [-i] [-u
    NAME] NAME=value` words (coreutils env(1)); each sourced at the physical line that holds it."""
    out = dict(exports)
    i = 0

    def at(name: str) -> int:
        for k in range(n, n + 64):
            if k not in physical:
                break
            if re.search(r"(?:^|\s)" + re.escape(name) + "=", physical[k]):
                return k
        return n

    while i < len(words) and (nv := _NAME_VALUE.match(words[i])) and nv.group(2) is not None:
        name, raw = nv.group(1), nv.group(2)
        out[name] = (name, "" if _unknown(raw) else raw, real, at(name), not _unknown(raw))
        i += 1
    if i < len(words) and Path(words[i]).name == "env":
        i += 1
        while i < len(words):
            word = words[i]
            if word in ("-i", "--ignore-environment", "-"):
                out.clear()
            elif word in ("-u", "--unset") and i + 1 < len(words):
                out.pop(words[i + 1], None)
                i += 1
            elif word.startswith("--unset="):
                out.pop(word.partition("=")[2], None)
            elif (nv := _NAME_VALUE.match(word)) and nv.group(2) is not None:
                name, raw = nv.group(1), nv.group(2)
                out[name] = (name, "" if _unknown(raw) else raw, real, at(name), not _unknown(raw))
            elif not word.startswith("-"):
                break
            i += 1
    return list(out.values())


def _kernel_at(kernel: list[KernelSetting], n: int, real: str) -> dict[str, Exported]:
    """What a notebook's `!` line or shell cell on file line `n` inherits from the kernel's environment: the settings
    of the code cells above it, in order (a removal takes the name out; an unknown value stays unknown)."""
    out: dict[str, Exported] = {}
    for at, name, value, known in kernel:
        if at >= n:
            break
        if value is None and known:
            out.pop(name, None)
        else:
            out[name] = (name, (value or "") if known else "", real, at, known)
    return out


def _default_read(var: str, over: str, default: str, n: int, env: dict[str, str], origin: dict[str, tuple[str, int]], defaulted: dict[str, str]) -> None:
    """`var` takes the default of `${over:-default}` on line `n` (its own variables expanded), said wherever a launch line
    uses it; one word only, else `var` is unknown. Never a value set for certain (Line.origins): the caller may set `over`."""
    origin.pop(var, None)
    words = _split(expand(default, env))
    if len(words) != 1:
        env.pop(var, None)
        return
    env[var] = words[0]
    defaulted[var] = f"`{var}` is {words[0]!r}, the default of line {n} (`${{{over}:-...}}`), read as the caller does not set {over}"


def parse_launcher(path: Path, text: str, source: Sourcer | None = None) -> LauncherFile:
    """The launch commands of a shell/slurm script, a README's code blocks or a notebook's shell
    lines, and its #SBATCH lines; `source` reads a file the script sources (`source setup.sh`), whose
    literal assignments then hold for the lines after it."""
    suffix = path.suffix.lower()
    places: dict[int, str] = {}
    from ..notebook import is_databricks

    if suffix == ".py" and not is_databricks(text):  # the commands it builds in code (formats/pylaunch.py), nothing run
        from .pylaunch import commands as python_commands

        built = [Line(c.line, c.tokens, (), notes=tuple(c.notes), gpus=c.gpus, branch=c.branch) for c in python_commands(text)]
        return LauncherFile(path=path, lines=tuple(built), sbatch=(), names=frozenset(word_path(t).rsplit("/", 1)[-1] for c in built for t in c.tokens))
    env: dict[str, str] = {}
    sbatch: list[tuple[str, int, int]] = []
    cloud: tuple[str, ...] = ()
    written_env: dict[str, Exported] = {}  # a cloud launcher's own env for the process it runs
    kernel: list[KernelSetting] = []  # a notebook kernel's own `%env` / `os.environ` settings (formats/nb_env.py)
    # a notebook's `!` line runs in a shell of its own (an `export` there does not reach the next), and a README's code
    # blocks are not one script: only the launch line's own prefix and `env` words count there
    carries = suffix not in (".ipynb", ".md", ".markdown", ".py")
    from .container import compose_services, dockerfile_command, is_compose, is_dockerfile

    if is_dockerfile(path.name):  # the command its image runs (ENTRYPOINT and CMD as Docker joins them), with its ENV
        command = dockerfile_command(text)
        if command is None:
            return LauncherFile(path=path, lines=(), sbatch=())
        raw, env = [(command.line, command.text)], dict(command.env)
        cloud = (f"{path.name} line {command.line} is the command its image runs (its last stage's ENTRYPOINT and CMD as Docker joins them)",)
    elif suffix in (".yaml", ".yml"):  # a cloud launcher file: its commands read as a script's, its counts as #SBATCH lines
        from .cloud import read_cloud

        found = read_cloud(path, text)
        if found is None and is_compose(path.name):  # a compose service's command, its environment as an inline prefix
            services = compose_services(path, text)
            raw = [(c.line, " ".join([*(f"{k}={shlex.quote(v)}" for k, v in c.env), c.text])) for _, _, c in services]
            cloud = (f"{path.name} is a compose file: a service's command is read as Docker Compose runs it",) if services else ()
        elif found is None:
            return LauncherFile(path=path, lines=(), sbatch=())
        else:
            raw, env, cloud = found.lines, dict(found.env), tuple(found.notes)
            written_env = {k: (k, env.get(k, "") if ok and k in env else "", str(path), at, ok and k in env) for k, (at, ok) in found.env_lines.items()}
            if found.nodes:
                sbatch.append(("nodes", *found.nodes))
            if found.gpus:
                sbatch.append(("gpus_per_node", *found.gpus))
    elif suffix == ".ipynb":
        from ..notebook import notebook_lines
        from .nb_env import kernel_settings

        raw, places, _ = _notebook_shell(text)
        kernel = kernel_settings(notebook_lines(text))
    elif suffix in (".md", ".markdown"):
        raw = _markdown_code(text)
    elif suffix == ".py":  # a Databricks notebook: its shell lines, as an `.ipynb`'s
        raw, places, _ = _notebook_shell(text, databricks=True)
    elif suffix == ".txt":  # a text file of launch commands (`training_commands/*.txt`, 8b #27 open-r1_olmo): read as a script
        raw = list(enumerate(text.splitlines(), 1))
        if not any(_COMMAND_LINE.match(line.strip()) for _, line in raw):
            return LauncherFile(path=path, lines=(), sbatch=())  # prose, a requirements list: nothing launches
    else:
        raw = list(enumerate(text.splitlines(), 1))
    commands: list[Line] = []
    for n, line in raw:
        m = _SBATCH.match(line.strip())
        if m:
            # SLURM sets SLURM_JOB_NUM_NODES / SLURM_NNODES to the job's node count (-N/--nodes) and SLURM_GPUS_ON_NODE to the
            # GPUs allocated to the batch step (Slurm doc/man/man1/sbatch.1:1958-1959, :3330-3331, :3417-3418, :3480-3482@284c3b95f0)
            if job := _ARRAY_JOB.search(m.group(1)):
                # an array job of one task: SLURM_ARRAY_TASK_ID is its index (Slurm doc/man/man1/sbatch.1:134 `--array=<indexes>`,
                # :3237-3238 "Job array ID (index) number"@284c3b95f0); a range or list of tasks leaves it unknown
                env.setdefault("SLURM_ARRAY_TASK_ID", job.group(1))
            for what, value in _sbatch_options(m.group(1)):
                sbatch.append((what, value, n))
                if what == "nodes":
                    env.setdefault("SLURM_NNODES", str(value))
                    env.setdefault("SLURM_JOB_NUM_NODES", str(value))
                elif what == "gpus_per_node":
                    env.setdefault("SLURM_GPUS_PER_NODE", str(value))
                    env.setdefault("SLURM_GPUS_ON_NODE", str(value))
    if (derived := sbatch_per_node(sbatch)) is not None:  # `--gpus=1`, `--gpus-per-task=1` with `--ntasks=1`
        sbatch.append(("gpus_per_node", *derived))
        env.setdefault("SLURM_GPUS_ON_NODE", str(derived[0]))
    cwd = ""
    positional: dict[str, str] = {}  # VAR -> `$N` it was given (the script's own argument, unknown here)
    defaulted: dict[str, str] = {}  # VAR -> how `${VAR:-default}` over such an argument was read
    loops: dict[str, list[str]] = {}  # `for VAR in a.yaml b.yaml` / `configs/*.yaml`: the words VAR takes, until `done`
    commented: list[Line] = []
    runs: list[ScriptRun] = []
    copies: dict[str, tuple[str, int]] = {}  # the copy's path -> (the config it copies, line)
    verbs: dict[str, str] = {}  # the copy's path -> how it was made, where not by `cp` (`envsubst < x.yaml > copy.yaml`)
    arrays: dict[str, list[str]] = {}  # `NODES=("node1" "node2")`: the words of a bash array (`${#NODES[@]}` is their count)
    array_at: dict[str, int] = {}  # the line each array was last set
    from_args: dict[str, int] = {}  # arrays set from the script's own arguments (`NODES=("$@")`) somewhere: the line
    func = ""  # the shell function being defined (`build_args() {` ... `}`)
    func_at = 0  # the line of its header
    functions: dict[str, tuple[int, int]] = {}  # a shell function -> its body's (first, last) line (a later srun may run it)
    func_reads: dict[str, list[tuple[str, int]]] = {}  # function ("" outside one) -> config files it reads (`< x.yaml`, `cat x.yaml`), with the line
    from_config: dict[str, tuple[list[tuple[str, int]], str, int]] = {}  # VAR -> (files read, function, line) for `VAR=$(func)`
    origin: dict[str, tuple[str, int]] = {}  # VAR -> (file, line) of a literal assignment made for certain (Line.origins)
    assigned_text: dict[str, str] = {}  # VAR -> its last assignment as written (`_named` follows `$ACC_LAUNCHER` into `$WORLD_SIZE`)
    slurm_line = {name: n for what, _, n in sbatch for name, of in _SLURM_VARS.items() if of == what}
    depth = 0  # `if`/`case`/loop bodies open: an assignment there may not run
    branches = Branches()  # decided `if` blocks and argument loops open (formats/shell_branch.py)
    here_vars: dict[str, str] = {}  # VAR -> the folder (Line.cwd form) `VAR=$(cd "$(dirname "$0")/.." && pwd)` holds
    # a `source` word -> (real path, its values, its text), read once
    sourced_files: dict[str, tuple[str, dict[str, tuple[str, int]], str] | None] = {}
    sourced_exports: dict[tuple[str, bool | None], tuple[dict[str, Exported], bool | None]] = {}  # by (word, allexport before)
    allexport: bool | None = False  # `set -a` holds (None: it may, set or unset under a branch)
    exports: dict[str, Exported] = dict(written_env)  # what a command run now gets in its environment (Line.exported)
    unread_sources: list[int] = []  # lines of `source` commands whose file was not read
    export_defaults: set[tuple[str, int]] = set()  # (name, line) of `export X=${X:-literal}` (Line.env_defaults)

    def in_tree(word: str) -> bool | None:
        """`[ -f WORD ]`: true where WORD names a file of the repository (as `source` finds it), else undecided."""
        words = _split(expand(here_word(word, here_vars), env))
        return True if source is not None and len(words) == 1 and "$" not in words[0] and source(words[0]) is not None else None

    physical = dict(raw)
    heredoc: tuple[str, str, int] | None = None  # (terminator, the file word it writes, first body line)
    written: dict[str, tuple[int, int]] = {}  # file word -> the body's (first, last) line
    logical_lines, broken = _broken_continuations(_logical_lines(raw), raw, path.name)
    for n, logical in logical_lines:
        stripped = hash_comment_cut(logical).strip()
        if heredoc is not None and logical.strip() == heredoc[0]:
            written[heredoc[1]] = (heredoc[2], n - 1)
            heredoc = None
            continue
        doc = _HEREDOC.match(stripped) if heredoc is None else None
        if doc:
            target = _split(expand(doc.group(1) or doc.group(4), env))
            heredoc = (doc.group(2) or doc.group(3), target[0] if len(target) == 1 else "", n + 1)
            continue
        conditional = bool(re.search(r"&&|\|\|", stripped))
        here = _HERE_VAR.match(stripped)
        if here and not depth and not func:  # `REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)`: the launcher's folder and below
            here_vars[here.group(1)] = "@/" + here.group(2).strip("/") if here.group(2).strip("/") else "@"
            env.pop(here.group(1), None)
            continue
        of = _HERE_OF.match(stripped)
        if of and of.group(2) in here_vars and not depth and not func:
            rel = here_word(f"${of.group(2)}{of.group(3)}", here_vars)
            here_vars[of.group(1)] = "@" if rel == "." else "@/" + rel
            env.pop(of.group(1), None)
            continue
        if not stripped:
            hint = _commented_command(logical)
            if hint and len(commented) < MAX_COMMENTED:
                tokens = _split(expand(hint, env))
                prefix: dict[str, str] = {}
                for tok in tokens[:4]:  # `N_GPUS=2 modal run ...`: its inline prefix
                    if a := re.match(r"^([A-Za-z_]\w*)=(.*)$", tok):
                        prefix[a.group(1)] = a.group(2)
                commented.append(Line(n, tuple(tokens), tuple({**env, **prefix}.items()), places.get(n, ""), cwd=cwd))
            continue
        if '"\'"' in stripped:
            stripped = _QUOTE_HOLE.sub(r'"\1"', stripped)
        for part in re.split(r"&&|\|\||;", stripped):
            if heredoc is None and not func:  # a decided `if` / an argument loop: the commands that do not run are not read
                skip, part = branches.step(
                    re.sub(r"^\s*(?:do|then)\s+", "", part).strip(), n, env, _literal_names(origin, assigned_text), in_tree if not depth else None
                )
                for name, at in branches.skipped.items():
                    if name in env and "$" not in env[name] and name not in defaulted:
                        defaulted[name] = f"`{name}` is {env[name]!r}, read as the script is run without arguments (line {at} sets it from them)"
                branches.skipped.clear()
                if skip:
                    continue
            part = re.sub(r"^\s*(?:do|then|else)\s+", "", part)  # `do torchrun ...` on the loop's own line
            if _OPENS.match(part.strip()):
                depth += 1
            elif re.match(r"^(?:fi|esac)\b", part.strip()):
                depth = max(depth - 1, 0)
            if (
                len(runs) < MAX_RUNS
                and not func
                and heredoc is None
                and any(x in part for x in _RUN_SUFFIXES)  # cheap: most commands run no shell script
                and (run := _script_run(part, n, env, exports if carries else {}, assigned_text, origin, slurm_line, cwd, str(path)))
            ):
                runs.append(run)
            sourced = _SOURCE.match(part.strip())
            if sourced and source is None:
                unread_sources.append(n)
            if sourced and source is not None:
                sword = _split(expand(here_word(sourced.group(1), here_vars), env))
                readable = len(sword) == 1 and "$" not in sword[0] and not depth and not conditional and not func
                if readable and sword[0] not in sourced_files and len(sourced_files) < MAX_SOURCED:
                    got = source(sword[0])
                    sourced_files[sword[0]] = (got[0], _sourced_values(*got), got[1]) if got is not None else None
                held = sourced_files.get(sword[0]) if readable else None
                if held is not None:
                    for sname, (svalue, sline) in held[1].items():
                        env[sname] = svalue
                        origin[sname] = (held[0], sline)
                    key = (sword[0], allexport)
                    if key not in sourced_exports:
                        sourced_exports[key] = _sourced_exports(held[0], held[2], allexport)
                    exports.update(sourced_exports[key][0])
                    allexport = sourced_exports[key][1]
                else:
                    unread_sources.append(n)  # a file goblin did not read may export anything (Line.unread_sources)
                continue
            if (change := allexport_change(part)) is not None:
                scoped = bool(depth) or conditional or bool(func)
                allexport = change if not scoped else (allexport if allexport == change else None)
                continue
            part = _ARRAY_AT.sub(lambda m: shlex.quote(_array_word(arrays, m, env)) if _array_word(arrays, m, env) else m.group(0), part)
            if _FOR.match(part.strip()):  # `for f in "${NAME[@]}"`: the array's words (an array named nowhere is not read)
                part = _ARRAY_ALL.sub(lambda m: shlex.join(arrays[m.group(1)]) if arrays.get(m.group(1)) else m.group(0), part)
            counted = [m.group(1) for m in _ARRAY_LEN.finditer(part) if m.group(1) in arrays]
            part = _ARRAY_LEN.sub(lambda m: str(len(arrays[m.group(1)])) if m.group(1) in arrays else m.group(0), part)
            for m in _READS.finditer(part):  # `done < ${RUN_NAME}_args.yaml`, `cat x.yaml`: the file a loop or command reads
                word = word_path(expand(m.group(1) or m.group(2), env))
                if "$" not in word:
                    func_reads.setdefault(func, []).append((word, n))
            header = _FUNC.match(part.strip())
            if header:
                func, func_at = header.group(1), n
                continue
            if part.strip() == "}":
                if func and func_at:
                    functions[func] = (func_at + 1, n - 1)
                func = ""
                continue
            array = _ARRAY.match(part.strip())
            if array:  # `NAME=(a b)`, `NAME=("${OTHER[@]}")`; `("$@")` is the script's arguments: unknown
                words = _split(array.group(2))
                if any(_POSITIONAL_IN.search(w) for w in words):
                    arrays.pop(array.group(1), None)
                    from_args[array.group(1)] = n
                else:
                    array_at[array.group(1)] = n
                    copied: list[str] = []
                    for v in words:
                        whole = _ARRAY_ALL.fullmatch(v)
                        copied.extend(arrays.get(whole.group(1), [v]) if whole else [expand(v, env)])
                    arrays[array.group(1)] = copied
                continue
            if re.match(r"^\s*done\b", part):
                loops.clear()
                depth = max(depth - 1, 0)
                continue
            loop = _FOR.match(part.strip())
            if loop:
                listed = loop.group(2)
                known = "$(" not in listed and "`" not in listed  # `for i in $(seq ...)`: not read
                values = [v for v in _split(expand(listed, env)) if "$" not in v][:MAX_LOOP_WORDS] if known else []
                if values:
                    loops[loop.group(1)] = values
                env.pop(loop.group(1), None)
                origin.pop(loop.group(1), None)
                continue
            if re.match(r"^(?:cd|pushd)(?:\s|$)", part.strip()):
                named_dir = re.fullmatch(r"""(?:cd|pushd)\s+["']?\$\{?([A-Za-z_]\w{0,63})\}?["']?""", part.strip())
                cwd = here_vars[named_dir.group(1)] if named_dir and named_dir.group(1) in here_vars else _cd(part.strip(), cwd, env)
                continue
            track_export(part, n, str(path), exports, env, origin, bool(depth) or conditional or bool(func), allexport, export_defaults)
            colon = _COLON_ASSIGN.match(part.strip())
            by_default = _VAR_DEFAULT.match(colon.group(1)) if colon else None
            if by_default is not None:
                # `: "${CONFIG:=recipes/x.yaml}"`: `:` does nothing, its word's expansion assigns the default where the
                # variable is unset or null (bash(1), Parameter Expansion `${parameter:=word}`); under a branch, unknown
                name = by_default.group(1)
                if depth or conditional or func:
                    env.pop(name, None)
                    origin.pop(name, None)
                elif not env.get(name):
                    _default_read(name, name, by_default.group(3), n, env, origin, defaulted)
                continue
            m = _ASSIGN.match(part.strip())
            assigned = m.group(2).strip() if m else ""
            # `VAR=value` alone; `VAR=value cmd` and `VAR="5,7" cmd` are an inline prefix
            # `VAR=$(echo "$A" | cut -f2-)`: one command substitution, spaces inside it, is an assignment too (unknown below)
            substituted = assigned.startswith("$(") and assigned.endswith(")") and not assigned.startswith("$((")
            # `NUM_NODES=$((NUM_NODES - 1))`: arithmetic expansion is one word, spaces inside it too (bash(1), EXPANSION: word
            # splitting is not done on the words of an assignment), as `$((A*B))` is (review12b #29, review12a #18)
            spaced = _ARITH.fullmatch(assigned) is not None
            if m and ((assigned[:1] in "'\"" and len(_split(assigned)) <= 1) or " " not in assigned or substituted or spaced):
                origin.pop(m.group(1), None)
                if _substitutes(assigned):
                    env.pop(m.group(1), None)  # a command substitution: unknown
                    inner = re.match(r"^[\"']?\$\(\s*([A-Za-z_][\w-]*)", assigned)
                    if inner and inner.group(1) in func_reads:  # `TRAIN_ARGS=$(build_train_args)`: a function that reads a config
                        from_config[m.group(1)] = (func_reads[inner.group(1)], inner.group(1), n)
                    elif "" in func_reads and func_reads[""][-1][1] == n:  # `ARGS=$(cat x.yaml | ...)` on this line
                        from_config[m.group(1)] = ([func_reads[""][-1]], "", n)
                    continue
                given = _ARG_DEFAULT.match(assigned.strip("'\""))
                if given:
                    # `CONFIG=${1:-"$REPO_ROOT/configs/x.yaml"}` (6a #4 interpolation-of-experts-torchtune
                    # scripts/launch_mi250x_fsdp.sh:27): the default, read as the script is run without that argument
                    # (bash(1), Parameter Expansion `${parameter:-word}`); not a value set for certain (Line.origins)
                    words = _split(expand(given.group(2), env))
                    if len(words) == 1:
                        env[m.group(1)] = words[0]
                        defaulted[m.group(1)] = (
                            f"`{m.group(1)}` is {words[0]!r}, the default of line {n} (`${{{given.group(1)}:-...}}`),"
                            f" read as the script is run without its argument ${given.group(1)}"
                        )
                    else:
                        env.pop(m.group(1), None)
                    continue
                arg = _POSITIONAL.match(assigned.strip("'\""))
                if arg:  # `MICRO_BATCH_SIZE=${4}`: the script's 4th argument, empty when it is run without it
                    env.pop(m.group(1), None)
                    positional[m.group(1)] = arg.group(0)
                    continue
                by_default = _VAR_DEFAULT.match(assigned.strip("'\""))
                if by_default and "$" in by_default.group(3):
                    # `CONFIG=${CONFIG:-"$ROOT_DIR/recipes/x.yaml"}` (review11b #26 grail-simulation training/training-grpo-wage.sh:21):
                    # a variable the caller may set, read as it does not (bash(1), Parameter Expansion `${parameter:-word}`:
                    # the word, itself expanded, when the parameter is unset or null); not a value set for certain
                    over = by_default.group(1)
                    if over in env and (env[over] or ":" not in by_default.group(2)):  # set above in the file: its value
                        env[m.group(1)] = env[over]
                        origin.pop(m.group(1), None)
                    else:
                        _default_read(m.group(1), over, by_default.group(3), n, env, origin, defaulted)
                    continue
                fallback = _DEFAULT_OF.match(assigned.strip("'\""))
                if fallback and fallback.group(1) in positional and fallback.group(1) not in env:
                    # `X=${X:-"1"}` over an argument: bash uses the default when the argument is unset or empty
                    # (bash(1), Parameter Expansion `${parameter:-word}`); read as run without that argument
                    defaulted[m.group(1)] = (
                        f"`{m.group(1)}` is {fallback.group(2).strip(chr(39) + chr(34))!r}, the default of line {n}"
                        f" (`${{{fallback.group(1)}:-...}}`), read as the script is run without its argument {positional[fallback.group(1)]}"
                    )
                if _POSITIONAL_IN.search(assigned):
                    # `MODEL=${2}`: the script's arguments are not known here; unset, so that a later
                    # `${MODEL:-default}` takes the file's own default (review3 Qwen2.5-Coder sft_qwencoder.sh:13,17)
                    env.pop(m.group(1), None)
                    continue
                words = [expand(assigned, env)] if spaced else _split(expand(assigned, env))
                if spaced and not words[0].lstrip("-").isdigit():  # over a name not known for a number: unknown
                    env.pop(m.group(1), None)
                    continue
                env[m.group(1)] = words[0] if len(words) == 1 else " ".join(words)
                assigned_text[m.group(1)] = assigned
                if _ARITH.search(assigned) and len(words) == 1 and words[0].lstrip("-").isdigit():
                    # `WORLD_SIZE=$((SLURM_GPUS_ON_NODE*SLURM_NNODES))`: said wherever a launch line uses it, with the #SBATCH lines
                    slurm = [f"{v} {env[v]} from #SBATCH line {slurm_line[v]}" for v in sorted(slurm_line) if re.search(r"\b" + v + r"\b", assigned)]
                    defaulted[m.group(1)] = f"`{m.group(1)}` is {words[0]} (line {n}: `{assigned}`" + (f"; {', '.join(slurm)}" if slurm else "") + ")"
                if not depth and not conditional and not func and len(words) == 1 and "$" not in words[0]:
                    origin[m.group(1)] = (str(path), n)
                for name in counted:  # `TOTAL_NODES=${#NODES[@]}`: said wherever a launch line uses it
                    args = f", read as the script is run without arguments (line {from_args[name]} sets it from them)" if name in from_args else ""
                    defaulted[m.group(1)] = (
                        f"`{m.group(1)}` is {len(arrays[name])} (line {n}), the number of words of the array {name} (line {array_at.get(name, n)}){args}"
                    )
                continue
            subst = _ENVSUBST.match(re.sub(r"^(?:[A-Za-z_]\w*=\S*\s+)*", "", part.strip()))
            if subst:  # `envsubst < recipes/x.yaml > temp_config.yaml`: the file written is x.yaml with its `$VAR`s filled in
                src, dst = (word_path(w) for w in (expand(subst.group(1), env), expand(subst.group(2), env)))
                if src.lower().endswith((".yaml", ".yml", ".json")) and "$" not in src:
                    copies[dst] = (src, n)
                    verbs[dst] = "writes (envsubst)"
                continue
            copy = _COPY.match(part.strip())
            if copy:  # `cp recipes/x/config_full.yaml "$new_config_file"`: a launch of the copy runs this config (review4 #16 SPPO)
                words = [word_path(w) for w in _split(expand(copy.group(1), env)) if not w.startswith("-")]
                if len(words) == 2 and words[0].lower().endswith((".yaml", ".yml", ".json")) and "$" not in words[0]:
                    copies[words[1]] = (words[0], n)
                    verbs.pop(words[1], None)
                continue
            if not any(w in part for w in _LAUNCH_WORDS):
                continue
            named_here = _named(part, assigned_text)
            used = [defaulted[v] for v in sorted(defaulted) if v in named_here]
            reads: list[str] = []
            for var in sorted(from_config):
                if re.search(r"\$\{?" + var + r"\b", part):
                    files, fn, at = from_config[var]
                    reads.extend(w for w, _ in files)
                    how = f"function {fn} (line {at})" if fn else f"line {at}"
                    listed = ", ".join(f"{w} (line {k})" for w, k in files)
                    used.append(f"the launch line passes ${var}, which {how} builds from {listed}: read as a launch of that file")
            for looped in _loop_values(part, loops):
                tokens = _shell_c(_split(expand(part, {**env, **looped})))
                inline: dict[str, str] = {}
                for tok in tokens:  # VAR=value words before the command apply to it only
                    a = re.match(r"^([A-Za-z_]\w*)=(.*)$", tok)
                    if not a:
                        break
                    inline[a.group(1)] = a.group(2)
                said = list(used)
                if n in broken:
                    said.append(broken[n][1])
                for i, t in enumerate(tokens):
                    if word_path(t) in copies:
                        src, at = copies[word_path(t)]
                        said.append(
                            f"line {at} {verbs.get(word_path(t), 'copies')} {src} to {word_path(t)}, which line {n} launches: read as a launch of {src}"
                        )
                        tokens[i] = src
                named = sorted(v for v in origin if re.search(r"\$\{?" + v + r"\b", part))
                commands.append(
                    Line(
                        n,
                        tuple(tokens),
                        tuple({**env, **inline}.items()),
                        places.get(n, ""),
                        notes=tuple(said),
                        cwd=cwd,
                        reads=tuple(reads),
                        raw=tuple(_split(part)),
                        origins=tuple((v, *origin[v]) for v in named),
                        written_to=heredoc[1] if heredoc is not None else (f"{func}()" if func else ""),
                        body=(heredoc[2], 0) if heredoc is not None else (0, 0),
                        joined_at=broken[n][0] if n in broken else 0,
                        unread_sources=tuple(unread_sources) if carries and heredoc is None and not func else (),
                        env_defaults=tuple(sorted(name for name, at in export_defaults if exports.get(name, ("", "", "", 0, False))[3] == at)),
                        # a here-document's or a function's command runs later, in an environment not read here
                        exported=()
                        if heredoc is not None or func
                        else tuple(_prefix_env(_split(part), n, str(path), physical, exports if carries else _kernel_at(kernel, n, str(path)))),
                    )
                )
    written.update({f"{name}()": lines for name, lines in functions.items()})
    commands = _run_by_srun(commands, written)
    names = frozenset(word_path(tok).rsplit("/", 1)[-1] for line in commands for tok in (*line.tokens, *line.reads))
    names |= frozenset(mod.rsplit("/", 1)[-1] for line in commands for i in range(len(line.tokens)) for mod in module_files(line.tokens, i))
    globs = frozenset(name for name in names if GLOB.search(name))
    # `${RUN_NAME}_args.yaml` -> `*_args.yaml`, `configs/${MODEL}.yaml` -> `*.yaml` (the folder is judged later)
    globs |= frozenset(p.rsplit("/", 1)[-1] for line in commands for tok in line.tokens if "$" in tok and (p := var_pattern(word_path(tok.split("=", 1)[-1]))))
    names |= frozenset(word_path(tok).rsplit("/", 1)[-1] for line in commented for tok in line.tokens)
    npu = npu_lines(text) if suffix in (".md", ".markdown") else frozenset()
    return LauncherFile(
        path=path, lines=tuple(commands), sbatch=tuple(sbatch), names=names, globs=globs, commented=tuple(commented), cloud=cloud, npu=npu, runs=tuple(runs)
    )


MAX_COMMENTED = 64  # commented-out launch lines kept per file


def _literal_names(origin: dict[str, tuple[str, int]], assigned_text: dict[str, str]) -> set[str]:
    """The variables set for certain to a literal as written (`USE_VLLM=true`, not `${USE_VLLM:-true}`, which the caller
    may set): the ones `shell_branch.decide` may read."""
    return {name for name in origin if "$" not in assigned_text.get(name, "")}


# `cat > "${INNER}" << EOF` / `cat << 'EOF' > x.sh`: a here-document written to a file
_HEREDOC = re.compile(r"""^cat\s+>\s*(\S+)\s+<<-?\s*["']?([A-Za-z_]\w{0,31})["']?$|^cat\s+<<-?\s*["']?([A-Za-z_]\w{0,31})["']?\s+>\s*(\S+)$""")


def _run_by_srun(commands: list[Line], written: dict[str, tuple[int, int]]) -> list[Line]:
    """The commands of a here-document body that a later `srun` line of the file runs (a word of it is the file
    the body was written to): each gets that srun line as `run_by` and the body's lines."""
    import dataclasses

    runs: dict[str, Line] = {}
    for line in commands:
        if "srun" in line.tokens[:2]:
            for tok in line.tokens:
                # a shell function (`run_training() {` ... `}`, exported with `export -f`) srun runs by name
                # (`srun ... bash -c run_training`, review7a #7 llm-hpc-gervasio job_multiGPU_QA_LoRA.sh:66-91)
                for word in (tok, f"{tok}()"):
                    if word in written and word not in runs:
                        runs[word] = line
    return [
        dataclasses.replace(line, run_by=runs[line.written_to], body=written[line.written_to])
        if line.written_to in runs and line.written_to in written and runs[line.written_to].line > line.line
        else line
        for line in commands
    ]


def _array_word(arrays: dict[str, list[str]], m: re.Match[str], env: dict[str, str]) -> str:
    """The word `${NAME[i]}` holds (a negative index counts from the end, bash(1) Arrays; a variable index from the
    file's own values, e.g. SLURM_ARRAY_TASK_ID of a one-task `#SBATCH --array=0`); "" when not known."""
    index = m.group(2).strip("${}")
    index = index if index.lstrip("-").isdigit() else env.get(index, "")
    if not index.lstrip("-").isdigit():
        return ""
    words, i = arrays.get(m.group(1), []), int(index)
    return words[i] if -len(words) <= i < len(words) else ""


def _named(part: str, assigned: dict[str, str]) -> set[str]:
    """The variables a command names, directly or through the assignments of the variables it names
    (`bash -c "$ACC_LAUNCHER"` where ACC_LAUNCHER holds `--num_processes $WORLD_SIZE`); bounded."""
    out: set[str] = set()
    todo = [part]
    while todo and len(out) < 256:
        for m in _VAR.finditer(todo.pop()):
            name = m.group(1) or m.group(4)
            if name not in out:
                out.add(name)
                if name in assigned:
                    todo.append(assigned[name])
    return out


def _commented_command(logical: str) -> str:
    """The command of a line that is a shell comment holding a launch command (`# N_GPUS=2 modal run
    ... --config x.yaml`, review3 SWE-smith scripts/train.run_ft_torchtune.sh:3); "" otherwise (prose,
    `#!`, `#SBATCH`, a comment with no config-file word)."""
    text = logical.strip()
    if not text.startswith("#") or text.startswith(("#!", "#SBATCH")):
        return ""
    body = text.lstrip("#").strip()
    words = body.split()
    command = [w for w in words if not re.match(r"^[A-Za-z_]\w*=", w)]  # after `VAR=value` prefixes
    if not command or not any(Path(command[0]).name.startswith(w) for w in _LAUNCH_WORDS):
        return ""
    # a command has a flag, or is a launcher's subcommand form that takes the config bare (`llamafactory-cli
    # train x.yaml`, review5 #16 Wyyyb/leakage_influence llama_factory/experiments/0629/0.sh:9; `axolotl train
    # x.yaml`): prose that mentions a launcher ("torchrun is used for ...") is neither
    bare = len(command) >= 3 and launcher_kind(tuple(command[:2])) in ("llamafactory", "axolotl") and command[2].lower().endswith(CONFIG_SUFFIXES)
    if not bare and not any(w.startswith("-") for w in command):
        return ""
    if not any(w.lower().endswith(CONFIG_SUFFIXES) for w in words):
        return ""
    return body


_FOR = re.compile(r"^for\s+([A-Za-z_]\w*)\s+in\s+(.+)$")
_POSITIONAL_IN = re.compile(r"\$(?:\{[0-9@*#]\}|[0-9@*#])")  # a positional parameter anywhere in a word
GLOB = re.compile(r"[*?\[]")
MAX_LOOP_WORDS = 64  # a `for` loop's words read (one command line each)


def _loop_values(part: str, loops: dict[str, list[str]]) -> list[dict[str, str]]:
    """One environment per word of the first loop variable the command uses (`torchrun ... $cfg`
    inside `for cfg in a.yaml b.yaml`), else one empty one."""
    for var, values in loops.items():
        if re.search(r"\$(?:\{" + var + r"\}|" + var + r"\b)", part):
            return [{var: v} for v in values]
    return [{}]


def _shell_c(tokens: list[str]) -> list[str]:
    """`srun ... bash -c "accelerate launch ... x.yaml"`: the command string's words in place of
    `bash -c STRING` (review3 shisa-v2 train/slurm/base-llama3-70b-fft.slurm:64), so that the command it runs is read."""
    for i, tok in enumerate(tokens[:-2]):
        if Path(tok).name in ("bash", "sh", "zsh") and tokens[i + 1] == "-c":
            return [*tokens[:i], *_split(tokens[i + 2]), *tokens[i + 3 :]]
    return tokens


_CAT_WORD = re.compile(r"\$\(\s*cat\s+([^\s()$]+)\s*\)")


def word_path(tok: str) -> str:
    """The path a word may hold: `--config=x.yaml` -> `x.yaml`; `$(cat config/x.json)`, the file's text passed as the
    word (review7b #28 unionai-oss llm-fine-tuning README.md:63-73 `--training_args "$(cat config/training_args.json)"`),
    -> `config/x.json`."""
    word = tok.split("=", 1)[1] if tok.startswith("-") and "=" in tok else tok
    cat = _CAT_WORD.fullmatch(word)
    return cat.group(1) if cat else word


def _sbatch_options(text: str) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    words = _split(text)
    for i, w in enumerate(words):
        name, _, value = w.partition("=")
        if not value and i + 1 < len(words) and not words[i + 1].startswith("-"):
            value = words[i + 1]
        num = re.match(r"^(\d+)", value)
        if name in ("-N", "--nodes") and num:
            out.append(("nodes", int(num.group(1))))
        elif name in ("--gpus-per-node", "--gpus_per_node") and (g := re.search(r"(\d+)$", value)):
            out.append(("gpus_per_node", int(g.group(1))))
        elif name == "--gres" and (g := re.search(r"gpu(?::[\w-]+)?:(\d+)", value)):
            out.append(("gpus_per_node", int(g.group(1))))
        elif name == "--ntasks-per-node" and num:
            out.append(("ntasks_per_node", int(num.group(1))))
        elif name in ("-n", "--ntasks") and num:
            out.append(("ntasks", int(num.group(1))))
        elif name in ("-G", "--gpus") and (count := _typed_count(value)) is not None:
            out.append(("gpus", count))
        elif name == "--gpus-per-task" and (count := _typed_count(value)) is not None:
            out.append(("gpus_per_task", count))
    return out


def _typed_count(value: str) -> int | None:
    """`1` or `mi300x:1` (`[type:]<number>`, sbatch.1:1167) -> 1; None for anything else (a list, a variable)."""
    count = value.rsplit(":", 1)[-1]
    return int(count) if count.isdigit() and len(count) <= 5 and "," not in value else None


# Slurm doc/man/man1/sbatch.1@284c3b95f0: `-G, --gpus` is "the total number of GPUs required for the job" (:1167-1168),
# `--gpus-per-task` the GPUs "on each task" (:1207-1209), `-n, --ntasks` the tasks job steps will launch (:1975-1979),
# `--gres` and `--gpus-per-node` the count per node (:1225-1231, :1180-1182). A total is a per-node count only where it
# cannot be spread over nodes: one node stated (`--nodes=1`), or a total of one GPU.
SBATCH_GPUS_AT = "Slurm doc/man/man1/sbatch.1:1167-1168, :1207-1209, :1975-1979@284c3b95f0"


def sbatch_per_node(sbatch: list[tuple[str, int, int]]) -> tuple[int, int] | None:
    """(GPUs per node, the directive's line) a job's `--gpus` total or `--gpus-per-task` x tasks gives where no
    `--gres=gpu:N` / `--gpus-per-node` says it; None where the directives leave it open."""
    first: dict[str, tuple[int, int]] = {}
    for what, value, n in sbatch:
        first.setdefault(what, (value, n))
    if "gpus_per_node" in first:
        return None
    nodes = first["nodes"][0] if "nodes" in first else None
    if "gpus_per_task" in first:
        per_task, at = first["gpus_per_task"]
        if "ntasks_per_node" in first:
            return per_task * first["ntasks_per_node"][0], at
        if "ntasks" in first:
            total = per_task * first["ntasks"][0]
            return (total, at) if nodes == 1 or total == 1 else None
        return None
    if "gpus" in first:
        total, at = first["gpus"]
        return (total, at) if nodes == 1 or total == 1 else None
    return None


def var_pattern(word: str) -> str:
    """`${RUN_NAME}_args.yaml` -> `*_args.yaml`: each variable the file leaves unset as `*`; "" when the word is no
    config file name, or the pattern is nothing but variables and a suffix in its last part (`$CONFIG`)."""
    if not word.lower().endswith(CONFIG_SUFFIXES) or GLOB.search(word):
        return ""
    pattern = _VAR.sub("*", word)
    if "$" in pattern:
        return ""
    parts = pattern.split("/")
    literal_name = not re.fullmatch(r"[*]+\.\w+", parts[-1])  # `*_args.yaml`, not `*.yaml`
    literal_dir = any(p and "*" not in p and p not in (".", "..") for p in parts[:-1])  # `configs/*.yaml`
    return pattern if literal_name or literal_dir else ""


def launcher_kind(tokens: tuple[str, ...]) -> str | None:
    words = [Path(t).name for t in tokens]
    for i, w in enumerate(words):
        prev = tokens[i - 1] if i else ""
        if prev.startswith("-") and "=" not in prev and prev not in ("--",):
            continue  # a flag's value (`--launcher deepspeed`), not a command
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w == "torchrun" or (w.startswith("python") and nxt == "-m" and i + 2 < len(words) and words[i + 2].startswith("torch.distributed.")):
            return "torchrun"
        if w == "accelerate" and nxt == "launch":
            return "accelerate"
        if w == "deepspeed" and i + 1 < len(words):
            return "deepspeed"
        if w == "tune" and nxt == "run":
            return "tune"
        if w in ("llamafactory-cli", "lmf") and nxt == "train":
            return "llamafactory"
        if w == "axolotl" and nxt == "train":
            return "axolotl"
        if w == "pyflyte" and "run" in words[i + 1 :]:
            return "flyte"
    if words and words[0] in ("srun", "sbatch"):
        return words[0]
    return None


_MODULE_WORD = re.compile(r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*")


def module_file(tokens: tuple[str, ...], i: int) -> str:
    """`training/trainer.py` for the word `training.trainer` after `-m` / `--module` (python -m, torchrun -m/--module,
    deepspeed --module: a flag, the module is its `user_script` word, run as `python -m` on each node: DeepSpeed 0.16.5
    deepspeed/launcher/runner.py:141, :192, :536, launch.py:237-240), else "". A hyphen is allowed in a module word:
    `-m lora-llama3` runs lora-llama3.py, as Python's path finder looks a file up by name without checking that the
    name is an identifier (Python 3.11.7 `python -m lora-llama3` runs it; review12b row 26 small-ablation
    malaysian-sft/ds3-llama3.1-70b-lora-256.sh:4-5)."""
    if i == 0 or tokens[i - 1] not in ("-m", "--module") or not _MODULE_WORD.fullmatch(tokens[i]):
        return ""
    if tokens[i].startswith("torch."):
        return ""
    return tokens[i].replace(".", "/") + ".py"


def module_files(tokens: tuple[str, ...], i: int) -> tuple[str, ...]:
    """The repository paths `-m pkg.mod` may run (`module_file`'s word), as Python's `-m` finds them: the module
    `pkg/mod.py`, or a package's `pkg/mod/__main__.py` (runpy runs `<package>.__main__` for a package's name: Python
    3.11.7 Lib/runpy.py:140-148 `_get_module_details`, called by `_run_module_as_main` :173); each also under `src/`,
    the src layout a `pip install -e .` puts on the path (magicoder `accelerate launch -m magicoder.train` runs
    src/magicoder/train.py, review6b row 33). A module the repository does not hold (`-m axolotl.cli.train`) is
    matched by none of them."""
    word = module_file(tokens, i)
    if not word:
        return ()
    main = word[: -len(".py")] + "/__main__.py"
    return (word, main, "src/" + word, "src/" + main)
