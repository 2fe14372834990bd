"""Did a change leave every result as it was? Audit JSON of two copies of pytest_goblin, compared.

    python benchmarks/same_results.py OUT_DIR BASE_PKG NEW_PKG [--corpus DIR] [--trees DIR] [--batch FILE]

BASE_PKG and NEW_PKG are folders that hold a `pytest_goblin` package (a `git archive` export of the
base commit, and this checkout); each run puts one first on PYTHONPATH. Every job runs in both:
`goblin audit . --json` in the corpus folder and in each repository under --trees (whole trees:
collection, launcher search, pins, READMEs, datasets), and, for each line `owner/name<TAB>commit<TAB>
config<TAB>format` of --batch, `goblin audit CONFIG --json` and `goblin parse CONFIG --json` in
TREES/owner+name. PYTHONHASHSEED is fixed (0) so that a set's order cannot pass for a change.
OUT_DIR must lie outside the audited folders (a report written inside a tree is read by the next job).
The JSON is compared with timing keys removed; stdout/stderr with the output folder's name and
durations removed. Exits 1 and names the files that differ.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

TIMING = {"duration_s", "elapsed_s", "wall_s", "started", "finished", "timestamp", "generated_at"}


def jobs(corpus: Path | None, trees: Path | None, batch: Path | None) -> list[tuple[str, Path, list[str]]]:
    audit = ["goblin", "audit", "--target", "mi300x", "--runner", "projection"]
    out: list[tuple[str, Path, list[str]]] = []
    if corpus is not None:
        out.append(("corpus", corpus, [*audit, ".", "--json", "{out}/corpus.json"]))
    if trees is not None:
        for t in sorted(p for p in trees.iterdir() if p.is_dir()):
            out.append((f"tree_{t.name}", t, [*audit, ".", "--json", f"{{out}}/tree_{t.name}.json"]))
    if batch is not None and trees is not None:
        lines = [line for line in batch.read_text().splitlines() if line.strip() and not line.startswith("#")]
        for n, line in enumerate(lines, 1):
            repo, _commit, config, _fmt = line.split("\t")[:4]
            where = trees / repo.replace("/", "+")
            out.append((f"cfg{n}", where, [*audit, config, "--json", f"{{out}}/cfg{n}.json"]))
            out.append((f"parse{n}", where, ["goblin", "parse", config, "--json"]))
    return out


def run(pkg: Path, out: Path, todo: list[tuple[str, Path, list[str]]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(pkg), PYTHONHASHSEED="0")
    for name, cwd, cmd in todo:
        start = time.perf_counter()
        argv = [c.replace("{out}", str(out)) for c in cmd]
        p = subprocess.run(argv, cwd=cwd, env={**env, "PWD": str(cwd)}, capture_output=True, text=True, check=False)
        (out / f"{name}.stdout").write_text(p.stdout)
        (out / f"{name}.stderr").write_text(p.stderr)
        (out / f"{name}.rc").write_text(str(p.returncode))
        print(f"{pkg}: {name} rc={p.returncode} {time.perf_counter() - start:.1f}s", flush=True)


def _scrub(x: object) -> object:
    if isinstance(x, dict):
        return {k: _scrub(v) for k, v in x.items() if k not in TIMING}
    if isinstance(x, list):
        return [_scrub(v) for v in x]
    return x


def _normal(path: Path, out: Path) -> str:
    text = path.read_text()
    if path.suffix == ".json" or path.name.startswith("parse"):
        try:
            return json.dumps(_scrub(json.loads(text)), indent=1, sort_keys=True)
        except ValueError:
            pass
    return re.sub(r"\d+\.\d+s\b", "T", text.replace(str(out), "OUT"))


def compare(a: Path, b: Path) -> int:
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    bad = [n for n in names if not (a / n).exists() or not (b / n).exists() or _normal(a / n, a) != _normal(b / n, b)]
    for n in bad:
        print(f"DIFFERS {n}")
    print(f"{len(names)} files compared, {len(bad)} differ")
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("base", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--trees", type=Path)
    ap.add_argument("--batch", type=Path)
    args = ap.parse_args()
    todo = jobs(args.corpus, args.trees, args.batch)
    if not todo:
        ap.error("nothing to run: give --corpus and/or --trees")
    out = args.out.resolve()
    run(args.base.resolve(), out / "base", todo)
    run(args.new.resolve(), out / "new", todo)
    return compare(out / "base", out / "new")


if __name__ == "__main__":
    sys.exit(main())
