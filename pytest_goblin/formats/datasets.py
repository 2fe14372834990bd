"""Token lengths of the samples a config trains on, from a bounded sample of its local dataset.

Layer 3 (configs). Without this every sample is priced at `seq_len` tokens, which for short
prompts padded to the batch's longest (not packed, not padded to the maximum length) overstates
memory and time many times over (issue 23, class 5). When the config names a dataset file inside
the audited tree (Axolotl `datasets[].path`, LLaMA-Factory `dataset_dir` + `dataset` through
`dataset_info.json`'s `file_name`, torchtune `dataset.data_files`, a TRL / HF `dataset_name` that
is a local path, a script's `load_dataset("json", data_files="...")` literal), goblin reads at
most MAX_ROWS rows from its first MAX_BYTES bytes through `safepath` (inside the tree, a regular
file, nothing executed) and measures the text of the fields the format trains on.

Tokens: with a `tokenizer.json` in a local model folder the config names and the `tokenizers`
package installed (imported lazily), the rows are tokenized; otherwise characters / CHARS_PER_TOKEN,
said so. Parquet, a `.arrow` file and a `datasets` save_to_disk folder (Arrow; a DatasetDict folder at the
split trained on) are read only when `pyarrow` is installed (imported lazily); without it the length is
assumed, and the reason says why.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import math
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..pysource import parse as parse_source
from ..safepath import UnsafePath, read_bytes, real_folder, tree_of, within
from ..schemas import FieldSource, WorkloadConfig

MAX_ROWS = 2000  # rows sampled from the start of the file
MAX_BYTES = 4_000_000  # bytes read from the start of a text file (JSON, JSONL, CSV, Arrow stream)
MAX_PARQUET_BYTES = 32_000_000  # a parquet file is read whole (its footer is at the end); larger: not read
MAX_FIELD_CHARS = 1_000_000  # one row's measured text; longer is counted as this many characters
# Characters per token for English text under a Llama-class BPE tokenizer, used when no local
# tokenizer can be run: 3.8, the lowest English figure among the 32K-100K-vocabulary BPE tokenizers in
# the tokenizer-arena compression table (cc100-en, 10,000 rows: a 32,000-token vocabulary at 3.81
# characters per token, 64K-100K vocabularies at 3.9-4.4;
# https://huggingface.co/spaces/eson/tokenizer-arena/blob/1b7fc74b6219968cc1bd1abbc14f0a86de53e981/README.md),
# next to OpenAI's "one token generally corresponds to ~4 characters of text for common English text"
# (https://help.openai.com/en/articles/4936856-what-are-tokens-and-how-to-count-them). The lower
# figure counts more tokens: an estimate that errs toward more memory, not less.
CHARS_PER_TOKEN = 3.8
CHARS_SOURCE = "tokenizer-arena cc100-en table, 3.81 characters per token for a 32K-vocabulary BPE tokenizer"
QUANTILES = 21  # sample lengths kept at 0, 5, ..., 100 percent
TEXT_SUFFIXES = {".json", ".jsonl", ".csv"}


@dataclass(frozen=True)
class DatasetRef:
    """A local dataset the config names, and the columns its format trains on."""

    path: Path  # absolute, as written against the config's folder
    key: str  # the config key that named it
    line: int | None
    fields: tuple[str, ...] = ()  # the columns trained on; empty: every string field of a row
    split: str = "train"  # the split trained on, where the path is a `datasets` DatasetDict folder (dataset_dict.json)
    via: str = ""  # how it was found, where the note should say so (LLaMA-Factory's dataset_dir and launch line)


@dataclass(frozen=True)
class Lengths:
    counts: list[int]  # tokens of each sampled row, sorted
    how: str  # tokenizer or estimate, and which fields


def _line(data: Any, key: str) -> int | None:
    pos = getattr(data, "positions", {}).get(key) if data is not None else None
    return pos[0] + 1 if pos else None


Bases = Path | tuple[Path, ...]


def _bases(config: Path) -> tuple[Path, ...]:
    """Where a relative dataset path may be resolved: the frameworks read it against the working
    directory, which is the config's folder or, as their launch lines are usually run, one above it up
    to the repository root (else the audited root, else the config's folder). Closest first."""
    start = Path(os.path.abspath(config)).parent
    stop = Path(real_folder(tree_of(config)[0]))
    out = [start]
    for parent in start.parents:
        if len(out) > 12 or not Path(real_folder(parent)).is_relative_to(stop):
            break
        out.append(parent)
    return tuple(out)


def _local(value: Any, base: Bases) -> Path | None:
    """A path the config writes, when it names a local file or folder (not a Hub id or a URL): the first
    of `base` it exists under, else (written as a file path but missing) under the first."""
    if not isinstance(value, str) or not value.strip() or "://" in value or len(value) > 4096:
        return None
    written = value.strip()
    bases = base if isinstance(base, tuple) else (base,)
    p = Path(written)
    if not p.is_absolute():
        for b in bases:
            if os.path.lexists(b / p):
                return Path(os.path.normpath(b / p))
        p = bases[0] / p
    if os.path.lexists(p):
        return Path(os.path.normpath(p))
    # a path that is not there: still the config's dataset when it is written as a file path, so the
    # assumption says it is missing (a Hub id such as `org/name` is not one)
    looks_local = written.startswith((".", "/", "~")) or Path(written).suffix.lower() in (*TEXT_SUFFIXES, ".parquet", ".arrow")
    return Path(os.path.normpath(p)) if looks_local else None


Found = list[DatasetRef | str]  # each dataset the config trains on: a local one, or why it is not read


def _axolotl(data: dict[str, Any], base: Bases) -> Found:
    entries = data.get("datasets")
    out: Found = []
    if not isinstance(entries, list):
        return out
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        files = entry.get("data_files")
        first = files[0] if isinstance(files, list) and files else files
        where = entry.get("path")
        candidates = [os.path.join(where, first)] if isinstance(where, str) and isinstance(first, str) else []
        candidates += [first] if isinstance(first, str) else []
        found = next((p for p in (_local(c, base) for c in candidates) if p is not None and os.path.lexists(p)), None)
        if found is None and first is None:  # `path` alone: a local file or folder (a missing one is said), else a Hub id
            found = _local(where, base)
        if found is None:
            out.append(f"`datasets[{i}]` is not a local file (a Hub dataset, not read)")
            continue
        kind = str(entry.get("type") or "")
        # the columns Axolotl 0.18.0 (067b021c) trains on: chat_template's `field_messages`, default
        # "messages" (src/axolotl/prompt_strategies/chat_template.py:51); alpaca's instruction / input /
        # output (src/axolotl/prompt_tokenizers.py:168-172); completion's `field`, default "text"
        # (src/axolotl/prompt_strategies/completion.py:16). `type: sharegpt` is refused there
        # (src/axolotl/utils/schemas/validation.py:52-54); older releases read its "conversations".
        if kind.startswith(("chat_template", "sharegpt")) or entry.get("field_messages"):
            fields: tuple[str, ...] = (str(entry.get("field_messages") or ("conversations" if kind.startswith("sharegpt") else "messages")),)
        elif kind.startswith("alpaca"):
            fields = ("instruction", "input", "output")
        elif kind.startswith("completion"):
            fields = (str(entry.get("field") or "text"),)
        else:
            fields = ()
        # a DatasetDict folder (load_from_disk, shared.py:290-299) is cut to the entry's `split` when it holds it, else to
        # "train" (src/axolotl/utils/data/sft.py:143-144 defaults the split, :392-401 picks it; v0.6.0 sft.py:441-444)
        split = entry.get("split")
        out.append(DatasetRef(found, f"datasets[{i}].path", _line(data, "datasets"), fields, split if isinstance(split, str) and split else "train"))
    return out


# LLaMA-Factory v0.9.5 finds a config's data so (facts read from its source at that tag):
# - `dataset` is split at commas (src/llamafactory/hparams/data_args.py:148-153); `dataset_dir` defaults to "data" (:38-41);
# - dataset_info.json is opened at os.path.join(dataset_dir, "dataset_info.json") (data/parser.py:106), a relative folder
#   from the process's working directory: where the launch line runs, not the config's folder; "ONLINE" loads every
#   name from the Hub (:100,119-122), "REMOTE:repo" reads dataset_info.json from the Hub (:103-104);
# - a name it lacks stops the run ("Undefined dataset", :125-126); `hf_hub_url` / `ms_hub_url` / `om_hub_url` entries are
#   Hub datasets (:128-138), `script_url` a loading script, `cloud_file_name` a cloud file (:139-142), else `file_name` (:144);
# - `file_name` is joined to dataset_dir: a folder loads every file in it, all of one type, a file itself
#   (data/loader.py:74-89, types by suffix extras/constants.py:41-48).
LF_TYPES = {".arrow": "arrow", ".csv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet", ".txt": "text"}
LF_FOLDER_FILES = 4  # files of a `file_name` folder sampled (sorted by name); the note names them


def _lf_launch(path: Path) -> tuple[dict[str, tuple[str, str]], dict[str, str], Any]:
    """The launch line's `dataset=` / `dataset_dir=` words ((value, how) by key), those set at run time (why by key), and
    the launch (None when no live line names the config)."""
    from .launchers import find_launch

    launch = find_launch(path)
    if launch is None or launch.commented:
        return {}, {}, None
    given = {key: (value, how) for key, value, _f, _l, how in launch.overrides if key in ("dataset", "dataset_dir")}
    unset = {key: why for key, why in launch.unresolved if key in ("dataset", "dataset_dir")}
    return given, unset, launch


def _lf_folder(path: Path) -> list[Path] | str:
    """The files LLaMA-Factory loads from a `file_name` folder (every file in it, loader.py:76-78), the first
    LF_FOLDER_FILES by name; why not, where they are not all of one type it reads (loader.py:84-89)."""
    names: list[str] = []
    try:
        with os.scandir(path) as it:
            for n, entry in enumerate(it):
                if n >= MAX_LISTED:
                    return f"{path.name}: a folder of more than {MAX_LISTED} entries"
                names.append(entry.name)
    except OSError:
        return f"{path.name}: the folder could not be listed"
    types = {LF_TYPES.get(Path(n).suffix.lower()) for n in names}
    if not names:
        return f"{path.name}: an empty folder"
    if None in types or len(types) > 1:
        return f"{path.name}: a folder whose files are not all of one type LLaMA-Factory reads (its loader stops: data/loader.py:84-89@v0.9.5)"
    return [Path(os.path.normpath(path / n)) for n in sorted(names)[:LF_FOLDER_FILES]]


# The launch line's `key=value` words are merged over the YAML from LLaMA-Factory 0.9.3 (hparams/parser.py:63-66@v0.9.3,
# :90-93@v0.9.5); 0.9.2 reads the YAML only when it is the one argument (hparams/parser.py:64-65@v0.9.2; the same at v0.8.3, v0.9.0, v0.9.1)
LF_CLI_MERGE = "0.9.3"


def before_cli_merge(path: Path, text: str) -> str | None:
    """The pinned LLaMA-Factory release where it is older than LF_CLI_MERGE; None unpinned (the newest read) or newer."""
    from packaging.version import InvalidVersion, Version

    from ..frameworks.pins import pins
    from ..frameworks.releases import pinned

    release = pinned("llamafactory", pins(str(path), text))
    try:
        return release if release is not None and Version(release) < Version(LF_CLI_MERGE) else None
    except InvalidVersion:
        return None


def not_merged(old: str) -> str:
    """Why a launch line's key=value words are not applied at a release before LF_CLI_MERGE (`old`, the pinned one)."""
    return f"not applied, llamafactory {old} (pinned) merges no key=value words over the YAML (hparams/parser.py:64-65@v0.9.2; from {LF_CLI_MERGE})"


def _llamafactory(data: dict[str, Any], path: Path, base: tuple[Path, ...], roots: list[Path], text: str) -> Found:
    given, unset, launch = _lf_launch(path)
    unmerged = ""
    if (given or unset) and (old := before_cli_merge(path, text)) is not None:
        words = ", ".join(how for _v, how in given.values()) or ", ".join(unset.values())
        unmerged = f"; {words}: {not_merged(old)}"
        given, unset = {}, {}
    if unset:
        return [f"{why}, so the `{key}` it trains on is not known" for key, why in unset.items()]
    names: Any = given["dataset"][0] if "dataset" in given else data.get("dataset")
    names_via = given["dataset"][1] if "dataset" in given else ""
    if isinstance(names, list):
        names = ",".join(str(n) for n in names)
    if not isinstance(names, str):
        return []
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    raw_dir = given["dataset_dir"][0] if "dataset_dir" in given else data.get("dataset_dir")
    written = raw_dir.strip() if isinstance(raw_dir, str) and raw_dir.strip() else "data"
    said = f"dataset_dir `{written[:80]}`" + (
        f" ({given['dataset_dir'][1]})" if "dataset_dir" in given else "" if raw_dir else " (LLaMA-Factory's default, hparams/data_args.py:38-41@v0.9.5)"
    )
    if written == "ONLINE":
        return [f"{said}: dataset `{n[:48]}` is loaded from the Hub (data/parser.py:100,119-122@v0.9.5), not read" for n in wanted]
    if written.startswith("REMOTE:"):
        return [f"{said}: its dataset_info.json is on the Hub (data/parser.py:103-104@v0.9.5), not read"]
    workdir = Path(launch.workdir) if launch is not None and launch.workdir else None
    top = Path(os.path.realpath(roots[0])) if roots else base[-1]

    def shown(p: Path) -> str:
        real = Path(os.path.realpath(p))
        return "the repository root" if real == top else os.path.relpath(real, top) if real.is_relative_to(top) else real.name

    if workdir is not None:
        where = f"{shown(workdir)}, where {launch.where()} runs llamafactory-cli"
        bases: tuple[Path, ...] = (workdir,)
    else:
        told = f"{launch.where()} does not say where it runs" if launch is not None else "no launch line names the config"
        where = f"the config's folder or a folder above it, as the working directory is assumed ({told})"
        bases = base
    folder = _local(written, bases)
    info_file = folder / "dataset_info.json" if folder is not None else None
    if folder is None or info_file is None or not os.path.isfile(info_file):
        # LLaMA-Factory stops here ("Cannot open ... dataset_info.json", data/parser.py:108-113@v0.9.5)
        return [f"{said} holds no dataset_info.json goblin found from {where}"]
    shown_info = shown(info_file)
    try:
        info: Any = json.loads(read_bytes(info_file, roots=roots, limit=MAX_BYTES))
    except UnsafePath as exc:
        return [f"{shown_info}: {exc.reason}"]
    except ValueError:
        return [f"{shown_info} is not valid JSON"]
    if not isinstance(info, dict):
        return [f"{shown_info} holds no object of datasets"]
    via = f"{said} read from {where}" + (f"; dataset from {names_via}" if names_via else "") + unmerged
    out: Found = []
    for name in wanted:
        entry = info.get(name)
        if not isinstance(entry, dict):
            out.append(f'dataset `{name[:48]}` is not in {shown_info} (LLaMA-Factory stops: "Undefined dataset", data/parser.py:125-126@v0.9.5)')
            continue
        hub = next((k for k in ("hf_hub_url", "ms_hub_url", "om_hub_url") if k in entry), None)
        if hub is not None:
            out.append(f"dataset `{name[:48]}` is a remote dataset (`{hub}: {str(entry[hub])[:80]}` in {shown_info}), not read")
            continue
        if "script_url" in entry or "cloud_file_name" in entry:
            out.append(f"dataset `{name[:48]}` is loaded by a script or from cloud storage ({shown_info}), not read")
            continue
        file_name = entry.get("file_name")
        if not isinstance(file_name, str) or not file_name.strip():
            out.append(f"dataset `{name[:48]}` has no `file_name` in {shown_info}")
            continue
        target = Path(os.path.normpath(folder / file_name.strip()))
        if not os.path.lexists(target):
            out.append(f"dataset `{name[:48]}`: `{file_name[:80]}` is not in {shown(folder)} (LLaMA-Factory stops: data/loader.py:82@v0.9.5)")
            continue
        # column names: LLaMA-Factory 0.9.5 data/parser.py:33-57 (alpaca: instruction / input / output;
        # sharegpt and openai: conversations), renamed by the entry's `columns` (:80-84)
        raw_columns = entry.get("columns")
        columns: dict[str, Any] = raw_columns if isinstance(raw_columns, dict) else {}
        if entry.get("formatting") in ("sharegpt", "openai"):
            fields: tuple[str, ...] = (str(columns.get("messages") or "conversations"),)
        else:
            fields = tuple(str(columns.get(k) or d) for k, d in (("prompt", "instruction"), ("query", "input"), ("response", "output")))
            fields += tuple(str(columns[k]) for k in ("system", "history") if columns.get(k))
        if os.path.isdir(target) and not within(target, roots):
            out.append(f"dataset `{name[:48]}`: {target.name} is outside the audited tree; goblin reads nothing outside it")
            continue
        files = _lf_folder(target) if os.path.isdir(target) else [target]
        if isinstance(files, str):
            out.append(f"dataset `{name[:48]}`: {files}")
            continue
        out.extend(DatasetRef(f, "dataset", _line(data, "dataset"), fields, via=via) for f in files)
    return out


def _torchtune(data: dict[str, Any], base: Bases) -> Found:
    ds = data.get("dataset")
    out: Found = []
    for entry in ds if isinstance(ds, list) else [ds]:
        if not isinstance(entry, dict):
            continue
        files = entry.get("data_files")
        raw = files[0] if isinstance(files, list) and files else files
        found = _local(raw, base) or (_local(entry.get("source"), base) if entry.get("source") not in ("json", "csv", "parquet", "text") else None)
        if found is None:
            out.append("a `dataset` entry is not a local file (a Hub dataset, not read)")
            continue
        raw_map = entry.get("column_map")
        cmap: dict[str, Any] = raw_map if isinstance(raw_map, dict) else {}
        # the image column holds the image (or its path), never text (torchtune@20bdf10 datasets/multimodal/_vqa.py)
        fields = tuple(str(v) for k, v in cmap.items() if k != "image")
        out.append(DatasetRef(found, "dataset.data_files", _line(data, "dataset"), fields))
    return out


# A Hub dataset id (`org/name`, no such local path): goblin holds no length statistics of Hub datasets, so the config's
# length cap, which only bounds the samples, is what gets priced; the note says so (review11b #23: `max_length: 32768`
# over argilla/ultrafeedback-binarized-preferences priced as 32768-token samples)
HUB_DATASET = "a Hub dataset, whose sample lengths goblin does not have"
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}")


def _hfstyle(data: dict[str, Any], base: Bases) -> Found:
    for key in ("dataset_name", "dataset_path", "train_file", "data_path"):
        found = _local(data.get(key), base)
        if found is not None:
            text = data.get("dataset_text_field")
            return [DatasetRef(found, key, _line(data, key), (str(text),) if isinstance(text, str) else ())]
    name = data.get("dataset_name")
    if isinstance(name, str) and _HUB_ID.fullmatch(name) and not name.startswith((".", "/")):
        at = _line(data, "dataset_name")
        return [f"`dataset_name: {name}`{f' (line {at})' if at else ''} is {HUB_DATASET}; the config's length cap bounds them and is priced as their length"]
    return []


def _script(text: str, base: Bases) -> DatasetRef | None:
    """`load_dataset("json", data_files="x.jsonl")` (or data_files={"train": "x.jsonl"}) written as literals."""
    try:
        tree = parse_source(text)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id if isinstance(node.func, ast.Name) else ""
        if name != "load_dataset":
            continue
        for kw in node.keywords:
            if kw.arg != "data_files":
                continue
            value = kw.value
            if isinstance(value, ast.Dict) and value.values:
                value = value.values[0]
            if isinstance(value, ast.List) and value.elts:
                value = value.elts[0]
            if isinstance(value, ast.Constant) and (found := _local(value.value, base)) is not None:
                return DatasetRef(found, "load_dataset(data_files=...)", node.lineno)
    return None


def _option_files(path: Path, text: str, base: Bases) -> Found:
    """The data files a script's command-line options name and its code reads (formats/argv_data.py): each a
    DatasetRef where it is a local path, one not in the tree said with where its value comes from (review14a #10)."""
    from .argv_data import option_data

    out: Found = []
    for got in option_data(path, text):
        found = _local(got.value, base)
        if found is None:
            continue  # a Hub id or a URL: not a local file
        if not os.path.lexists(found):
            out.append(f"{got.via}: {got.value} is not in the repository (written by an earlier step, or kept out of git)")
            continue
        out.append(DatasetRef(found, got.flag, got.line, via=got.via))
    return out


def find_datasets(path: Path, data: Any, fmt: str, text: str) -> Found:
    """The datasets the config trains on: each a local one, or why it is not read; empty: none found."""
    base = _bases(path)
    if fmt == "python":
        ref = _script(text, base)
        return [ref] if ref is not None else _option_files(path, text, base)
    if not isinstance(data, dict):
        return []
    if fmt == "axolotl":
        return _axolotl(data, base)
    if fmt == "llamafactory":
        return _llamafactory(data, path, base, tree_of(path), text)
    if fmt == "torchtune":
        return _torchtune(data, base)
    return _hfstyle(data, base)


# ------------------------------------------------------------------ rows
def _json_values(text: str) -> Iterator[Any]:
    """The elements of a JSON array, or the JSON lines, read as far as the text goes (a file cut at
    MAX_BYTES ends with a partial row, which is dropped)."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        decoder = json.JSONDecoder()
        pos = len(text) - len(stripped) + 1
        while True:
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(text) or text[pos] == "]":
                return
            try:
                value, pos = decoder.raw_decode(text, pos)
            except ValueError:
                return
            yield value
    for line in text.splitlines():
        if line.strip():
            try:
                yield json.loads(line)
            except ValueError:
                continue


def _rows_text(raw: bytes, suffix: str, cut: bool) -> Iterator[Any]:
    text = raw.decode("utf-8", errors="replace")
    if cut and suffix != ".json":  # the last line is partial
        text = text[: text.rfind("\n") + 1]
    if suffix == ".csv":
        yield from csv.DictReader(io.StringIO(text))
        return
    yield from _json_values(text)


MAX_LISTED = 500  # folder entries looked at to say what a dataset folder holds


def _not_arrow_folder(path: Path) -> str | None:
    """Why a dataset folder with no .arrow file (not a `datasets` save_to_disk folder) is not measured, naming the data
    files it does hold (review6b #31: Firefly-LLaMA2-Chinese `data_path: ./data` holds dummy_data.jsonl, which its
    component/dataset.py:108-111 walks for .jsonl/.csv/.txt files and :124-127 cuts into max_seq_length windows, so a
    row's length is not a sample's): which of them the run reads, and how, is the loading code's, which goblin does not
    run. None when the folder holds a .arrow file."""
    held: dict[str, list[str]] = {}
    try:
        with os.scandir(path) as it:
            for n, entry in enumerate(it):
                if n >= MAX_LISTED:
                    break
                suffix = Path(entry.name).suffix.lower()
                if suffix == ".arrow":
                    return None
                if suffix in (*TEXT_SUFFIXES, ".parquet", ".txt") and entry.is_file(follow_symlinks=False):
                    held.setdefault(suffix, []).append(entry.name)
    except OSError:
        return None
    if not held:
        return f"{path.name}: a folder with no .arrow file (not a `datasets` save_to_disk folder) and no JSON, JSONL, CSV, parquet or text file"
    names = sorted(name for names in held.values() for name in names)
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return (
        f"{path.name}: a folder of data files ({shown}), not a `datasets` save_to_disk folder (no .arrow file); which of them the run"
        " reads, and how they become samples, is decided by the code that loads the folder, which goblin does not run"
    )


def _ipc_rows(pa: Any, raw: bytes, whole: bool) -> Iterator[Any]:
    """The rows of an Arrow IPC stream (what `datasets` save_to_disk writes), else, when the whole file was read, of an
    Arrow IPC file; datasets 5.2.0 packaged_modules/arrow/arrow.py:63-67 reads a `.arrow` file the same two ways."""
    try:
        reader: Any = pa.ipc.open_stream(pa.BufferReader(raw))
    except (pa.ArrowInvalid, OSError):
        if not whole:  # an IPC file's footer is at its end, which a head-only read does not hold
            raise
        file = pa.ipc.open_file(pa.BufferReader(raw))
        reader = (file.get_batch(i) for i in range(min(file.num_record_batches, MAX_ROWS)))

    def batches() -> Iterator[Any]:
        try:
            for batch in reader:
                yield from batch.to_pylist()
        except (pa.ArrowInvalid, OSError):  # the stream cut at MAX_BYTES
            return

    return batches()


def _arrow_rows(path: Path, roots: list[Path]) -> tuple[Iterator[Any], str | None]:
    try:
        import pyarrow as pa  # optional: parquet, .arrow files and `datasets` save_to_disk folders
    except ImportError:
        return iter(()), "pyarrow is not installed, so goblin reads no parquet or Arrow file (pip install pyarrow)"
    if path.is_dir() or path.suffix.lower() == ".arrow":
        if path.is_dir() and not within(path, roots):
            return iter(()), f"{path.name}: outside the audited tree; goblin reads nothing outside it"
        files = sorted(p for p in path.iterdir() if p.suffix == ".arrow") if path.is_dir() else [path]
        if not files:
            return iter(()), f"{path.name}: no .arrow file in the folder"
        raw = read_bytes(files[0], roots=roots, limit=MAX_BYTES, head=True)
        return _ipc_rows(pa, raw, whole=len(raw) < MAX_BYTES), None
    import pyarrow.parquet as pq

    raw = read_bytes(path, roots=roots, limit=MAX_PARQUET_BYTES)
    table = pq.ParquetFile(pa.BufferReader(raw)).read_row_group(0)
    return iter(table.slice(0, MAX_ROWS).to_pylist()), None


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif depth < 6 and isinstance(value, dict):
        for v in value.values():
            yield from _strings(v, depth + 1)
    elif depth < 6 and isinstance(value, list):
        for v in value:
            yield from _strings(v, depth + 1)


_MEDIA_KEYS = ("images", "videos", "audios", "image", "video", "audio")
_MEDIA_TYPES = {"image", "image_url", "video", "audio", "input_audio"}


def _has_media(row: dict[str, Any]) -> bool:
    """A multimodal row: images / video / audio columns (LLaMA-Factory's `images`, ...) or content parts."""
    if any(row.get(k) for k in _MEDIA_KEYS):
        return True
    for value in row.values():
        for turn in value if isinstance(value, list) else []:
            content = turn.get("content") if isinstance(turn, dict) else None
            if isinstance(content, list) and any(isinstance(c, dict) and c.get("type") in _MEDIA_TYPES for c in content):
                return True
    return False


# what an image adds to the text of a torchtune Llama 3.2 Vision sample: one `<|image|>` token (torchtune@20bdf10
# models/llama3/_tokenizer.py:235-236 `tokenized_body += [self.image_id]` per image item; the image's own tokens go
# through the encoder, models/llama3_2_vision/_transform.py:103); counted as one word of text
IMAGE_TEXT_TOKEN = "<|image|>"


class MediaRows(Exception):
    """Rows carry images, video or audio, whose tokens a text length does not count."""


def _texts(rows: Iterable[Any], fields: tuple[str, ...], *, images_apart: bool = False) -> tuple[list[str], bool]:
    """Each row's measured text and whether the mapped fields were found (else every string field). A row with images,
    video or audio raises MediaRows, unless `images_apart`: the model runs its images through a vision encoder and not
    the text (torchtune's Llama 3.2 Vision, formats/tune_vision.py), so the text is measured without the media columns
    and each image adds its one `<|image|>` token (`IMAGE_TEXT_TOKEN`)."""
    out: list[str] = []
    mapped = bool(fields)
    for row in rows:
        if len(out) >= MAX_ROWS:
            break
        if not isinstance(row, dict):
            continue
        media = _has_media(row)
        if media and not images_apart:
            raise MediaRows
        if media:
            row = {k: v for k, v in row.items() if k not in _MEDIA_KEYS}
        picked = [row[f] for f in fields if f in row] if mapped else []
        if mapped and not picked:
            mapped = False
        parts = list(_strings(picked if picked else row)) + ([IMAGE_TEXT_TOKEN] if media else [])
        text = "\n".join(parts)[:MAX_FIELD_CHARS]
        if text:
            out.append(text)
    return out, mapped


def _tokenizer(w: WorkloadConfig, config: Path, roots: list[Path]) -> tuple[Any, str] | None:
    """A `tokenizers.Tokenizer` from `tokenizer.json` in the local model folder the config names."""
    folder = _local(w.model.name, _bases(config))
    if folder is None or not os.path.isdir(folder) or not os.path.isfile(folder / "tokenizer.json"):
        return None
    try:
        from tokenizers import Tokenizer  # optional, imported only here
    except ImportError:
        return None
    try:
        raw = read_bytes(folder / "tokenizer.json", roots=roots, limit=50_000_000)
        return Tokenizer.from_str(raw.decode("utf-8")), f"tokenizer.json in {folder.name}"
    except (UnsafePath, UnicodeDecodeError, Exception):  # a broken tokenizer file: fall back to the estimate
        return None


# Configs that share a dataset (a repository's recipes) measure it once per process: keyed by the file's
# real path, size and mtime, the fields and the model folder whose tokenizer counts them.
_MEASURED: dict[tuple[Any, ...], Lengths | str] = {}


def measure(ref: DatasetRef, w: WorkloadConfig, config: Path) -> Lengths | str:
    """The sampled token lengths, or why none were measured."""
    try:
        st = os.stat(ref.path)
        key: tuple[Any, ...] | None = (
            os.path.realpath(ref.path),
            st.st_size,
            st.st_mtime_ns,
            ref.fields,
            w.model.name,
            w.vision is not None,
            tuple(tree_of(config)),
        )
    except OSError:
        key = None
    if key is not None and key in _MEASURED:
        return _MEASURED[key]
    got = _measure(ref, w, config)
    if key is not None:
        if len(_MEASURED) > 256:
            _MEASURED.clear()
        _MEASURED[key] = got
    return got


def _dict_split(ref: DatasetRef, roots: list[Path]) -> DatasetRef | str:
    """A `datasets` DatasetDict folder (save_to_disk of several splits: dataset_dict.json lists them, each a Dataset folder
    of that name; datasets 5.2.0 load.py:1742-1747, dataset_dict.py:1410-1431) read as the folder of the split trained on:
    the config's, else "train" (Axolotl 0.18.0 sft.py:392-401). A folder without that split is not measured."""
    marker = ref.path / "dataset_dict.json"
    if not os.path.isdir(ref.path) or not os.path.isfile(marker) or not within(ref.path, roots):
        return ref
    try:
        splits = json.loads(read_bytes(marker, roots=roots, limit=100_000)).get("splits")
    except (UnsafePath, OSError, ValueError, AttributeError):
        splits = None
    names = [s for s in splits if isinstance(s, str) and s and os.path.basename(s) == s] if isinstance(splits, list) else []
    if not names:
        return f"{ref.path.name}: its dataset_dict.json lists no splits goblin can read"
    chosen = next((s for s in (ref.split, "train") if s in names), None)
    if chosen is None:
        held = ", ".join(names[:5])
        return f"{ref.path.name}: a `datasets` DatasetDict folder with no `{ref.split[:40]}` split, the one trained on (it holds {held})"
    return DatasetRef(Path(os.path.normpath(ref.path / chosen)), ref.key, ref.line, ref.fields, chosen, ref.via)


def _measure(ref: DatasetRef, w: WorkloadConfig, config: Path) -> Lengths | str:
    roots = tree_of(config)
    suffix = ref.path.suffix.lower()
    if suffix not in (*TEXT_SUFFIXES, ".parquet", ".arrow") and not os.path.lexists(ref.path):
        # a folder path that is not there (review6b #24 `dataset_name: ./datasets/dpo_dataset`, #23 an absolute
        # /root/... path): said as missing, not as a file suffix goblin does not read
        inside = any(Path(os.path.abspath(ref.path)).is_relative_to(os.path.abspath(r)) for r in roots)
        return f"{ref.path.name}: " + ("no such file or folder" if inside else "outside the audited tree; goblin reads nothing outside it")
    try:
        if ref.path.is_dir() and within(ref.path, roots) and (why := _not_arrow_folder(ref.path)) is not None:
            return why
        if ref.path.is_dir() or suffix in (".parquet", ".arrow"):
            rows, why = _arrow_rows(ref.path, roots)
            if why:
                return why
        elif suffix in TEXT_SUFFIXES:
            raw = read_bytes(ref.path, roots=roots, limit=MAX_BYTES, head=True)
            rows = _rows_text(raw, suffix, cut=len(raw) >= MAX_BYTES)
        else:
            return f"{ref.path.name}: {suffix or 'no'} suffix is not a dataset format goblin reads (JSON, JSONL, CSV, parquet, Arrow)"
        texts, mapped = _texts(rows, ref.fields, images_apart=w.vision is not None)
    except MediaRows:
        return f"{ref.path.name}: its rows carry images, video or audio, whose tokens goblin does not count"
    except UnsafePath as exc:
        return exc.reason if exc.reason.startswith(str(ref.path.name)) else f"{ref.path.name}: {exc.reason}"
    except Exception as exc:  # a malformed parquet / Arrow file: say so, assume the length
        return f"{ref.path.name}: could not be read as a dataset ({type(exc).__name__})"
    if not texts:
        return f"{ref.path.name}: no rows with text could be read from its first {MAX_BYTES // 1_000_000} MB"
    tok = _tokenizer(w, config, roots)
    if tok is not None:
        counts = [len(e.ids) for e in tok[0].encode_batch(texts)]
        method = tok[1]
    else:
        counts = [max(1, math.ceil(len(t) / CHARS_PER_TOKEN)) for t in texts]
        method = f"characters / {CHARS_PER_TOKEN:g} ({CHARS_SOURCE}; no local tokenizer.json, or the tokenizers package is not installed)"
    what = f"fields {', '.join(ref.fields)}" if mapped else "every string field of a row (the config maps no columns goblin found)"
    if w.vision is not None:
        what += "; an image counted as its one `<|image|>` token, its own tokens priced through the vision encoder"
    return Lengths(sorted(counts), f"{method}; {what}")


_MAX_LENGTH = re.compile(r"""\bpadding\s*=\s*["']max_length["']""")


def pads_to_max(w: WorkloadConfig, data: Any, text: str) -> str | None:
    """Where the config pads every sample to seq_len, or None (padded to the batch's longest).

    Axolotl 0.18.0 (067b021c) src/axolotl/core/builders/causal.py:383-394: the collator pads with
    `padding=True` (the batch's longest), rounded up to a multiple of 64; with `pad_to_sequence_len`
    to sequence_len rounded up to 64. A Python script's `padding="max_length"` pads at tokenization.
    Pad to the batch's longest elsewhere: transformers' DataCollatorForSeq2Seq (`padding=True`), which
    LLaMA-Factory 0.9.5 subclasses for SFT (train/sft/workflow.py:62-72, data/collator.py:137,481;
    pad_to_multiple_of=8); torchtune 0.6.1 padded_collate_sft (torchtune/data/_collate.py:160-165,
    the default collate_fn of recipes/lora_finetune_single_device.py:308); TRL 1.16.0 SFTTrainer's
    DataCollatorForLanguageModeling ("dynamically padded to the maximum length of a batch",
    trl/trainer/sft_trainer.py:87-99, chosen at :992-996)."""
    if w.format == "axolotl" and isinstance(data, dict) and data.get("pad_to_sequence_len") is True and not data.get("rl"):
        # only the SFT builder reads it: Axolotl 0.18.0 (067b021c) src/axolotl/utils/trainer.py:725-726 builds
        # HFRLTrainerBuilder when `rl` is set, whose collator (core/builders/rl.py:231-264) reads pad_to_multiple_of and
        # never pad_to_sequence_len (the same split at v0.6.0 core/trainer_builder.py:1907 and v0.9.2 :824, both in
        # HFCausalTrainerBuilder): a DPO/ORPO/KTO/GRPO run pads to the batch's longest whatever the key says
        return "pad_to_sequence_len: true pads every micro-batch to sequence_len"
    if w.format == "python" and _MAX_LENGTH.search(text):
        return 'the script tokenizes with padding="max_length"'
    if w.format == "python":  # a repository function the script imports and calls pads (review: prepare_dataset)
        from .launched import imported_padding

        hit = imported_padding(w.path, text)
        if hit is not None:
            return hit[0]
    return None


MAX_DATASETS = 8  # local datasets measured per config; a config naming more is assumed, said so


def _quantiles(counts: list[int]) -> list[int]:
    n = len(counts)
    return [counts[min(n - 1, round(i * (n - 1) / (QUANTILES - 1)))] for i in range(QUANTILES)]


def _assumed(w: WorkloadConfig, why: str, key: str | None = None, line: int | None = None) -> WorkloadConfig:
    from ..costmodel import seq_len_origin

    note = f"{why}: every sample assumed {w.seq_len} tokens ({seq_len_origin(w)})"
    return w.model_copy(update={"sources": {**w.sources, "token_lengths": FieldSource(file=w.path, key=key, line=line, note=note)}})


def attach(w: WorkloadConfig, path: Path, data: Any, text: str) -> WorkloadConfig:
    """The workload with its sampled token lengths and `sources["token_lengths"]`, or the stated assumption.

    Every dataset the config trains on must be measured: one it names on the Hub, or one that cannot be
    read, could hold the longest samples, so the lengths are then assumed and the note says which."""
    if (why := pads_to_max(w, data, text)) is not None:
        from ..costmodel import seq_len_origin

        # the data's own lengths are still read where they can be: they price what the padding costs (rules.unpatched_gain)
        sampled = _sampled(w, path, data, text)
        note = f"every sample padded to {w.seq_len} tokens ({seq_len_origin(w)}): {why}"
        if sampled.token_quantiles:
            note += f"; unpadded, {sampled.sources['token_lengths'].note}"
        else:  # why the padding share goes unpriced: no local dataset, a Hub one, or one goblin could not read
            unpriced = sampled.sources["token_lengths"].note or "no local dataset"
            note += f"; the padding's share is not priced: {unpriced.split(': every sample assumed')[0]}"
        src = FieldSource(
            file=w.path, key="pad_to_sequence_len" if w.format == "axolotl" else None, line=_line(data, "pad_to_sequence_len"), explicit=True, note=note
        )
        return sampled.model_copy(update={"pad_to_max": True, "sources": {**sampled.sources, "token_lengths": src}})
    return _sampled(w, path, data, text)


def _sampled(w: WorkloadConfig, path: Path, data: Any, text: str) -> WorkloadConfig:
    """`w` with the sampled lengths of every local dataset it trains on, or the stated assumption."""
    try:
        found = find_datasets(path, data, w.format, text)
    except (OSError, ValueError, RecursionError):
        found = []
    refs = [f for f in found if isinstance(f, DatasetRef)]
    if not refs:
        # LLaMA-Factory's reasons say what goblin looked up and where (its dataset_dir, dataset_info.json and each name);
        # a script's, the option that names a file not in the tree (formats/argv_data.py)
        said = [f for f in found if isinstance(f, str) and (w.format in ("llamafactory", "python") or HUB_DATASET in f)]
        return _assumed(
            w,
            f"no local dataset ({'; '.join(said[:3])})" if said else "no local dataset",
            (key := "dataset_name" if said and HUB_DATASET in said[0] else "dataset") if said else None,
            _line(data, key) if said else None,
        )
    first = refs[0]
    if len(refs) < len(found):
        other = next(f for f in found if isinstance(f, str))
        return _assumed(w, f"{other}, so the lengths of the data it trains on are not all known", first.key, first.line)
    if len(refs) > MAX_DATASETS:
        return _assumed(w, f"the config names {len(refs)} local datasets, more than the {MAX_DATASETS} goblin measures", first.key, first.line)
    counts: list[int] = []
    hows: list[str] = []
    methods: list[str] = []
    base = Path(os.path.abspath(path)).parent
    for written in refs:
        ref = _dict_split(written, tree_of(path))
        if isinstance(ref, str):
            return _assumed(w, f"dataset {os.path.relpath(written.path, base)} not measured ({ref})", written.key, written.line)
        shown = os.path.relpath(ref.path, base)
        got = measure(ref, w, path)
        if isinstance(got, str):
            return _assumed(w, f"dataset {shown} not measured ({got})", ref.key, ref.line)
        counts += got.counts
        hows.append(f"{len(got.counts)} rows sampled from {shown}")
        methods.append(got.how)
    counts.sort()
    mean = sum(counts) / len(counts)
    q = _quantiles(counts)
    note = f"{', '.join(hows)}: mean {mean:.0f}, p95 {q[19]}, longest {q[-1]} tokens ({' | '.join(dict.fromkeys(methods))}; chat-template tokens not counted)"
    note += "".join(f"; {v}" for v in dict.fromkeys(r.via for r in refs if r.via))
    src = FieldSource(file=w.path, key=first.key, line=first.line, explicit=True, note=note)
    return w.model_copy(update={"token_quantiles": q, "mean_tokens": round(mean, 1), "sources": {**w.sources, "token_lengths": src}})
