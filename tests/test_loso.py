"""benchmarks/loso.py (leave-one-source-out cross-validation) and benchmarks/amd_rows.py (the rows file's loader)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from amd_rows import RowsError, load_rows
from calibration_rows import AMD_MEASUREMENTS, HELDOUT_MEASUREMENTS, Measurement, saves_range, with_saves
from loso import PLAN, Prediction, all_rows, class_table, held, loso, refit, stack_conflicts, summarize, table

from .conftest import ROOT

FIXTURE = ROOT / "tests" / "data" / "amd_rows" / "two_rows.yaml"
DOC = ROOT / "docs" / "projection.md"


def _m(name: str, source_key: str, published: float) -> Measurement:
    return Measurement(name, "mi300x", {}, published, "https://example.invalid", name, source_key=source_key)


def test_summary_arithmetic_on_a_toy() -> None:
    preds = [
        Prediction(_m("a", "s1", 100.0), projected=110.0, low=90.0, high=130.0),  # +10%, inside, width 40/110
        Prediction(_m("b", "s1", 200.0), projected=140.0, low=120.0, high=180.0),  # -30%, outside, width 60/140
        Prediction(_m("c", "s2", 50.0), projected=50.0, low=25.0, high=75.0),  # 0%, inside, width 1.0
    ]
    s = summarize(preds)
    assert (s.rows, s.sources, s.within_25, s.inside) == (3, 2, 2, 2)
    assert s.mean_abs_error == pytest.approx((0.10 + 0.30 + 0.0) / 3)
    assert s.median_width == pytest.approx(60 / 140)
    assert "3 rows from 2 sources; mean |error| 13.3%; within 25%: 2/3; published figure inside the interval: 2/3 (67%)" in table(preds)


def test_rows_whose_settings_goblin_cannot_express_get_their_own_summary_line() -> None:
    odd = replace(_m("b", "s1", 200.0), inexpressible=("a kernel build",))
    preds = [
        Prediction(_m("a", "s1", 100.0), projected=110.0, low=90.0, high=130.0),  # +10%, inside
        Prediction(odd, projected=600.0, low=500.0, high=700.0),  # +200%, outside
        Prediction(_m("c", "s2", 50.0), projected=50.0, low=25.0, high=75.0),  # 0%, inside
    ]
    text = table(preds)
    assert "3 rows from 2 sources; mean |error| 70.0%; within 25%: 2/3" in text  # the headline keeps every row
    assert "- Without the 1 row(s) whose settings goblin cannot express or the source does not establish (b; " in text
    assert "2 rows; mean |error| 5.0%; within 25%: 2/2; inside the interval: 2/2" in text
    assert "Without the" not in table(preds[:1] + preds[2:])  # no such row: no second line


def test_rows_whose_settings_the_source_leaves_open_leave_the_second_line_too() -> None:
    """A row marked `unestablished` (no projection of its assumed settings can have run) leaves the second summary
    line as an `inexpressible` one does; the headline keeps it. Without either mark a row stays in both lines."""
    unknown = replace(_m("b", "s1", 200.0), unestablished=("projected above its GPU's memory although it ran",))
    preds = [
        Prediction(_m("a", "s1", 100.0), projected=110.0, low=90.0, high=130.0),  # +10%, inside
        Prediction(unknown, projected=140.0, low=120.0, high=180.0),  # -30%, outside
        Prediction(_m("c", "s2", 50.0), projected=50.0, low=25.0, high=75.0),  # 0%, inside
    ]
    text = table(preds)
    assert "3 rows from 2 sources; mean |error| 13.3%; within 25%: 2/3" in text
    assert "- Without the 1 row(s) whose settings goblin cannot express or the source does not establish (b; " in text
    assert "2 rows; mean |error| 5.0%; within 25%: 2/2; inside the interval: 2/2" in text
    plain = [preds[0], Prediction(_m("b", "s1", 200.0), projected=140.0, low=120.0, high=180.0), preds[2]]
    assert "Without the" not in table(plain)


def test_the_infinity_hub_70b_rows_are_marked_unestablished_and_never_fitted() -> None:
    """Their assumed settings project above the GPU's memory (memory_check.KNOWN_OVER) and AMD's modified torchtitan
    config is not published: the rows say so and stay out of every fit."""
    rows = {m.name: m for m in load_rows()}
    for name in ("ih-llama31-70b-bf16-mbs4-mi300x", "ih-llama31-70b-bf16-mbs7-mi325x"):
        assert not rows[name].fitted and any("memory" in s for s in rows[name].unestablished), name
    assert not rows["ih-llama31-8b-bf16-mbs3-8k-mi300x"].unestablished  # the harness rows' settings are read from its code
    assert all(not m.fitted for m in rows.values() if m.unestablished)


def test_a_rows_file_marks_its_inexpressible_rows_and_never_fits_them() -> None:
    rows = {m.name: m for m in load_rows()}
    qlora = rows["blog-llama2-7b-qlora-mi300x"]
    assert not qlora.fitted and any("bitsandbytes" in s for s in qlora.inexpressible)
    assert all(not m.fitted for m in rows.values() if m.inexpressible)


def test_a_run_time_figure_is_compared_with_the_step_plus_its_saves() -> None:
    """The ROCm blog's fp32 full fine-tune saves model and AdamW state (6.74B x (4 + 8) bytes, about 81 GB) every
    50 steps inside train_runtime: at the realistic torch.save rate (1.3 GB/s) that is 1.24 s per step."""
    from pytest_goblin.costmodel import REALISTIC_STORAGE_GB_S, STORAGE_GB_S, checkpoint_gb, checkpoint_seconds

    full = {m.name: m for m in load_rows()}["blog-llama2-7b-full-fp32-mi300x"].workload_config()
    assert full.save_interval == 50 and 80 < checkpoint_gb(full) < 82
    tokens = full.tokens_per_step
    per_step = checkpoint_seconds(full, REALISTIC_STORAGE_GB_S) / 50
    assert 1.2 < per_step < 1.3
    assert with_saves(full, 2000.0) == pytest.approx(tokens / (tokens / 2000.0 + per_step))
    assert with_saves(full.model_copy(update={"save_interval": None}), 2000.0) == 2000.0  # a step rate stays one
    nominal, low, high = saves_range(full, 2000.0, 1500.0, 2500.0)
    assert low < nominal < high < 2500.0
    assert high == pytest.approx(tokens / (tokens / 2500.0 + checkpoint_seconds(full, STORAGE_GB_S[1]) / 50))


TINY = (("gfx942", ("mi300x", "mi325x"), ("mi300x", "mi325x"), {"gemm_eff_max": (0.4, 0.6), "fp8_gemm_eff_max": (0.6, 0.9)}),)


def test_a_left_out_source_is_predicted_without_its_own_rows() -> None:
    rows = [m for m in AMD_MEASUREMENTS if m.target == "mi300x"] + [HELDOUT_MEASUREMENTS[0]]
    assert {m.source_key for m in rows} == {"pytorch-ao-training-md", "mlperf-amd", "mlperf-krai"}
    base = {p.measurement.name: p for p in loso(rows, TINY)}
    # double every published figure of one source: its own predictions do not move, the others' may
    doubled = [replace(m, published_tokens_per_s=2 * m.published_tokens_per_s) if m.source_key == "mlperf-amd" else m for m in rows]
    moved = {p.measurement.name: p for p in loso(doubled, TINY)}
    for name, p in base.items():
        if p.measurement.source_key == "mlperf-amd":
            assert moved[name].projected == pytest.approx(p.projected)
            assert moved[name].error == pytest.approx((p.error + 1) / 2 - 1)
    # the other sources' intervals do move: the doubled rows are in their calibration residuals
    others = [n for n, p in base.items() if p.measurement.source_key != "mlperf-amd"]
    assert others and all(moved[n].high > base[n].high for n in others)
    # the refit takes its values from the grid, and MI325X takes MI300X's, keeping its own sourced matrix_scale
    without = refit([m for m in rows if m.source_key != "pytorch-ao-training-md"], TINY)
    assert without["mi300x"].fp8_gemm_eff_max in (0.6, 0.9)
    assert without["mi325x"] == replace(without["mi300x"], matrix_scale=1.19)
    # a factor no remaining row reads falls back to the default block's value
    no_te = refit([m for m in rows if m.source_key != "mlperf-amd"], TINY)
    assert no_te["mi300x"].fp8_gemm_eff_max == 0.60


def test_docs_carry_the_current_loso_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- loso-table:start -->\n(.*?)\n<!-- loso-table:end -->", text, re.S)
    assert found, "docs/projection.md lost its loso-table markers"
    assert found.group(1) == table(), "the cross-validation changed: run `python benchmarks/loso.py` and update docs/projection.md"


def test_rows_file_loads_into_measurements() -> None:
    rows = load_rows(FIXTURE)
    assert [m.name for m in rows] == ["fixture-titan-llama3-8b-bf16", "fixture-krai-llama2-70b-lora-mi300x"]
    titan, krai = rows
    assert (titan.fitted, titan.stack, titan.source_key) == (True, "torchtitan", "pytorch-ao-training-md")
    assert (krai.fitted, krai.stack, krai.memory_gb) == (False, "megatron_te", None)
    skip = {"path", "sources", "notes"}
    for loaded, known in ((titan, AMD_MEASUREMENTS[0]), (krai, HELDOUT_MEASUREMENTS[0])):
        assert loaded.workload_config().model_dump(exclude=skip) == known.workload_config().model_dump(exclude=skip)
        assert loaded.published_tokens_per_s == known.published_tokens_per_s
    assert load_rows(FIXTURE.parent / "absent.yaml") == ()


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (
            ("  fitted: false\n", "  fitted: false\n  peak_memory: 180\n"),
            "row 2 (fixture-krai-llama2-70b-lora-mi300x): peak_memory: Extra inputs are not permitted",
        ),
        (
            (
                "    sample_packing: true\n    gradient_checkpointing: true\n    recompute_share",
                "    packing: true\n    gradient_checkpointing: true\n    recompute_share",
            ),
            "row 2 (fixture-krai-llama2-70b-lora-mi300x): workload keys the goblin format does not have: packing",
        ),
        (("  stack: torchtitan\n", "  stack: titan\n"), "row 1 (fixture-titan-llama3-8b-bf16): stack: Input should be"),
        (("  target: mi300x\n  stack: megatron_te", "  target: mi999x\n  stack: megatron_te"), "row 2 (fixture-krai-llama2-70b-lora-mi300x): target 'mi999x'"),
        (
            (
                "    seq_len: 8192\n    micro_batch_size: 1\n    gradient_accumulation: 1\n    world_size: 8\n    strategy: fsdp",
                "    seq_len: many\n    micro_batch_size: 1\n    gradient_accumulation: 1\n    world_size: 8\n    strategy: fsdp",
            ),
            "row 1 (fixture-titan-llama3-8b-bf16): workload:",
        ),
        (
            ("  fitted: true\n", "  inexpressible:\n  - a kernel build goblin has no figure for\n  fitted: true\n"),
            "row 1 (fixture-titan-llama3-8b-bf16): a row with `inexpressible` settings cannot be `fitted: true`",
        ),
        (
            ("  fitted: true\n", "  unestablished:\n  - a config the source does not publish\n  fitted: true\n"),
            "row 1 (fixture-titan-llama3-8b-bf16): a row with `unestablished` settings cannot be `fitted: true`",
        ),
        (
            ("name: fixture-krai-llama2-70b-lora-mi300x", "name: fixture-titan-llama3-8b-bf16"),
            "row 2 (fixture-titan-llama3-8b-bf16): the name 'fixture-titan-llama3-8b-bf16' is used by an earlier row",
        ),
    ],
)
def test_a_bad_row_is_an_error_naming_the_file_and_the_row(tmp_path: Path, edit: tuple[str, str], says: str) -> None:
    text = FIXTURE.read_text(encoding="utf-8")
    assert edit[0] in text
    bad = tmp_path / "amd_rows.yaml"
    bad.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(RowsError) as exc:
        load_rows(bad)
    assert str(exc.value).startswith(f"{bad}: ") and says in str(exc.value), str(exc.value)


def test_docs_list_every_parameter_with_its_current_value() -> None:
    from dataclasses import fields

    from pytest_goblin.costmodel import Assumptions, efficiency_table

    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- parameters-table:start -->\n(.*?)\n<!-- parameters-table:end -->", text, re.S)
    assert found, "docs/projection.md lost its parameters-table markers"
    rows = {cells[0]: cells for cells in ([c.strip() for c in line.strip("|").split("|")] for line in found.group(1).splitlines()[2:])}
    table_ = efficiency_table()
    assert table_["h100"].nominal == table_["default"].nominal
    targets = ("default", "mi300x", "mi325x", "mi355x")
    assert set(rows) == {f.name for f in fields(Assumptions)}, "a factor is missing from (or extra in) the docs' parameters table"
    for name, cells in rows.items():
        assert cells[1:5] == [f"{getattr(table_[t].nominal, name):g}" for t in targets], name
        assert cells[5] and cells[6], f"{name}: no kind or source"
    # a factor a target's entry sets names its source there too
    for t in targets[1:]:
        for name in rows:
            if getattr(table_[t].nominal, name) != getattr(table_["default"].nominal, name):
                assert name in table_[t].sources, (t, name)


def test_rows_of_one_source_and_recipe_name_one_stack() -> None:
    # 3f80044 labelled MangoBoost's v5.1 rows `other` (calibration_rows) and its v5.0 rows `megatron_te`
    # (amd_rows.yaml); both run NeMo's Megatron-Core GPT with Transformer Engine
    rows = all_rows()
    assert stack_conflicts(rows) == []
    assert {m.stack for m in rows if m.source_key == "mlperf-mangoboost"} == {"megatron_te"}
    relabelled = [replace(m, stack="other") if m.name == "mangoboost-llama2-70b-lora-mi300x-1node" else m for m in rows]
    assert stack_conflicts(relabelled) == [
        "mlperf-mangoboost meta-llama/Llama-2-70b-hf lora: mangoboost-llama2-70b-lora-mi300x-2node says megatron_te, mangoboost-llama2-70b-lora-mi300x-1node says other"
    ]


def test_one_source_may_hold_two_stacks_for_two_recipes() -> None:
    # AMD's training container table: its torchtitan 70B rows and its FSDP harness 8B rows are different recipes
    infinity = [m for m in all_rows() if m.source_key == "infinityhub-pytorch-training-v25.2"]
    assert {m.stack for m in infinity} == {"torchtitan", "other"}
    assert stack_conflicts(infinity) == []


def test_class_table_groups_each_axis_and_puts_the_largest_class_first() -> None:
    rows = [m for m in AMD_MEASUREMENTS if m.target == "mi300x"]
    preds = [Prediction(m, projected=m.published_tokens_per_s * (1.5 if m.name.endswith("bf16") else 1.1), low=0.0, high=1e9) for m in rows]
    lines = class_table(preds).splitlines()
    precision = [line for line in lines if line.startswith("| precision |")]
    # one bf16 row at +50% outweighs the fp8 rows at +10% each (summed |error| 0.5 against 0.1 x their count)
    n_fp8 = sum(1 for m in rows if m.workload_config().precision == "fp8")
    assert n_fp8 < 5
    assert precision[0] == "| precision | bf16 | 1 | 1 | +50.0% | 50.0% | 50.0% | 1/1 |"
    assert precision[1].startswith(f"| precision | fp8 | {n_fp8} |")
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| stack"] * 2 + ["| precision"] * 2 + ["| scale"] * 2 + ["| gpu"] + ["| nodes"]


def test_docs_carry_the_current_class_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- loso-classes-table:start -->\n(.*?)\n<!-- loso-classes-table:end -->", text, re.S)
    assert found, "docs/projection.md lost its loso-classes-table markers"
    assert found.group(1) == class_table(), "the cross-validation changed: run `python benchmarks/loso.py --write`"


def test_hold_fixes_one_factor_of_the_gfx942_fit_only() -> None:
    plan = held(PLAN, "gemm_half_hidden", 768.0)
    grids = {name: grid for name, _fits, _takes, grid in plan}
    assert grids["gfx942"]["gemm_half_hidden"] == (768.0,)
    assert grids["gfx942"]["fp8_gemm_eff_max"] == dict(PLAN[0][3])["fp8_gemm_eff_max"]  # the others still refit
    assert grids["mi355x"]["gemm_half_hidden"] == dict(PLAN[1][3])["gemm_half_hidden"]  # MI355X's own fit untouched
    with pytest.raises(SystemExit, match="does not refit it"):
        held(PLAN, "attn_eff", 0.3)


def test_source_runs_one_fold_alone_with_the_rows_the_full_run_gives() -> None:
    rows = load_rows(FIXTURE)  # two rows, two sources
    whole = loso(rows)
    one = loso(rows, only="pytorch-ao-training-md")
    assert [p.measurement.name for p in one] == ["fixture-titan-llama3-8b-bf16"]
    assert one == [p for p in whole if p.measurement.source_key == "pytorch-ao-training-md"]


def test_source_names_the_sources_when_it_matches_none_and_refuses_write() -> None:
    from loso import main

    with pytest.raises(SystemExit, match=r"--source mlperf-nobody: no row names that source; the sources are .*mlperf-amd"):
        loso(all_rows(), only="mlperf-nobody")
    with pytest.raises(SystemExit, match="--source and --write"):
        main(["--source", "mlperf-amd", "--write"])
