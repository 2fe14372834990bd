"""Regenerate pytest_goblin/frameworks/key_history.json: which keys each release users are on accepts
(transformers' TrainingArguments, TRL's config classes, LLaMA-Factory's hparams dataclasses, Axolotl's
pydantic input schema, the keys each torchtune recipe reads and the arguments of torchtune's dataset
builders), and the defaults that changed between releases, read from the released packages by AST.

    mkdir -p /tmp/wheels/{transformers,trl,torchtune,llamafactory,axolotl}
    pip download --no-deps transformers==4.36.2 -d /tmp/wheels/transformers   # one per release in the JSON
    pip download --no-deps trl==0.8.6 -d /tmp/wheels/trl
    pip download --no-deps torchtune==0.2.1 -d /tmp/wheels/torchtune          # wheels ship recipes/ too
    pip download --no-deps llamafactory==0.8.3 -d /tmp/wheels/llamafactory
    pip download --no-deps axolotl==0.5.2 -d /tmp/wheels/axolotl              # sdists before 0.17 are fine
    python scripts/gen_key_history.py --wheels /tmp/wheels [--only torchtune,llamafactory,axolotl] \
        [--git axolotl=<axolotl git dir>@v0.4.0]                              # releases not on PyPI

Nothing is imported or installed: each wheel or sdist is opened as an archive (a release only on
GitHub is read with `git show TAG:path`) and its modules are read with frameworks.extract (the reader
of the shipped tables). Only the compact result is shipped: per class and key, the ranges of read
releases where it is present, where it was last seen (file:line at a release) and, for a key whose
default differs between releases, the default of each range with its file:line; for TRL, also
whether each `trl <command>` script stops on a config key no dataclass reads (TrlParser's behaviour
at that release and the arguments the script passes it); for LLaMA-Factory, whether its argument
parser stops on one and the transformers requirement it installs with (its METADATA); for torchtune, where config.instantiate calls the component. With --only, the
other frameworks' entries are kept from the shipped file. tests/test_key_history.py checks it.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from packaging.version import Version  # noqa: E402

from pytest_goblin.frameworks.extract import extract_classes, extract_recipe  # noqa: E402

OUT = ROOT / "pytest_goblin" / "frameworks" / "key_history.json"
DISTS = ("transformers", "trl", "torchtune", "llamafactory", "axolotl")

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
    "llamafactory": ["llamafactory/hparams/*.py"],
    "axolotl": [
        "axolotl/utils/config/models/input/v0_4_1/__init__.py",  # 0.4 .. 0.6
        "axolotl/utils/config/models/input/v0_4_1/*.py",
        "axolotl/utils/schemas/*.py",  # from 0.7
    ],
    "torchtune": ["recipes/*.py", "torchtune/datasets/*.py", "torchtune/datasets/multimodal/*.py"],
}
# The classes whose keys are tracked: transformers' argument classes; TRL's trainer configs,
# ScriptArguments (and the script-argument classes of 0.8-0.12's cli_utils.py) and ModelConfig;
# the dataclasses LLaMA-Factory's get_train_args parses a recipe into; Axolotl's input schema.
TRACK = {
    "transformers": re.compile(r"^(TrainingArguments|Seq2SeqTrainingArguments)$"),
    "trl": re.compile(r"^([A-Z][A-Za-z0-9]*Config|[A-Za-z]*ScriptArguments)$"),
    "llamafactory": re.compile(r"^(ModelArguments|DataArguments|FinetuningArguments|GeneratingArguments|TrainingArguments)$"),
    "axolotl": re.compile(r"^AxolotlInputConfig$"),
}
EXTERNAL = {"TrainingArguments", "Seq2SeqTrainingArguments"}
_RAISES = ("Some specified config arguments are not used by the TrlParser", "fail_with_unknown_args and config_remaining_strings")
_LF_RAISES = "Some specified arguments are not used by the HfArgumentParser"


def _members(pkg: Path) -> dict[str, str]:
    """name -> source of every .py file of a wheel, an sdist (its `<dist>-<version>/src/` prefix dropped)
    or a `git:<git-dir>@<tag>` stand-in written by --git (see main)."""
    out: dict[str, str] = {}
    if pkg.suffix == ".whl":
        with zipfile.ZipFile(pkg) as z:
            for name in z.namelist():
                if name.endswith(".py"):
                    out[name] = z.read(name).decode("utf-8", "replace")
    elif pkg.name.endswith(".tar.gz"):
        with tarfile.open(pkg) as t:
            for m in t.getmembers():
                parts = m.name.split("/", 1)
                if m.isfile() and m.name.endswith(".py") and len(parts) == 2:
                    f = t.extractfile(m)
                    if f is not None:
                        out[parts[1].removeprefix("src/")] = f.read().decode("utf-8", "replace")
    elif pkg.suffix == ".gitref":
        git_dir, tag = pkg.read_text(encoding="utf-8").split()
        listing = subprocess.run(["git", f"--git-dir={git_dir}", "ls-tree", "-r", "--name-only", tag], check=True, capture_output=True, text=True).stdout
        for name in listing.splitlines():
            if name.startswith("src/") and name.endswith(".py"):
                src = subprocess.run(["git", f"--git-dir={git_dir}", "show", f"{tag}:{name}"], check=True, capture_output=True, text=True).stdout
                out[name.removeprefix("src/")] = src
    return out


# The environment a training job installs into (Linux, CPython 3.10+, no extra): the one requirement a
# release's markers leave for it (LLaMA-Factory 0.9.2 lists transformers twice, split at python 3.10; 0.9.3 at darwin).
_TRAINING_ENV = {
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "extra": "",
}


def _requirement(pkg: Path, name: str) -> dict[str, str] | None:
    """{"spec", "at"} of the release's own requirement on `name` (its METADATA/PKG-INFO Requires-Dist lines, which
    the build writes from its setup.py/requirements.txt or pyproject.toml) for a Linux training environment; the
    specifiers ordered lower bound, upper bound, then exclusions, as the release's requirement line writes them."""
    from packaging.requirements import Requirement

    text = ""
    if pkg.suffix == ".whl":
        with zipfile.ZipFile(pkg) as z:
            meta = next((n for n in z.namelist() if n.endswith(".dist-info/METADATA")), None)
            text = z.read(meta).decode("utf-8", "replace") if meta else ""
    elif pkg.name.endswith(".tar.gz"):
        with tarfile.open(pkg) as t:
            info = next((m for m in t.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")), None)
            f = t.extractfile(info) if info is not None else None
            text = f.read().decode("utf-8", "replace") if f is not None else ""
    rank = {">=": 0, ">": 0, "~=": 0, "==": 0, "<=": 1, "<": 1, "!=": 2}
    for line in text.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        req = Requirement(line.removeprefix("Requires-Dist:").strip())
        if req.name.lower() != name or (req.marker is not None and not req.marker.evaluate(_TRAINING_ENV)):
            continue
        specs = sorted(req.specifier, key=lambda s: (rank.get(s.operator, 3), line.find(str(s))))  # the file's order within a rank
        return {"spec": ",".join(str(s) for s in specs), "at": f"{pkg.name} METADATA Requires-Dist: {line.removeprefix('Requires-Dist:').strip()}"}
    return None


def _pick(members: dict[str, str], dist: str) -> dict[str, str]:
    return {n: s for n, s in members.items() if any(fnmatch(n, p) and n.count("/") == p.count("/") for p in FILES[dist])}


def _version_of(pkg: Path) -> str:
    return pkg.name.split("-")[1].removesuffix(".tar.gz").removesuffix(".gitref")


Field = tuple[str, Any]  # ("file:line", default); REQUIRED when the field has none
REQUIRED: dict[str, bool] = {"required": True}


def _flatten(classes: dict[str, Any], name: str, seen: set[str]) -> tuple[dict[str, Field], bool]:
    """Fields of a class with its in-package bases (key -> ("file:line", default)), and whether it reaches TrainingArguments."""
    info = classes.get(name)
    if info is None or name in seen:
        return {}, name in EXTERNAL
    seen.add(name)
    fields = {k: (f"{info['file']}:{v['line']}", v.get("default", REQUIRED)) for k, v in info["fields"].items()}
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


def _cli(members: dict[str, str]) -> dict[str, bool]:
    """`trl <command>` script -> whether a config key no dataclass reads stops it (this release)."""
    parser_src = "".join(src for n, src in members.items() if n in ("trl/commands/cli_utils.py", "trl/scripts/utils.py"))
    default_raises = any(s in parser_src for s in _RAISES)
    out: dict[str, bool] = {}
    for n, src in sorted(members.items()):
        if not re.fullmatch(r"trl/(scripts|commands/scripts)/[a-z_]+\.py", n) or n.endswith(("utils.py", "__init__.py")):
            continue
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "parse_args_and_config":
                kw = {k.arg: k.value for k in node.keywords}
                keeps = isinstance(kw.get("return_remaining_strings"), ast.Constant) and kw["return_remaining_strings"].value is True
                lenient = isinstance(kw.get("fail_with_unknown_args"), ast.Constant) and kw["fail_with_unknown_args"].value is False
                out[Path(n).stem] = default_raises and not keeps and not lenient
                break
    return out


def _line_of(src: str, needle: str) -> int | None:
    for i, line in enumerate(src.splitlines(), 1):
        if needle in line:
            return i
    return None


def _lf_parser(members: dict[str, str]) -> tuple[str | None, bool]:
    """LLaMA-Factory hparams/parser.py: where it raises on arguments no dataclass reads ("file:line"), and
    whether ALLOW_EXTRA_ARGS turns that off at this release."""
    rel = "llamafactory/hparams/parser.py"
    src = members.get(rel, "")
    line = _line_of(src, _LF_RAISES)
    return (f"{rel}:{line}" if line else None), "ALLOW_EXTRA_ARGS" in src


def _instantiate(members: dict[str, str]) -> str | None:
    """torchtune config._instantiate: the line that calls the component with the config's keys as kwargs."""
    rel = "torchtune/config/_instantiate.py"
    line = _line_of(members.get(rel, ""), "return _component_(*args, **kwargs)")
    return f"{rel}:{line}" if line else None


def _builders(rel: str, src: str) -> dict[str, tuple[dict[str, Field], bool]]:
    """Public functions of a torchtune.datasets module: `torchtune.datasets.alpaca_dataset` -> (arguments, takes **kwargs)."""
    parts = [p for p in rel.removesuffix(".py").split("/") if not p.startswith("_")]
    module = ".".join(parts)  # torchtune/datasets/_alpaca.py -> torchtune.datasets
    out: dict[str, tuple[dict[str, Field], bool]] = {}
    for node in ast.parse(src).body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        a = node.args
        fields: dict[str, Field] = {}
        positional = [*a.posonlyargs, *a.args]
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
        for arg, d in [*zip(positional, defaults, strict=True), *zip(a.kwonlyargs, a.kw_defaults, strict=True)]:
            default: Any = REQUIRED
            if d is not None:
                try:
                    default = ast.literal_eval(d)
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    default = {"expr": (ast.get_source_segment(src, d) or "")[:120]}
            fields[arg.arg] = (f"{rel}:{arg.lineno}", default)
        out[f"{module}.{node.name}"] = (fields, a.kwarg is not None)
    return out


def _tracked(dist: str, files: dict[str, str], everything: dict[str, str] | None = None) -> dict[str, tuple[dict[str, Field], bool]]:
    """Class (recipe, builder) -> (its keys, whether it reaches TrainingArguments / takes **kwargs)."""
    if dist == "torchtune":
        out: dict[str, tuple[dict[str, Field], bool]] = {}
        for rel, src in sorted(files.items()):
            if rel.startswith("recipes/"):
                reads = extract_recipe(rel, src)["reads"]
                if reads:
                    out[f"recipe:{Path(rel).stem}"] = ({k: (f"{rel}:{v['line']}", v.get("default", REQUIRED)) for k, v in reads.items()}, False)
            else:
                out.update(_builders(rel, src))
        return out
    classes: dict[str, Any] = {}
    members: dict[str, Any] = {}
    for rel, src in sorted(files.items(), key=lambda kv: ("/experimental/" in kv[0], kv[0])):  # trl/trainer's class wins
        c, _e = extract_classes(rel, src)
        for k, v in c.items():
            classes.setdefault(k, v)
        if dist in ("llamafactory", "axolotl"):  # a class with no fields of its own still joins its bases
            for k, v in _bare_classes(rel, src).items():  # (not TRL's: its field-less deprecation shims must not shadow the moved class)
                classes.setdefault(k, v)
    for src in (everything or {}).values():
        members.update(_enum_members(src))
    out = {name: _flatten(classes, name, set()) for name in classes if TRACK[dist].match(name) and not name.startswith("_")}
    for fields, _r in out.values():  # `AttentionFunction.AUTO` is the string "auto": the same default as before the enum
        for k, (cite, default) in list(fields.items()):
            if isinstance(default, dict) and default.get("expr") in members:
                fields[k] = (cite, members[default["expr"]])
    return out


def _bare_classes(rel: str, src: str) -> dict[str, Any]:
    """Module-level classes without annotated fields (`class TrainingArguments(RayArguments, Seq2SeqTrainingArguments)`)."""
    out: dict[str, Any] = {}
    for node in ast.parse(src).body:
        if isinstance(node, ast.ClassDef) and not any(isinstance(s, ast.AnnAssign) for s in node.body):
            bases = [ast.unparse(b).split("[", 1)[0] for b in node.bases]
            out[node.name] = {"file": rel, "line": node.lineno, "bases": bases, "fields": {}}
    return out


def _enum_members(src: str) -> dict[str, Any]:
    """`Enum.MEMBER` -> its literal value, for the str/int enums of a module."""
    out: dict[str, Any] = {}
    for node in ast.parse(src).body:
        if isinstance(node, ast.ClassDef) and any("Enum" in ast.unparse(b) for b in node.bases):
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                    try:
                        out[f"{node.name}.{stmt.targets[0].id}"] = ast.literal_eval(stmt.value)
                    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                        continue
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


def _packages(dist: str, folder: Path) -> list[Path]:
    """One package per release (a wheel before an sdist), oldest first."""
    found: dict[str, Path] = {}
    for p in sorted(folder.iterdir()) if folder.is_dir() else []:
        if not p.name.startswith(f"{dist}-") or not (p.suffix in (".whl", ".gitref") or p.name.endswith(".tar.gz")):
            continue
        v = _version_of(p)
        if v not in found or p.suffix == ".whl":
            found[v] = p
    return [found[v] for v in sorted(found, key=Version)]


def _same(a: Any, b: Any) -> bool:
    if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b)):
        return float(a) == float(b)  # `num_epochs: int = 1` and `float = 1.0` are one default
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def build(dist: str, folder: Path) -> dict[str, Any]:
    versions: list[str] = []
    per_version: list[dict[str, tuple[dict[str, Field], bool]]] = []
    extra: dict[str, dict[str, Any]] = {}
    meta: dict[str, str] = {}
    for pkg in _packages(dist, folder):
        version = _version_of(pkg)
        members = _members(pkg)
        versions.append(version)
        per_version.append(_tracked(dist, _pick(members, dist), members if dist in ("llamafactory", "axolotl") else None))
        if pkg.suffix == ".gitref":
            git_dir, tag = pkg.read_text(encoding="utf-8").split()
            sha = subprocess.run(["git", f"--git-dir={git_dir}", "rev-list", "-n", "1", tag], check=True, capture_output=True, text=True).stdout.strip()
            meta[version] = f"git tag {tag} commit {sha}"
        else:
            meta[version] = f"{pkg.name} sha256:{hashlib.sha256(pkg.read_bytes()).hexdigest()[:16]}"
        if dist == "trl":
            extra.setdefault("cli", {})[version] = _cli(members)
        elif dist == "llamafactory":
            extra.setdefault("parser", {})[version] = _lf_parser(members)
            extra.setdefault("transformers", {})[version] = _requirement(pkg, "transformers")
        elif dist == "torchtune":
            extra.setdefault("instantiate", {})[version] = _instantiate(members)
    out_classes: dict[str, Any] = {}
    names = sorted({n for t in per_version for n in t})
    for name in names:
        exists = [name in t for t in per_version]
        keys = sorted({k for t in per_version if name in t for k in t[name][0]})
        entry: dict[str, Any] = {"present": _ranges(exists, versions), "keys": {}}
        if dist == "trl":
            entry["training_args"] = _ranges([name in t and t[name][1] for t in per_version], versions)
        elif dist == "torchtune" and not name.startswith("recipe:"):
            entry["takes_kwargs"] = _ranges([name in t and t[name][1] for t in per_version], versions)
        for k in keys:
            have = [name in t and k in t[name][0] for t in per_version]
            last = max(i for i, h in enumerate(have) if h)
            item: dict[str, Any] = {"in": _ranges(have, versions), "at": f"{versions[last]} {per_version[last][name][0][k][0]}"}
            # the default of each run of releases with the same one, only when it changed
            runs: list[list[Any]] = []
            for i, h in enumerate(have):
                if not h:
                    continue
                cite, default = per_version[i][name][0][k]
                if runs and _same(runs[-1][2], default) and versions.index(runs[-1][1]) == i - 1:
                    runs[-1][1] = versions[i]
                    runs[-1][3] = f"{cite}@{versions[i]}"
                else:
                    runs.append([versions[i], versions[i], default, f"{cite}@{versions[i]}"])
            if any(not _same(r[2], runs[0][2]) for r in runs):
                item["defaults"] = runs
            entry["keys"][k] = item
        out_classes[name] = entry
    table: dict[str, Any] = {"versions": versions, "wheels": meta, "classes": out_classes}
    if dist == "trl":
        cli = extra["cli"]
        scripts = sorted({s for c in cli.values() for s in c})
        table["cli_rejects_unknown"] = {
            s: {"rejects": _ranges([cli[v].get(s) is True for v in versions], versions), "present": _ranges([s in cli[v] for v in versions], versions)}
            for s in scripts
        }
    elif dist == "llamafactory":
        parser = extra["parser"]
        table["parser_rejects_unknown"] = {
            "rejects": _ranges([parser[v][0] is not None for v in versions], versions),
            "allow_extra_args_env": _ranges([parser[v][1] for v in versions], versions),
            "at": {v: parser[v][0] for v in versions if parser[v][0]},
        }
        # the transformers each release installs with (its TrainingArguments extends transformers'): releases.lf_transformers
        table["transformers_requirement"] = {v: r for v, r in extra["transformers"].items() if r}
    elif dist == "torchtune":
        table["instantiate"] = {v: c for v, c in extra["instantiate"].items() if c}
    return table


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheels", required=True, help="a folder with one subfolder per framework (transformers/, trl/, ...) of downloaded packages")
    ap.add_argument("--only", default="", help="comma-separated frameworks to regenerate; the others are kept from the shipped file")
    ap.add_argument("--git", action="append", default=[], help="DIST=GIT_DIR@TAG[,TAG...]: releases read from a git mirror's tags (not on PyPI)")
    args = ap.parse_args()
    root = Path(args.wheels)
    only = [d for d in args.only.split(",") if d] or list(DISTS)
    for spec in args.git:  # a stand-in file per tag, read by _members
        dist, _, rest = spec.partition("=")
        git_dir, _, tags = rest.rpartition("@")
        (root / dist).mkdir(parents=True, exist_ok=True)
        for tag in tags.split(","):
            (root / dist / f"{dist}-{tag.lstrip('v')}.gitref").write_text(f"{git_dir} {tag}\n", encoding="utf-8")
    old: dict[str, Any] = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
    data: dict[str, Any] = {"generated_by": "scripts/gen_key_history.py (packages from pip download --no-deps or git tags, read by AST)"}
    for dist in DISTS:
        if dist in only and _packages(dist, root / dist):
            data[dist] = build(dist, root / dist)
            t = data[dist]
            print(f"{dist}: {len(t['versions'])} releases ({t['versions'][0]} .. {t['versions'][-1]}), {len(t['classes'])} classes -> {OUT.relative_to(ROOT)}")
        elif dist in old:
            data[dist] = old[dist]
            print(f"{dist}: kept from the shipped file")
    OUT.write_text(json.dumps(data, indent=None, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
