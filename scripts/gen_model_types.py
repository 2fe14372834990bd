"""Regenerate pytest_goblin/frameworks/model_types.json: the first transformers release that knows each model_type.

A recipe that pins an old transformers (`transformers==4.34`, yangjianxin1/Firefly requirements.txt) while training a
model whose config.json names a model_type that release does not have (`qwen2`, first in 4.37.0) stops in
AutoConfig.from_pretrained: `CONFIG_MAPPING[config_dict["model_type"]]` raises KeyError (4.34.0
models/auto/configuration_auto.py:1050 -> :748), a ValueError "does not recognize this architecture" in later releases.
This reads, per release, the keys of CONFIG_MAPPING_NAMES in models/auto/configuration_auto.py (by AST, nothing
imported) and the line AutoConfig raises at, from each release's wheel (or its git tag):

    pip download --no-deps transformers==4.37.0 -d /tmp/wheels/transformers   # the first release of each minor line
    python scripts/gen_model_types.py --wheels /tmp/wheels/transformers
    python scripts/gen_model_types.py --git <bare transformers git dir>          # tags vX.Y.0 (or the first X.Y.Z)

A model type present in the oldest release read is recorded at that release (it may be older). Types are added in a
minor release (X.Y.0), so the first release of each minor line is enough; tests/test_blockers.py checks the file
and this reader (test_the_model_type_table_is_generated_from_the_releases, test_the_model_type_generator_reads_the_mapping).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "pytest_goblin" / "frameworks" / "model_types.json"
FILE = "models/auto/configuration_auto.py"
OLDEST = Version("4.30.0")
# AutoConfig.from_pretrained's lookup of the config's model_type: wrapped from some release on in a ValueError
_WRAPPED = "does not recognize this architecture"
_LOOKUP = 'config_class = CONFIG_MAPPING[config_dict["model_type"]]'
_KEYERROR = "raise KeyError(key)"


def mapping_names(src: str) -> dict[str, int]:
    """model_type -> its line in the CONFIG_MAPPING_NAMES literal of configuration_auto.py."""
    tree = ast.parse(src)
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else getattr(node, "target", None)
        if not (isinstance(target, ast.Name) and target.id == "CONFIG_MAPPING_NAMES"):
            continue
        value = getattr(node, "value", None)
        if isinstance(value, ast.Call) and value.args:  # OrderedDict([...])
            value = value.args[0]
        elts: list[ast.expr] = []
        if isinstance(value, (ast.List, ast.Tuple)):
            elts = list(value.elts)
        elif isinstance(value, ast.Dict):
            return {k.value: k.lineno for k in value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
        out: dict[str, int] = {}
        for e in elts:
            if isinstance(e, ast.Tuple) and e.elts and isinstance(e.elts[0], ast.Constant) and isinstance(e.elts[0].value, str):
                out[e.elts[0].value] = e.elts[0].lineno
        return out
    raise ValueError("no CONFIG_MAPPING_NAMES")


def _line(src: str, needle: str) -> int | None:
    return next((i for i, line in enumerate(src.splitlines(), 1) if needle in line), None)


def raise_site(src: str, version: str) -> dict[str, object]:
    """Where AutoConfig.from_pretrained stops on an unknown model_type at this release, and how."""
    lookup = _line(src, _LOOKUP)
    wrapped = _line(src, _WRAPPED)
    if wrapped is not None:
        return {"raises": "ValueError", "lookup": lookup, "line": wrapped, "says": "does not recognize this architecture"}
    return {"raises": "KeyError", "lookup": lookup, "line": _line(src, _KEYERROR), "says": "KeyError: '<model_type>'"}


def _wheel_sources(folder: Path) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for wheel in sorted(folder.glob("transformers-*-py3-none-any.whl")):
        version = wheel.name.split("-")[1]
        with zipfile.ZipFile(wheel) as z:
            src = z.read(f"transformers/{FILE}").decode("utf-8")
        out[version] = (src, f"wheel {wheel.name} sha256 {hashlib.sha256(wheel.read_bytes()).hexdigest()}")
    return out


def _git_sources(git_dir: str) -> dict[str, tuple[str, str]]:
    tags = subprocess.run(["git", "--git-dir", git_dir, "tag", "-l", "v*"], capture_output=True, text=True, check=True).stdout.split()
    out: dict[str, tuple[str, str]] = {}
    for tag in tags:
        if not re.fullmatch(r"v\d+\.\d+\.\d+", tag):
            continue
        src = subprocess.run(["git", "--git-dir", git_dir, "show", f"{tag}:src/transformers/{FILE}"], capture_output=True, text=True)
        if src.returncode == 0:
            out[tag[1:]] = (src.stdout, f"tag {tag}")
    return out


def build(sources: dict[str, tuple[str, str]]) -> dict[str, object]:
    """The table: per model type the first release read that has it (and its line there), the releases read, and
    where each release's AutoConfig raises on a model type it does not have."""
    firsts: dict[tuple[int, ...], Version] = {}
    for v in sources:
        try:
            ver = Version(v)
        except InvalidVersion:
            continue
        if ver >= OLDEST and not ver.is_prerelease:
            key = ver.release[:2]
            firsts[key] = min(firsts.get(key, ver), ver)
    releases = sorted(firsts.values())
    first: dict[str, list[object]] = {}
    raises: dict[str, dict[str, object]] = {}
    read: dict[str, str] = {}
    for ver in releases:
        version = str(ver)
        src, origin = sources[version]
        read[version] = origin
        raises[version] = raise_site(src, version)
        for mt, line in mapping_names(src).items():
            if mt not in first:
                first[mt] = [version, line]
    return {
        "framework": "transformers",
        "about": (
            f"the first transformers release read that has each model_type in CONFIG_MAPPING_NAMES "
            f"(src/transformers/{FILE}; [release, line there]); types in the oldest release read may be older"
        ),
        "generated_by": "scripts/gen_model_types.py",
        "file": FILE,
        "read": read,
        "raises": raises,
        "first": dict(sorted(first.items())),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wheels", type=Path)
    parser.add_argument("--git")
    args = parser.parse_args(argv)
    sources = _wheel_sources(args.wheels) if args.wheels else _git_sources(args.git) if args.git else None
    if not sources:
        parser.error("give --wheels DIR or --git DIR")
    OUT.write_text(json.dumps(build(sources), indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
