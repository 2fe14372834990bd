"""Leave-one-out attribution keeps only the rules whose measured contribution clears the bar."""

from __future__ import annotations

from pytest_goblin import hardware
from pytest_goblin import rules as kb
from pytest_goblin.attribution import KEEP_THRESHOLD, leave_one_out
from pytest_goblin.modelzoo import lookup_model
from pytest_goblin.schemas import WorkloadConfig


def test_a_rule_that_does_not_pay_is_dropped_with_its_figure() -> None:
    hw = hardware.get_hardware("mi300x")
    w = WorkloadConfig(
        path="x",
        format="goblin",
        model=lookup_model("meta-llama/Meta-Llama-3-8B"),
        method="lora",
        precision="fp32",
        attention="eager",
        optimizer="adamw_torch_fused",
    )
    rules = [r for r in kb.cached_rules() if r.id in {"precision.bf16_amp_over_fp32", "attention.sdpa_over_eager", "gemm.hipblaslt_disabled"}]

    def time_of(v: WorkloadConfig) -> float:  # a device where bf16 halves the time and SDPA costs 5%
        return (0.5 if v.precision == "bf16" else 1.0) * (1.05 if v.attention == "sdpa" else 1.0)

    kept, dropped = leave_one_out(w, rules, hw, time_of)
    assert set(dropped) == {"attention.sdpa_over_eager"} and dropped["attention.sdpa_over_eager"] < KEEP_THRESHOLD
    assert {r.id for r in kept} == {"precision.bf16_amp_over_fp32", "gemm.hipblaslt_disabled"}  # env-only rules are not judged here


def test_every_rule_that_pays_is_kept() -> None:
    hw = hardware.get_hardware("mi300x")
    w = WorkloadConfig(path="x", format="goblin", model=lookup_model("meta-llama/Meta-Llama-3-8B"), method="lora", precision="fp32", attention="eager")
    rules = [r for r in kb.cached_rules() if r.id in {"precision.bf16_amp_over_fp32", "attention.sdpa_over_eager"}]

    def time_of(v: WorkloadConfig) -> float:
        return (0.5 if v.precision == "bf16" else 1.0) * (0.8 if v.attention == "sdpa" else 1.0)

    kept, dropped = leave_one_out(w, rules, hw, time_of)
    assert dropped == {} and len(kept) == 2


def test_audit_with_attribution_drops_what_the_device_says_does_not_pay(tmp_path: object) -> None:
    import sys
    from pathlib import Path

    from pytest_goblin.backends import Planner
    from pytest_goblin.loop import audit_sync, final_report
    from pytest_goblin.runners.torch_runner import TorchRunner
    from pytest_goblin.settings import Settings

    from .conftest import EXAMPLES

    worker = Path(str(tmp_path)) / "worker.py"
    worker.write_text(
        "import json, sys\n"
        "req = json.loads(sys.stdin.read())\n"
        "def t(w):  # a device where bf16 halves the time per token and SDPA costs 5%\n"
        "    per_token = 1e-5 * (0.5 if w['precision'] == 'bf16' else 1.0) * (1.05 if w['attention'] == 'sdpa' else 1.0)\n"
        "    tokens = w['micro_batch_size'] * w['gradient_accumulation'] * w['seq_len']\n"
        "    return tokens, [per_token * tokens * f for f in (1.0, 1.01, 0.99, 1.0)]\n"
        "def m(w, rid, var):\n"
        "    tokens, steps = t(w)\n"
        "    return {'run_id': rid, 'variant': var, 'evidence': 'measured', 'runner': 'torch', 'device': 'cpu', 'step_time_s': steps,"
        " 'tokens_per_step': tokens, 'tokens_per_s': tokens / steps[0], 'samples_per_s': 1.0}\n"
        "if 'pair' in req:\n"
        "    p = req['pair']\n"
        "    print(json.dumps({'ok': True, 'before': m(p['before'], p['run_ids'][0], 'baseline'), 'after': m(p['after'], p['run_ids'][1], p['variants'][1])}))\n"
        "else:\n"
        "    print(json.dumps({'ok': True, 'metrics': m(req['workload'], req['run_id'], req['variant'])}))\n"
    )
    runner = TorchRunner(device="cpu", timeout_s=60, command=[sys.executable, str(worker)])
    settings = Settings(runner="torch", target="mi300x", attribution=True)
    report = final_report(audit_sync(EXAMPLES / "axolotl-llama3-8b-lora.yml", backend=Planner(), settings=settings, runner=runner))
    assert report is not None and report.patch is not None
    assert "attention.sdpa_over_eager" not in report.patch.rule_ids
    assert "attribution: measured contribution" in report.patch.skipped["attention.sdpa_over_eager"]
    assert "precision.bf16_over_fp16" in report.patch.rule_ids  # it pays on this device: kept
    assert all("eager_attention" not in line for line in report.patch.diff.splitlines() if line[:1] in "+-")
