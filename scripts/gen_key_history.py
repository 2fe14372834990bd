"""Regenerate pytest_goblin/frameworks/key_history.json: which keys transformers' TrainingArguments
and TRL's config classes accept at each release users are on, read from the released wheels by AST.

    mkdir -p /tmp/wheels/transformers /tmp/wheels/trl
    pip download --no-deps transformers==4.36.2 -d /tmp/wheels/transformers   # one per release below
    pip download --no-deps trl==0.8.6 -d /tmp/wheels/trl
    python scripts/gen_key_history.py --wheels /tmp/wheels

Nothing is imported or installed: each wheel is opened as a zip and its config modules are read
with frameworks.extract (the reader of the shipped tables). Only the compact result is shipped:
per class and key, the ranges of read releases where it is present, and where it was last seen
(file:line at a release); for TRL, also whether each `trl <command>` script stops on a config key
no dataclass reads (TrlParser.parse_args_and_config's behaviour at that release and the
arguments the script passes it). tests/test_key_history.py checks the shipped file.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import sys
import zipfile
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from packaging.version import Version  # noqa: E402

from pytest_goblin.frameworks.extract import extract_classes  # noqa: E402

OUT = ROOT / "pytest_goblin" / "frameworks" / "key_history.json"

FILES = {
    "transformers": ["transformers/training_args.py", "transformers/training_args_seq2seq.py"],
    "trl": [
        "trl/trainer/*config*.py",
        "trl/commands/cli_utils.py",
        "trl/scripts/utils.py",
        "trl/utils.py",
        "trl/trainer/utils.py",
        "trl/experimental/*/*_config.py",  # trainers moved out of trl/trainer (KTO, ORPO from 0.26 until 1.8 moved KTO back)
    ],
}
# The classes whose keys are tracked: transformers' argument classes; TRL's trainer configs,
# ScriptArguments (and the script-argument classes of 0.8-0.12's cli_utils.py) and ModelConfig.
TRACK = {
    "transformers": re.compile(r"^(TrainingArguments|Seq2SeqTrainingArguments)$"),
    "trl": re.compile(r"^([A-Z][A-Za-z0-9]*Config|[A-Za-z]*ScriptArguments)$"),
}
EXTERNAL = {"TrainingArguments", "Seq2SeqTrainingArguments"}
_RAISES = ("Some specified config arguments are not used by the TrlParser", "fail_with_unknown_args and config_remaining_strings")


def _read(whl: Path, dist: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """(version, {rel: (source, rel)}) of the wheel's config modules."""
    version = whl.name.split("-")[1]
    out: dict[str, tuple[str, str]] = {}
    with zipfile.ZipFile(whl) as z:
        for name in z.namelist():
            if any(fnmatch(name, p) and name.count("/") == p.count("/") for p in FILES[dist]):
                out[name] = (z.read(name).decode("utf-8"), name)
    return version, out


def _flatten(classes: dict[str, Any], name: str, seen: set[str]) -> tuple[dict[str, str], bool]:
    """Fields of a class with its in-package bases (key -> "file:line"), and whether it reaches TrainingArguments."""
    info = classes.get(name)
    if info is None or name in seen:
        return {}, name in EXTERNAL
    seen.add(name)
    fields = {k: f"{info['file']}:{v['line']}" for k, v in info["fields"].items()}
    reaches = False
    for base in info["bases"]:
        short = base.rsplit(".", 1)[-1]
        if short in EXTERNAL and short not in classes:
            reaches = True
            continue
        sub, r = _flatten(classes, short, seen)
        reaches = reaches or r
        for k, v in sub.items():
            fields.setdefault(k, v)
    return fields, reaches


def _cli(whl: Path) -> dict[str, bool]:
    """`trl <command>` script -> whether a config key no dataclass reads stops it (this release)."""
    with zipfile.ZipFile(whl) as z:
        names = z.namelist()
        parser_src = "".join(z.read(n).decode("utf-8") for n in names if n in ("trl/commands/cli_utils.py", "trl/scripts/utils.py"))
        default_raises = any(s in parser_src for s in _RAISES)
        out: dict[str, bool] = {}
        for n in names:
            if not re.fullmatch(r"trl/(scripts|commands/scripts)/[a-z_]+\.py", n) or n.endswith(("utils.py", "__init__.py")):
                continue
            src = z.read(n).decode("utf-8")
            for node in ast.walk(ast.parse(src)):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "parse_args_and_config":
                    kw = {k.arg: k.value for k in node.keywords}
                    keeps = isinstance(kw.get("return_remaining_strings"), ast.Constant) and kw["return_remaining_strings"].value is True
                    lenient = isinstance(kw.get("fail_with_unknown_args"), ast.Constant) and kw["fail_with_unknown_args"].value is False
                    out[Path(n).stem] = default_raises and not keeps and not lenient
                    break
    return out


def _ranges(present: list[bool], versions: list[str]) -> list[list[str]]:
    out: list[list[str]] = []
    start = None
    for i, p in enumerate([*present, False]):
        if p and start is None:
            start = i
        elif not p and start is not None:
            out.append([versions[start], versions[i - 1]])
            start = None
    return out


def build(dist: str, folder: Path) -> dict[str, Any]:
    wheels = sorted(folder.glob(f"{dist}-*.whl"), key=lambda p: Version(p.name.split("-")[1]))
    versions: list[str] = []
    per_version: list[dict[str, tuple[dict[str, str], bool]]] = []
    cli: dict[str, dict[str, bool]] = {}
    meta: dict[str, str] = {}
    for whl in wheels:
        version, files = _read(whl, dist)
        classes: dict[str, Any] = {}
        for rel, (src, _) in sorted(files.items(), key=lambda kv: ("/experimental/" in kv[0], kv[0])):  # trl/trainer's class wins
            c, _e = extract_classes(rel, src)
            for k, v in c.items():
                classes.setdefault(k, v)
        tracked = {name: _flatten(classes, name, set()) for name in classes if TRACK[dist].match(name) and not name.startswith("_")}
        versions.append(version)
        per_version.append(tracked)
        meta[version] = f"{whl.name} sha256:{hashlib.sha256(whl.read_bytes()).hexdigest()[:16]}"
        if dist == "trl":
            cli[version] = _cli(whl)
    out_classes: dict[str, Any] = {}
    names = sorted({n for t in per_version for n in t})
    for name in names:
        exists = [name in t for t in per_version]
        keys = sorted({k for t in per_version if name in t for k in t[name][0]})
        entry: dict[str, Any] = {"present": _ranges(exists, versions), "keys": {}}
        if dist == "trl":
            entry["training_args"] = _ranges([name in t and t[name][1] for t in per_version], versions)
        for k in keys:
            have = [name in t and k in t[name][0] for t in per_version]
            last = max(i for i, h in enumerate(have) if h)
            entry["keys"][k] = {"in": _ranges(have, versions), "at": f"{versions[last]} {per_version[last][name][0][k]}"}
        out_classes[name] = entry
    table: dict[str, Any] = {"versions": versions, "wheels": meta, "classes": out_classes}
    if dist == "trl":
        scripts = sorted({s for c in cli.values() for s in c})
        table["cli_rejects_unknown"] = {
            s: {"rejects": _ranges([cli[v].get(s) is True for v in versions], versions), "present": _ranges([s in cli[v] for v in versions], versions)}
            for s in scripts
        }
    return table


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheels", required=True, help="a folder with transformers/ and trl/ subfolders of downloaded wheels")
    args = ap.parse_args()
    root = Path(args.wheels)
    data = {
        "generated_by": "scripts/gen_key_history.py (wheels from pip download --no-deps, read by AST)",
        "transformers": build("transformers", root / "transformers"),
        "trl": build("trl", root / "trl"),
    }
    OUT.write_text(json.dumps(data, indent=None, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    for dist in ("transformers", "trl"):
        t = data[dist]
        print(f"{dist}: {len(t['versions'])} releases ({t['versions'][0]} .. {t['versions'][-1]}), {len(t['classes'])} classes -> {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
