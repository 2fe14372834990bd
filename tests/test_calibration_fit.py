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


def test_a_factor_the_worst_row_does_not_read_is_fitted_to_the_rows_that_read_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worst row moves with one factor only: the largest error ties over the other factor, whose own
    row decides it (by the sum of squares) instead of the starting point."""

    def error(m: Measurement, w: WorkloadConfig, hw: Hardware, a: Assumptions) -> float:
        if m.name == "worst":  # read by the size term only, never fitted well
            return 2.0 - a.gemm_half_hidden / 10000
        return a.fp8_gemm_eff_max - 0.5  # read by the fp8 efficiency only: exact at 0.5

    monkeypatch.setattr(calibration_fit, "log_error", error)
    values, worst = fit([_row("worst"), _row("fp8")], {"gemm_half_hidden": (0, 4096), "fp8_gemm_eff_max": GRID["fp8_gemm_eff_max"]})
    assert values == {"gemm_half_hidden": 4096, "fp8_gemm_eff_max": 0.5}
    assert worst == pytest.approx(2.0 - 0.4096)


def test_exact_fits_still_keep_the_factors_nearest_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    # one row, two factors that trade off exactly: every point on the line fits; the one nearest the
    # start (fp8 0.8, attn 0.45) is kept
    monkeypatch.setattr(calibration_fit, "log_error", lambda m, w, hw, a: a.fp8_gemm_eff_max - a.attn_eff)
    values, _worst = fit([_row("x")], {"fp8_gemm_eff_max": GRID["fp8_gemm_eff_max"], "attn_eff": GRID["fp8_gemm_eff_max"]})
    assert values == {"fp8_gemm_eff_max": 0.6, "attn_eff": 0.6}
