"""Generate pytest_goblin/frameworks/trainer_signatures.json: the keyword arguments the constructors of TRL's
SFTTrainer, DPOTrainer, ORPOTrainer, KTOTrainer and RewardTrainer take at each TRL release goblin's key history
covers (frameworks/key_history.json), read by AST from `git show v<version>:trl/trainer/<file>` of a bare clone of
github.com/huggingface/trl (first argument: its git directory), else from the release's wheel in the folder the second
argument names (`pip download --no-deps trl==X`). A release found in neither is left out (not judged).
A keyword a `deprecate_kwarg(old, new_name=...)` decorator on __init__ still maps is recorded as accepted.

`gen_trainer_signatures.py transformers <folder>` (re)writes only the "transformers" section: Trainer and Seq2SeqTrainer
of each transformers release in key_history.json, read from `transformers-<version>-py3-none-any.whl` in the folder
(`pip download --no-deps transformers==X`; the transformers repository is too large to clone here); a release whose
wheel is absent is left out."""

from __future__ import annotations

import ast
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = {
    "SFTTrainer": "trl/trainer/sft_trainer.py",
    "DPOTrainer": "trl/trainer/dpo_trainer.py",
    "ORPOTrainer": "trl/trainer/orpo_trainer.py",
    "KTOTrainer": "trl/trainer/kto_trainer.py",
    "RewardTrainer": "trl/trainer/reward_trainer.py",
}


def _show(git: str, rev: str, path: str) -> str | None:
    got = subprocess.run(["git", "--git-dir", git, "show", f"{rev}:{path}"], capture_output=True, text=True)
    return got.stdout if got.returncode == 0 else None


def _signature(source: str, cls: str) -> dict[str, object] | None:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    a = item.args
                    names = [x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs] if x.arg != "self"]
                    deprecated = []
                    for dec in item.decorator_list:
                        if isinstance(dec, ast.Call) and getattr(dec.func, "id", "") == "deprecate_kwarg" and dec.args:
                            first = dec.args[0]
                            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                                deprecated.append(first.value)
                    return {"line": item.lineno, "accepts": sorted(set(names)), "deprecated_accepted": sorted(deprecated), "var_kwargs": a.kwarg is not None}
    return None


TRANSFORMERS_FILES = {"Trainer": "transformers/trainer.py", "Seq2SeqTrainer": "transformers/trainer_seq2seq.py"}
OUT = ROOT / "pytest_goblin/frameworks/trainer_signatures.json"


def _wheel(folder: str, v: str, dist: str = "trl") -> tuple[str, zipfile.ZipFile] | None:
    path = Path(folder) / f"{dist}-{v}-py3-none-any.whl"
    if not path.is_file():
        return None
    return f"{path.name} sha256:{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}", zipfile.ZipFile(path)


def main(git: str, wheels: str = "") -> None:
    versions = json.loads((ROOT / "pytest_goblin/frameworks/key_history.json").read_text())["trl"]["versions"]
    out: dict[str, object] = {
        "generated_by": "scripts/gen_trainer_signatures.py (git show v<version>:<file> of github.com/huggingface/trl, read by AST)",
        "trl": {},
    }
    for v in versions:
        sha = subprocess.run(["git", "--git-dir", git, "rev-parse", "-q", "--verify", f"v{v}^{{commit}}"], capture_output=True, text=True).stdout.strip()
        wheel = _wheel(wheels, v) if not sha and wheels else None
        if not sha and wheel is None:
            continue
        per: dict[str, object] = {"commit": sha} if sha else {"wheel": wheel[0]}  # type: ignore[index]
        for cls, path in FILES.items():
            if wheel is not None:
                names = wheel[1].namelist()
                src = wheel[1].read(path).decode() if path in names else None
            else:
                src = _show(git, f"v{v}", path)
            sig = _signature(src, cls) if src is not None else None
            if sig is not None:
                per[cls] = {"file": path, **sig}
        out["trl"][v] = per  # type: ignore[index]
    if OUT.is_file() and "transformers" in json.loads(OUT.read_text()):
        out["transformers"] = json.loads(OUT.read_text())["transformers"]
    OUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


def transformers(wheels: str) -> None:
    versions = json.loads((ROOT / "pytest_goblin/frameworks/key_history.json").read_text())["transformers"]["versions"]
    table: dict[str, object] = {}
    for v in versions:
        wheel = _wheel(wheels, v, "transformers")
        if wheel is None:
            continue
        per: dict[str, object] = {"wheel": wheel[0]}
        for cls, path in TRANSFORMERS_FILES.items():
            names = wheel[1].namelist()
            sig = _signature(wheel[1].read(path).decode(), cls) if path in names else None
            if sig is not None:
                per[cls] = {"file": path, **sig}
        table[v] = per
    out = json.loads(OUT.read_text())
    out["transformers"] = table
    OUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "transformers":
        transformers(sys.argv[2])
    else:
        main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "")
