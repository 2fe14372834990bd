"""Regenerate pytest_goblin/frameworks/attention.json: which attention implementations each
transformers model type supports, read by AST from the installed transformers (nothing imported),
and with --wheels, how that support changed over the transformers releases key_history.json covers.

    PYTHONPATH=$PWD python scripts/gen_attention_support.py [--wheels /tmp/wheels/transformers]

The shipped table was read from transformers 5.24.0; tests/test_frameworks.py regenerates it
and requires the shipped file to match when that version is installed. --wheels reads each
transformers-<version>-py3-none-any.whl in the folder (the ones `scripts/gen_key_history.py` reads,
from `pip download --no-deps`) as an archive: models/auto/modeling_auto.py, models/*/modeling_*.py and
modeling_utils.py (PreTrainedModel's defaults, where an explicit request raises). Only changes are kept:
per model type, the release where its class or one of its three flags changed, with the row there
(each flag a model file sets cited file:line@version). Without --wheels the shipped history is kept.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from packaging.version import Version  # noqa: E402

from pytest_goblin.frameworks.attention import _MAPPINGS, FLAGS, OUT, _classes, _mappings, _resolve, build_installed  # noqa: E402

HISTORY = ROOT / "pytest_goblin" / "frameworks" / "key_history.json"
# where modeling_utils.py raises on an explicit request the class does not support (its message), and on an
# attn_implementation value the release does not know at all (flex_attention before 4.47)
_RAISE_TEXT = {
    "sdpa": "does not support an attention implementation through torch.nn.functional.scaled_dot_product_attention",
    "flash": "does not support Flash Attention ",  # 5.4 on: `Flash Attention {flash_attn_version}`
    "flex": "does not support an attention implementation through torch's flex_attention",
}
_UNKNOWN_VALUE = "The only possible arguments are"


def _line(src: str, needle: str) -> int | None:
    return next((i for i, line in enumerate(src.splitlines(), 1) if needle in line), None)


def _defaults(src: str, version: str) -> tuple[dict[str, tuple[bool | None, str]], dict[str, str]]:
    """PreTrainedModel's flag defaults at this release (flag -> (value, where)) and where each impl raises.
    A flag PreTrainedModel does not define (`_supports_flex_attn` before 4.47) is an implementation the
    release does not accept at all: False, where it raises on the unknown value."""
    base: dict[str, tuple[bool | None, str]] = {}
    pre = _classes({"modeling_utils.py": src}).get("PreTrainedModel")
    flags = pre[1] if pre else {}
    unknown = _line(src, _UNKNOWN_VALUE)
    raises: dict[str, str] = {}
    for impl, flag in FLAGS.items():
        at = _line(src, _RAISE_TEXT[impl])
        if flag in flags:
            value, where = flags[flag]
            base[flag] = (value, f"{where}@{version} (PreTrainedModel's default)")
            if at:
                raises[impl] = f"modeling_utils.py:{at}@{version}"
        else:
            base[flag] = (False, f"modeling_utils.py:{unknown}@{version} (no {flag}: the release does not accept it)")
            raises[impl] = f"modeling_utils.py:{unknown}@{version}"
    return base, raises


_CLASS = re.compile(r"^class (\w+)\b", re.M)
_TOP = re.compile(r"^[^\s#)]", re.M)


def _needed_classes(models: dict[str, str], wanted: set[str]) -> dict[str, Any]:
    """attention._classes, for the mapped classes and their bases only: each class's top-level block is cut out by
    its `class` line and parsed alone (a whole release's model files take minutes to parse); a block that does not
    parse alone has its whole file parsed. The first file (sorted) defining a name wins, as in _classes."""
    where: dict[str, tuple[str, int, int]] = {}
    for rel, src in sorted(models.items()):
        for m in _CLASS.finditer(src):
            nxt = _TOP.search(src, m.end())
            where.setdefault(m.group(1), (rel, m.start(), nxt.start() if nxt else len(src)))
    out: dict[str, Any] = {}
    todo = sorted(wanted)
    while todo:
        name = todo.pop()
        if name in out or name not in where:
            continue
        rel, start, end = where[name]
        src = models[rel]
        # blank lines before the block keep its line numbers those of the file
        block = "\n" * src.count("\n", 0, start) + src[start:end]
        try:
            got = _classes({rel: block}).get(name)
        except SyntaxError:
            got = _classes({rel: src}).get(name)
        if got is None:
            continue
        out[name] = got
        todo.extend(b for b in got[0] if b not in out)
    return out


def read_wheel(path: Path) -> tuple[str, dict[str, dict[str, Any]], dict[str, str], dict[str, str]]:
    """(version, model type -> row, impl -> where it raises, impl -> where PreTrainedModel's default is) of one wheel."""
    version = path.name.split("-")[1]
    with zipfile.ZipFile(path) as z:
        names = z.namelist()

        def text(name: str) -> str:
            return z.read(name).decode("utf-8", "replace")

        auto = text("transformers/models/auto/modeling_auto.py")
        models = {n.removeprefix("transformers/"): text(n) for n in names if re.fullmatch(r"transformers/models/[^/]+/modeling_[^/]+\.py", n)}
        base, raises = _defaults(text("transformers/modeling_utils.py"), version)
    maps = _mappings(auto)
    classes = _needed_classes(models, {c for m in _MAPPINGS for c in maps.get(m, {}).values()})
    types: dict[str, dict[str, Any]] = {}
    for mapping in _MAPPINGS:
        for model_type, cls in maps.get(mapping, {}).items():
            if model_type in types or cls not in classes:
                continue
            row: dict[str, Any] = {"class": cls}
            for impl, flag in FLAGS.items():
                value, where = _resolve(cls, classes, flag, base)
                row[impl] = value
                row[f"{impl}_at"] = where if "@" in where else f"{where}@{version}"
            types[model_type] = row
    return version, types, raises, {impl: base[flag][1] for impl, flag in FLAGS.items()}


def _key(row: dict[str, Any] | None) -> Any:
    return None if row is None else (row["class"], row["sdpa"], row["flash"], row["flex"])


def build_history(folder: Path) -> dict[str, Any]:
    """Per model type, the releases where its row changed (null: not in that release); each release's raise sites."""
    wheels = sorted(folder.glob("transformers-*-py3-none-any.whl"), key=lambda p: Version(p.name.split("-")[1]))
    versions: list[str] = []
    meta: dict[str, str] = {}
    raises: dict[str, dict[str, str]] = {}
    changes: dict[str, list[list[Any]]] = {}
    last: dict[str, Any] = {}
    defaults: dict[str, dict[str, str]] = {}
    for whl in wheels:
        version, types, raised, defaults[version] = read_wheel(whl)
        versions.append(version)
        meta[version] = f"{whl.name} sha256:{hashlib.sha256(whl.read_bytes()).hexdigest()[:16]}"
        raises[version] = raised
        for mt in sorted(set(types) | set(last)):
            row = types.get(mt)
            before = last.get(mt)
            if _key(row) == _key(before):
                continue
            if row is not None:
                for impl in FLAGS:
                    where = row.pop(f"{impl}_at")
                    if where == defaults[version][impl]:
                        where = ""  # PreTrainedModel's default: history.defaults at the release
                    # cite a flag where it changed (and, on a type's first entry, where a model file sets it)
                    if where and (before is None or before[impl] != row[impl]):
                        row[f"{impl}_at"] = where
            changes.setdefault(mt, []).append([version, row])
            last[mt] = row
        print(f"  {version}: {len(types)} model types", file=sys.stderr)
    return {"versions": versions, "wheels": meta, "raises": raises, "defaults": defaults, "types": changes}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheels", help="a folder of transformers wheels (pip download --no-deps transformers==X)")
    args = ap.parse_args()
    old: dict[str, Any] = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
    if args.wheels:  # the history only: the shipped table (read at its own release) is kept
        table = {k: v for k, v in old.items() if k != "history"}
        table["history"] = build_history(Path(args.wheels))
        want = json.loads(HISTORY.read_text(encoding="utf-8"))["transformers"]["versions"]
        if table["history"]["versions"] != want:
            print(f"note: the wheels read differ from key_history.json's transformers releases ({want[0]}..{want[-1]})")
    else:
        got = build_installed()
        if got is None:
            print("transformers is not installed here")
            return 1
        table = {**got, **({"history": old["history"]} if "history" in old else {})}
    OUT.write_text(json.dumps(table, indent=None, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    types = table["types"]
    counts = {impl: sum(1 for row in types.values() if row.get(impl) is False) for impl in ("sdpa", "flash", "flex")}
    print(
        f"transformers {table['version']}: {len(types)} model types; without sdpa {counts['sdpa']}, flash {counts['flash']}, flex {counts['flex']} -> {OUT.relative_to(ROOT)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
