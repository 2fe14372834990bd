"""What pytest-goblin costs: the idle plugin, and one projected audit. Ratios from one run.

    python benchmarks/overhead.py [CONFIG_DIR]

1. Idle cost: a suite of 200 trivial tests run with the plugin installed but no --goblin,
   against the same run with `-p no:goblin`, alternated 20 times; medians of wall and CPU time.
   Goal: within 5% (ratio <= 1.05). The plugin's own cost is a fixed ~5 ms per pytest start
   (its option table and addoption), about 1% of this suite; ten rounds left the ratio at the
   mercy of a busy machine (1.00-1.05 for the same code).
2. Audit cost: every training config under CONFIG_DIR (default tests/data/reference_corpus,
   the vendored copy of ../shared/corpus) audited in-process with the projection runner, after
   a warm-up, inside one session scope (repoindex) as `goblin audit` runs them; mean per config.
   Goal: <= 20 ms.
3. Session cost: the whole `pytest --goblin CONFIG_DIR` session against an empty one
   (`pytest --goblin EMPTY_DIR`, the same start-up) in the same run, alternated 5 times, both
   in a temporary rootdir as a user's would be; (median full - median empty) / configs.
   Goal: <= 10 ms per config. CPU time is printed beside wall time: on a machine busy with other
   work the wall time grows and the CPU time does not.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_MS = 20.0
SESSION_BUDGET_MS = 10.0


# Sessions run as on a user's machine: Python caches bytecode (and pytest its assertion-rewritten
# plugin modules). A machine that sets PYTHONDONTWRITEBYTECODE recompiles every module on every
# start, which this benchmark would otherwise charge to each config.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _wall(cmd: list[str], cwd: Path) -> float:
    return _timed(cmd, cwd)[0]


def _timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """(wall s, CPU s) of one child: CPU time is what a busy CI runner's other jobs do not inflate."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, capture_output=True, check=False, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def idle_ratio(rounds: int = 20) -> tuple[float, float, float, float]:
    """(median wall s with the plugin, without, wall ratio, CPU ratio) of a 200-test suite."""
    with tempfile.TemporaryDirectory() as tmp:
        suite = Path(tmp)
        (suite / "test_many.py").write_text("import pytest\n\n@pytest.mark.parametrize('i', range(200))\ndef test_n(i):\n    assert i >= 0\n")
        base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        with_plugin, without = [], []
        _wall(base, suite)  # warm the OS caches
        for _ in range(rounds):
            with_plugin.append(_timed(base, suite))
            without.append(_timed([*base, "-p", "no:goblin"], suite))
    a, b = statistics.median(r[0] for r in with_plugin), statistics.median(r[0] for r in without)
    cpu = statistics.median(r[1] for r in with_plugin) / statistics.median(r[1] for r in without)
    return a, b, a / b, cpu


def audit_cost(folder: Path) -> tuple[int, float]:
    from pytest_goblin import repoindex
    from pytest_goblin.backends import make_backend
    from pytest_goblin.errors import GoblinError
    from pytest_goblin.formats import load_config
    from pytest_goblin.loop import audit_sync
    from pytest_goblin.settings import Settings

    settings = Settings(runner="projection", target="mi300x")
    configs = []
    for f in sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml")):
        try:
            load_config(f)
            configs.append(f)
        except GoblinError:
            pass
    with repoindex.session():  # one session scope, as `goblin audit` and `pytest --goblin` run their configs
        audit_sync(configs[0], backend=make_backend("planner"), settings=settings)  # warm-up: KB, hardware table
        start = time.perf_counter()
        for f in configs:
            audit_sync(f, backend=make_backend("planner"), settings=settings)
        in_process = (time.perf_counter() - start) / len(configs) * 1000
    return len(configs), in_process


def session_cost(folder: Path, rounds: int = 5) -> tuple[tuple[float, float], tuple[float, float], int]:
    """((wall, CPU) median full session s, (wall, CPU) median empty session s, items) of `pytest --goblin`."""
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty"
        empty.mkdir()
        # a copy, so the session has the user's rootdir and not this repository's (its addopts
        # start xdist workers and its conftest imports the test tooling)
        folder = shutil.copytree(folder, Path(tmp) / "configs")
        base = [sys.executable, "-m", "pytest", "--goblin-runner", "projection", "--goblin-target", "mi300x", "-q", "-p", "no:cacheprovider", "--goblin"]
        full, bare = [], []
        _wall([*base, str(folder)], Path(tmp))  # warm the OS caches and write the bytecode caches
        for _ in range(rounds):
            full.append(_timed([*base, str(folder)], Path(tmp)))
            bare.append(_timed([*base, str(empty)], Path(tmp)))
        out = subprocess.run([*base, str(folder), "--collect-only"], cwd=tmp, capture_output=True, text=True).stdout
        items = sum(1 for line in out.splitlines() if line.endswith("::audit"))

    def medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
        return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)

    return medians(full), medians(bare), items


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "data" / "reference_corpus"
    a, b, ratio, cpu_ratio = idle_ratio()
    print(f"idle plugin: {a * 1000:.0f} ms with, {b * 1000:.0f} ms without (-p no:goblin), 200 tests")
    print(f"ratio idle/without: {ratio:.3f} wall, {cpu_ratio:.3f} CPU  (goal <= 1.05)")
    n, per_config = audit_cost(folder)
    print(f"projected audit: {per_config:.1f} ms per config, in process, over {n} configs in {folder}")
    print(f"ratio audit/budget: {per_config / BUDGET_MS:.2f}  (goal <= 1.00, budget {BUDGET_MS:.0f} ms)")
    (full, full_cpu), (bare, bare_cpu), items = session_cost(folder)
    per_item = (full - bare) / items * 1000
    per_item_cpu = (full_cpu - bare_cpu) / items * 1000
    print(f"pytest --goblin session: {full:.2f} s for {items} configs, {bare:.2f} s for an empty one (CPU {full_cpu:.2f} s, {bare_cpu:.2f} s)")
    print(
        f"session cost: {per_item:.1f} ms per config wall, {per_item_cpu:.1f} ms CPU; ratio to budget {per_item / SESSION_BUDGET_MS:.2f}  (goal <= 1.00, budget {SESSION_BUDGET_MS:.0f} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
