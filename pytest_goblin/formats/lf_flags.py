"""A LLaMA-Factory run given only as command-line flags (`llamafactory-cli train --stage sft --model_name_or_path X ...`,
`torchrun ... src/train.py --flags`, `python src/train_bash.py --flags` of LLaMA-Factory 0.7): read as a LLaMA-Factory
config made of those flags, the shell file's item, each key at the line its flag is written on; nothing run.

- With a first word that is not a `.yaml`/`.yml`/`.json` file, LLaMA-Factory hands the words to HfArgumentParser over the
  same dataclasses a YAML fills, and refuses one it has no field for (FLAGS_AT). `llamafactory-cli train` drops `train`
  and runs the same `run_exp()` (llamafactory v0.9.5 src/llamafactory/launcher.py:56,155-157; launch_lfentry.ENTRY_AT);
  LLaMA-Factory 0.7.0's src/train_bash.py calls `run_exp()` from llmtuner (src/train_bash.py:1-5@v0.7.0).
- Each value is typed as HfArgumentParser types the field (BOOL_AT): a field whose default is a bool through
  string_to_bool (a bare `--flag` is True), an int or float default as that number, a field of default None (an
  Optional[int]/Optional[float] such as eval_steps or quantization_bit; the tables hold no annotation) a number where the
  word is one, as a YAML's; any other kept as the word, which the reader converts as it converts a YAML's value.
- A value set at run time (a `$` or backtick left after the launcher's variables are resolved, launcher_text.Line.tokens)
  is unknown: the fields it feeds are kept at their default and said not judged (llamafactory._unread).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, NotATrainingConfig
from ..frameworks.tables import table
from ..yamlio import YamlMap
from .launch_lfentry import entry_script
from .launch_line import short_command
from .launcher_text import LauncherFile, Line, word_path

FLAGS_AT = (
    "llamafactory v0.9.5 src/llamafactory/hparams/parser.py:85-99,109-114 (a first word that is not .yaml/.yml/.json: "
    "sys.argv[1:] to HfArgumentParser.parse_args_into_dataclasses, an unknown word refused); v0.8.3 :60-71; "
    "llmtuner v0.7.0 src/llmtuner/hparams/parser.py:40-51"
)
BOOL_AT = "transformers 5.25.0 src/transformers/hf_argparser.py:36-46 (string_to_bool), :210-219 (a bare bool flag is True)"
_ENTRY_NAMES = ("train.py", "train_bash.py")  # src/train.py (0.8-0.9), src/train_bash.py (0.7 and before)
_OWN_FLAGS = ("--stage", "--model_name_or_path")  # LLaMA-Factory's own: FinetuningArguments.stage, ModelArguments
_KEY = re.compile(r"--([A-Za-z_][\w.-]{0,127})")
_SHELL_END = re.compile(r"^(?:\||\|\||&&|;|&|\d?>>?\S*|<\S*|\d?>&\d)$")  # a pipe, list operator or redirection: the command ends
_INT = re.compile(r"[-+]?[0-9]{1,18}")
_FLOAT = re.compile(r"[-+]?(?:[0-9]{1,18}\.[0-9]{0,18}|\.[0-9]{1,18})(?:[eE][-+]?[0-9]{1,3})?|[-+]?[0-9]{1,18}[eE][-+]?[0-9]{1,3}")
_STRING_TRUE = ("yes", "true", "t", "y", "1")
_STRING_FALSE = ("no", "false", "f", "n", "0")


@dataclass(frozen=True)
class Flag:
    key: str
    value: str | None  # None: a bare `--flag`
    word: str  # as written (`--key value`, `--key=value`, `--key`)
    line: int  # the shell file's line the flag is written on


def _start(line: Line, folder: Path, root: Path) -> int | None:
    """The index of the first argument word LLaMA-Factory parses, where the line runs LLaMA-Factory: `llamafactory-cli
    train`, or its entry script (a repository copy that calls run_exp(), launch_lfentry.entry_script; or, not in the
    repository, `src/train.py` / `src/train_bash.py` given LLaMA-Factory's own --stage and --model_name_or_path)."""
    toks = line.tokens
    for i, tok in enumerate(toks):
        if Path(tok).name in ("llamafactory-cli", "lmf") and i + 1 < len(toks) and toks[i + 1] == "train":
            return i + 2
    at = next((i for i, t in enumerate(toks) if t.endswith(".py") and not t.startswith("-")), None)
    if at is None:
        return None
    if entry_script(toks, folder, root, line.cwd) == at:
        return at + 1
    word = word_path(toks[at])
    parts = Path(word).parts
    if len(parts) >= 2 and parts[-2] == "src" and parts[-1] in _ENTRY_NAMES and "$" not in word:
        from .launch_naming import resolve_relative

        found, _ = resolve_relative(word, folder, root, line.cwd)
        if found is not None and found.is_relative_to(root):
            return None  # a repository file that is not LLaMA-Factory's entry (entry_script said no): its own script
        if all(any(t == f or t.startswith(f + "=") for t in toks[at + 1 :]) for f in _OWN_FLAGS):
            return at + 1
    return None


def _words(line: Line, start: int) -> list[str] | None:
    """The argument words, or None where one is a positional word (a YAML/JSON config, or anything not a flag's value)."""
    out: list[str] = []
    for tok in line.tokens[start:]:
        if _SHELL_END.match(tok):
            break
        out.append(tok)
    if not out or not out[0].startswith("--"):
        return None
    for i, tok in enumerate(out):
        if tok.startswith("--"):
            continue
        prev = out[i - 1]
        if not prev.startswith("--") or "=" in prev:
            return None  # a positional word: not a flags-only run
    return out


def _flag_lines(rows: list[str], line: Line, keys: list[str]) -> list[int]:
    """The file line each `--key` is written on, in order from the command's first line (the command's line where the
    flag is not found written so)."""
    at = line.line - 1
    out: list[int] = []
    for key in keys:
        pattern = re.compile(rf"(?<![\w-])--{re.escape(key)}(?![\w.-])")
        found = next((n for n in range(at, min(len(rows), at + 400)) if pattern.search(rows[n])), None)
        if found is None:
            out.append(line.line)
            continue
        at = found
        out.append(found + 1)
    return out


def flags_of(line: Line, folder: Path, root: Path, rows: list[str] | None = None) -> list[Flag] | None:
    """The flags of a flags-only LLaMA-Factory line, in order (each at its line of the file's `rows`, else the
    command's); None for any other line."""
    start = _start(line, folder, root)
    if start is None:
        return None
    words = _words(line, start)
    if words is None:
        return None
    parsed: list[tuple[str, str | None, str]] = []
    for i, tok in enumerate(words):
        if not tok.startswith("--"):
            continue
        name, eq, value = tok[2:].partition("=")
        if not _KEY.fullmatch("--" + name):
            continue
        if eq:
            parsed.append((name, value, tok))
        elif i + 1 < len(words) and not words[i + 1].startswith("--"):
            parsed.append((name, words[i + 1], f"{tok} {words[i + 1]}"))
        else:
            parsed.append((name, None, tok))
    if not parsed:
        return None
    lines = _flag_lines(rows or [], line, [k for k, _v, _w in parsed])
    return [Flag(k, v, w, n) for (k, v, w), n in zip(parsed, lines, strict=True)]


def flags_line(lf: LauncherFile, folder: Path, root: Path, rows: list[str] | None = None) -> tuple[Line, list[Flag]] | None:
    """The first flags-only LLaMA-Factory line of a launcher file and its flags."""
    for line in lf.lines:
        got = flags_of(line, folder, root, rows)
        if got is not None:
            return line, got
    return None


def _defaults() -> dict[str, Any]:
    """Each field's default over the dataclasses LLaMA-Factory's train parser holds (frameworks/llamafactory.json, its
    TrainingArguments' Seq2SeqTrainingArguments base from frameworks/transformers.json)."""
    out: dict[str, Any] = {}
    for name in ("transformers", "llamafactory"):
        for cls in table(name).get("classes", {}).values():
            for key, field in cls.get("fields", {}).items():
                if isinstance(field, dict) and "default" in field:
                    out[key] = field["default"]
    return out


def _typed(flag: Flag, default: Any, shown: str) -> Any:
    """The flag's value as HfArgumentParser types it (BOOL_AT); raises ConfigError for a bool field given another word."""
    if isinstance(default, bool):
        if flag.value is None:
            return True
        if flag.value.lower() in _STRING_TRUE:
            return True
        if flag.value.lower() in _STRING_FALSE:
            return False
        raise ConfigError(
            shown,
            f"`{flag.word}` (line {flag.line}): HfArgumentParser reads {flag.key} with string_to_bool, which refuses `{flag.value}` ({BOOL_AT})",
            line=flag.line,
            hint=f"give --{flag.key} true or false",
        )
    value = flag.value
    if value is None:
        return None
    if isinstance(default, int):
        try:
            return int(value)
        except ValueError:
            return value
    if isinstance(default, float):
        try:
            return float(value)
        except ValueError:
            return value
    if default is None and _INT.fullmatch(value):
        return int(value)  # an Optional[int]/Optional[float] field (eval_steps, quantization_bit): the number, as a YAML's
    if default is None and _FLOAT.fullmatch(value):
        return float(value)
    return value


@dataclass(frozen=True)
class FlagsDocument:
    data: YamlMap
    line: Line
    unresolved: tuple[tuple[str, str], ...]  # (key, why): a value set at run time, or a bare word of a field that takes a value
    notes: tuple[str, ...]
    flags: tuple[Flag, ...] = ()
    shown: str = ""  # the launcher, relative to its repository root


def flags_document(path: Path, text: str) -> FlagsDocument:
    """The first flags-only LLaMA-Factory line of the launcher at `path` as a config mapping; NotATrainingConfig when
    it has none."""
    from .launch_walk import read_launcher, real_tree

    real, roots, root = real_tree(path)
    shown = os.path.relpath(real, root)
    lf = read_launcher(real, roots)
    got = flags_line(lf, real.parent, root, text.split("\n")) if lf is not None else None
    if lf is None or got is None:
        raise NotATrainingConfig(str(path), "no launch line runs LLaMA-Factory on command-line flags alone")
    line, flags = got
    defaults = _defaults()
    data = YamlMap()
    data.positions = {}
    unresolved: list[tuple[str, str]] = []
    notes = [
        f"{shown} line {line.line} (`{short_command(line.tokens)}`) runs LLaMA-Factory on command-line flags alone: read as the config "
        f"those flags make, which HfArgumentParser fills as it fills a YAML's keys ({FLAGS_AT})"
    ]
    for flag in flags:
        if flag.value is not None and ("$" in flag.value or "`" in flag.value):
            unresolved.append((flag.key, f"`{flag.word}` on {shown} line {flag.line}: the value is set at run time"))
            continue
        default = defaults.get(flag.key)
        if flag.value is None and not isinstance(default, bool):
            if flag.key in defaults:
                unresolved.append((flag.key, f"`{flag.word}` on {shown} line {flag.line} is given no value, which HfArgumentParser refuses for it"))
                continue
        typed = _typed(flag, default, shown)
        if flag.key in data:
            notes.append(f"`--{flag.key}` is given twice ({shown} lines {data.positions[flag.key][0] + 1} and {flag.line}): argparse keeps the last")
        data[flag.key] = typed if typed is not None else True
        data.positions[flag.key] = (flag.line - 1, 0)
    return FlagsDocument(data=data, line=line, unresolved=tuple(unresolved), notes=tuple(notes), flags=tuple(flags), shown=shown)
