"""What pytest-goblin costs: the idle plugin, and one projected audit. Ratios from one run.

    python benchmarks/overhead.py [CONFIG_DIR]

1. Idle cost: a suite of 200 trivial tests run with the plugin installed but no --goblin,
   against the same run with `-p no:goblin`, alternated 8 times; medians of wall time.
   Goal: within 5% (ratio <= 1.05).
2. Audit cost: every training config under CONFIG_DIR (default ../shared/corpus, else
   examples/) audited in-process with the projection runner, after a warm-up; mean per config.
   Goal: <= 20 ms. Also the whole `pytest --goblin` session over the same folder, per config.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_MS = 20.0


def _wall(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - start


def idle_ratio(rounds: int = 8) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        suite = Path(tmp)
        (suite / "test_many.py").write_text("import pytest\n\n@pytest.mark.parametrize('i', range(200))\ndef test_n(i):\n    assert i >= 0\n")
        base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        with_plugin, without = [], []
        _wall(base, suite)  # warm the OS caches
        for _ in range(rounds):
            with_plugin.append(_wall(base, suite))
            without.append(_wall([*base, "-p", "no:goblin"], suite))
    a, b = statistics.median(with_plugin), statistics.median(without)
    return a, b, a / b


def audit_cost(folder: Path) -> tuple[int, float, float]:
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
    audit_sync(configs[0], backend=make_backend("planner"), settings=settings)  # warm-up: KB, hardware table
    start = time.perf_counter()
    for f in configs:
        audit_sync(f, backend=make_backend("planner"), settings=settings)
    in_process = (time.perf_counter() - start) / len(configs) * 1000
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "--goblin",
            str(folder),
            "--goblin-runner",
            "projection",
            "--goblin-target",
            "mi300x",
            "-q",
            "-p",
            "no:cacheprovider",
        ]
        session = _wall(cmd, Path(tmp)) / len(configs) * 1000
    return len(configs), in_process, session


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "corpus"
    if not folder.is_dir():
        folder = ROOT / "examples"
    a, b, ratio = idle_ratio()
    print(f"idle plugin: {a * 1000:.0f} ms with, {b * 1000:.0f} ms without (-p no:goblin), 200 tests")
    print(f"ratio idle/without: {ratio:.3f}  (goal <= 1.05)")
    n, per_config, session = audit_cost(folder)
    print(f"projected audit: {per_config:.1f} ms per config, in process, over {n} configs in {folder}")
    print(f"ratio audit/budget: {per_config / BUDGET_MS:.2f}  (goal <= 1.00, budget {BUDGET_MS:.0f} ms)")
    print(f"whole pytest --goblin session: {session:.1f} ms per config, start-up and collection included")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
