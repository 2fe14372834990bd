"""benchmarks/calibration_fit.fit: which rows score a grid point."""

from __future__ import annotations

import calibration_fit
import pytest
from calibration_fit import fit
from calibration_rows import AMD_MEASUREMENTS, Measurement

from pytest_goblin.costmodel import Assumptions
from pytest_goblin.hardware import get_hardware
from pytest_goblin.schemas import Hardware, WorkloadConfig

WORKLOAD = AMD_MEASUREMENTS[0].workload_config()  # never projected: log_error is replaced
GRID = {"fp8_gemm_eff_max": (0.4, 0.5, 0.6, 0.7, 0.8)}


def _row(name: str) -> calibration_fit.Row:
    m = Measurement(name, "mi300x", {}, 1000.0, "https://example.invalid", name)
    return (m, WORKLOAD, get_hardware("mi300x"), Assumptions(fp8_gemm_eff_max=0.8))


def _fake_error(m: Measurement, w: WorkloadConfig, hw: Hardware, a: Assumptions) -> float:
    if m.name == "fp8":  # read by the grid: exact at 0.5
        return a.fp8_gemm_eff_max - 0.5
    return 1.2  # an fp32 row: no grid factor moves it


def test_a_row_the_grid_cannot_move_does_not_decide_the_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calibration_fit, "log_error", _fake_error)
    values, worst = fit([_row("fp8"), _row("fp32")], GRID)
    # scored over every row, each point's worst is the fp32 row's 1.2: all tie and the start (0.8) is kept
    assert values == {"fp8_gemm_eff_max": 0.5}
    assert worst == pytest.approx(0.0)


def test_rows_the_grid_moves_are_all_scored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calibration_fit, "log_error", lambda m, w, hw, a: a.fp8_gemm_eff_max - (0.5 if m.name == "a" else 0.7))
    values, worst = fit([_row("a"), _row("b")], GRID)
    assert values == {"fp8_gemm_eff_max": 0.6}  # minimax of the two: 0.1 either way
    assert worst == pytest.approx(0.1)


def test_rows_no_grid_factor_reads_leave_the_fit_at_its_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calibration_fit, "log_error", lambda m, w, hw, a: 0.3)
    values, worst = fit([_row("x"), _row("y")], GRID)
    assert values == {"fp8_gemm_eff_max": 0.8}
    assert worst == pytest.approx(0.3)
