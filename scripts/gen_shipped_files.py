"""Regenerate pytest_goblin/frameworks/shipped_files.json: what the DeepSpeed and accelerate/FSDP files a framework
ships in its own checkout hold, per release where it changed.

A config may name a file its repository does not have but the framework's checkout does (LLaMA-Factory's
`examples/deepspeed/ds_z3_offload_config.json`, Axolotl's `deepspeed_configs/zero3_bf16.json`, TRL's
`examples/accelerate_configs/deepspeed_zero3.yaml`): the run, started from that checkout, reads the framework's copy.
This reads each framework's own git history (a bare clone or mirror, nothing checked out): at every release tag
(`vX.Y.Z` or `X.Y.Z`, `.postN` too; no rc/dev) and at the head read, every file under the folders below, parsed as
data (json.loads / safe YAML, nothing executed), and keeps the settings that matter to the cost model: ZeRO stage,
offload_optimizer / offload_param device, overlap_comm, bf16 / fp16 `enabled`, and for an accelerate config its
distributed_type, deepspeed_config (zero_stage, offload devices, deepspeed_config_file), fsdp_config (offload_params,
sharding strategy / reshard_after_forward, version) and mixed_precision. Consecutive releases with the same settings
share one row. Only settings are written, never a file's text.

    python scripts/gen_shipped_files.py axolotl=<git dir> llamafactory=<git dir> trl=<git dir> \
        alignment-handbook=<git dir>

(`fetch` of github:axolotl-ai-cloud/axolotl, hiyouga/LLaMA-Factory, huggingface/trl, huggingface/alignment-handbook
gives the git dirs under /work/.mirror/<owner>+<name>/repo.) A tag whose tree holds none of a framework's files is
not listed for them. `python scripts/gen_shipped_files.py --markdown` prints the table docs/shipped_files.md holds.
tests/test_shipped_files.py checks both.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from packaging.version import Version
from ruamel.yaml import YAML

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pytest_goblin.formats.deepspeed import without_offload

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "pytest_goblin" / "frameworks" / "shipped_files.json"
DOC = ROOT / "docs" / "shipped_files.md"
# framework -> (repository, the folders whose DeepSpeed / accelerate files a checkout ships)
FRAMEWORKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "axolotl": ("axolotl-ai-cloud/axolotl", ("deepspeed_configs/", "deepspeed/")),
    "llamafactory": ("hiyouga/LLaMA-Factory", ("examples/deepspeed/", "examples/accelerate/")),
    "trl": ("huggingface/trl", ("examples/accelerate_configs/", "trl/accelerate_configs/")),
    "alignment-handbook": ("huggingface/alignment-handbook", ("recipes/accelerate_configs/",)),
}
_RELEASE = re.compile(r"^v?(\d+\.\d+(?:\.\d+)?(?:\.post\d+)?)$")


def _git(gitdir: str, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", gitdir, *args], check=True, capture_output=True, text=True).stdout


def _line(text: str, key: str) -> int | None:
    at = re.search(rf"""["']?\b{re.escape(key)}\b["']?\s*:""", text)
    return text.count("\n", 0, at.start()) + 1 if at else None


def _device(block: Any) -> Any:
    return block.get("device") if isinstance(block, dict) else None


def _enabled(block: Any) -> Any:
    return block.get("enabled") if isinstance(block, dict) else None


def deepspeed_settings(data: dict[str, Any], text: str) -> dict[str, Any]:
    """The settings of a DeepSpeed JSON that matter: stage, offload devices, overlap_comm, bf16/fp16 enabled."""
    zero = data.get("zero_optimization") if isinstance(data.get("zero_optimization"), dict) else {}
    out = {
        "kind": "deepspeed",
        "zero_stage": zero.get("stage"),
        "offload_optimizer": _device(zero.get("offload_optimizer")),
        "offload_param": _device(zero.get("offload_param")),
        "overlap_comm": zero.get("overlap_comm"),
        "bf16": _enabled(data.get("bf16")),
        "fp16": _enabled(data.get("fp16")),
    }
    lines = {k: _line(text, k) for k in ("stage", "offload_optimizer", "offload_param", "overlap_comm") if k in zero}
    # the whole file but its offload (pytest_goblin.formats.deepspeed.without_offload), hashed: two shipped files with
    # the same hash differ only in offload (LLaMA-Factory's ds_z3_config.json and ds_z3_offload_config.json)
    rest = json.dumps(without_offload(data), sort_keys=True)
    return {"settings": out, "lines": {k: v for k, v in lines.items() if v}, "without_offload": hashlib.sha256(rest.encode()).hexdigest()[:16]}


def accelerate_settings(data: dict[str, Any], text: str) -> dict[str, Any]:
    """The settings of an accelerate config that matter: distributed type, ZeRO and FSDP offload/sharding, precision."""
    ds = data.get("deepspeed_config") if isinstance(data.get("deepspeed_config"), dict) else {}
    fsdp = data.get("fsdp_config") if isinstance(data.get("fsdp_config"), dict) else {}
    out = {
        "kind": "accelerate",
        "distributed_type": data.get("distributed_type"),
        "mixed_precision": data.get("mixed_precision"),
        "num_processes": data.get("num_processes"),
        "zero_stage": ds.get("zero_stage"),
        "offload_optimizer": ds.get("offload_optimizer_device"),
        "offload_param": ds.get("offload_param_device"),
        "deepspeed_config_file": ds.get("deepspeed_config_file"),
        "fsdp_offload_params": fsdp.get("fsdp_offload_params"),
        "fsdp_sharding": fsdp.get("fsdp_sharding_strategy", fsdp.get("fsdp_reshard_after_forward")),
        "fsdp_version": fsdp.get("fsdp_version"),
    }
    keys = ("zero_stage", "offload_optimizer_device", "offload_param_device", "fsdp_offload_params", "distributed_type")
    lines = {k: _line(text, k) for k in keys}
    return {"settings": {k: v for k, v in out.items() if v is not None or k in ("kind", "distributed_type")}, "lines": {k: v for k, v in lines.items() if v}}


def read_file(text: str, path: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text) if path.endswith(".json") else YAML(typ="safe", pure=True).load(text)
    except Exception:
        return None
    if not isinstance(data, dict):
        return None
    return deepspeed_settings(data, text) if path.endswith(".json") else accelerate_settings(data, text)


def read_framework(name: str, gitdir: str) -> dict[str, Any]:
    repo, folders = FRAMEWORKS[name]
    tags = sorted(((Version(m.group(1)), t) for t in _git(gitdir, "tag").split() if (m := _RELEASE.match(t))), key=lambda x: x[0])
    head = _git(gitdir, "rev-parse", "HEAD").strip()
    refs = [(str(v), t) for v, t in tags] + [(f"main@{head[:7]}", head)]
    files: dict[str, list[dict[str, Any]]] = {}
    prev: dict[str, str] = {}
    for release, ref in refs:
        names = [p for p in _git(gitdir, "ls-tree", "-r", "--name-only", ref).splitlines() if p.startswith(folders) and p.endswith((".json", ".yaml", ".yml"))]
        for path in names:
            got = read_file(_git(gitdir, "show", f"{ref}:{path}"), path)
            if got is None:
                continue
            rows = files.setdefault(path, [])
            same = all(rows[-1].get(k) == got.get(k) for k in ("settings", "lines", "without_offload")) if rows else False
            if same and rows[-1]["last"] == prev.get(path):
                rows[-1]["last"] = release
            else:
                rows.append({"first": release, "last": release, **got})
        prev = {p: release for p in names}
    return {"repository": repo, "read_at": head, "releases": [str(v) for v, _ in tags], "files": files}


def markdown(table: dict[str, Any]) -> str:
    """The table docs/shipped_files.md holds, from shipped_files.json."""
    out = [
        "# DeepSpeed and accelerate files the frameworks ship",
        "",
        "Generated by scripts/gen_shipped_files.py from each framework's own release tags (pytest_goblin/frameworks/shipped_files.json);",
        "a config that names one of these paths, where its repository has no file of that name, is read with these settings.",
        "",
        "| framework | file | releases | settings |",
        "|---|---|---|---|",
    ]
    for name, fw in table["frameworks"].items():
        for path, rows in fw["files"].items():
            for row in rows:
                said = ", ".join(f"{k}={json.dumps(v)}" for k, v in row["settings"].items() if k != "kind" and v is not None)
                span = row["first"] if row["first"] == row["last"] else f"{row['first']} - {row['last']}"
                out.append(f"| {name} | {path} | {span} | {said} |")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> None:
    if argv == ["--markdown"]:
        sys.stdout.write(markdown(json.loads(OUT.read_text())))
        return
    dirs = dict(a.split("=", 1) for a in argv)
    table = {"frameworks": {name: read_framework(name, dirs[name]) for name in FRAMEWORKS if name in dirs}}
    OUT.write_text(json.dumps(table, indent=1, sort_keys=False) + "\n")
    DOC.write_text(markdown(table))


if __name__ == "__main__":
    main(sys.argv[1:])
