"""The plugin through pytester: collection, verdicts, reports, and staying out of the way."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .conftest import EXAMPLES, SHARED_CORPUS

pytest_plugins = ["pytester"]


@pytest.fixture
def configs(pytester: pytest.Pytester) -> Path:
    dest = pytester.path / "configs"
    shutil.copytree(EXAMPLES, dest)
    return dest


def test_examples_fail_and_pass_with_reports(pytester: pytest.Pytester, configs: Path) -> None:
    result = pytester.runpytest("--goblin", "configs", "--goblin-runner", "projection", "--junitxml", "r.xml", "--goblin-md", "r.md", "--goblin-json", "r.json")
    result.assert_outcomes(failed=3, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*pytest-goblin summary*",
            "FAIL*axolotl-llama3-8b-lora.yml*projected; * [[]*-*[]] -> * [[]*-*[]] tokens/s/GPU projected",
            "PASS*trl-smollm3-3b-sft-tuned.yaml*tokens/s/GPU projected",
        ]
    )
    # one screen per failure: config line, rule, citation, diff; before and after with their throughput intervals
    result.stdout.fnmatch_lines(["*axolotl-llama3-8b-lora.yml:*[[]precision.bf16_over_fp16[]]*", "*see https://*", "*+++ b/axolotl-llama3-8b-lora.yml*"])
    result.stdout.fnmatch_lines(["  before: * [[]*-*[]] tokens/s/GPU (projected, projection on mi300x*", "  after:  * [[]*-*[]] tokens/s/GPU (projected*"])
    result.stdout.fnmatch_lines(
        ["  throughput interval widened: outside the calibration rows: stack hf_trainer (the mi300x rows run megatron_te, torchtitan)*"]
    )
    cases = ET.parse(pytester.path / "r.xml").getroot().findall(".//testcase")
    assert len(cases) == 4
    props = {c.get("classname"): {p.get("name"): p.get("value") for p in c.iter("property")} for c in cases}
    axolotl = next(v for k, v in props.items() if "axolotl" in k)
    assert axolotl["goblin.verdict"] == "fail" and axolotl["goblin.evidence"] == "projected"
    assert float(axolotl["goblin.speedup_low"]) >= 1.10 and "attention.sdpa_over_eager" in axolotl["goblin.rules"]
    md = (pytester.path / "r.md").read_text()
    assert "| config | verdict | speedup | tokens/s/GPU before → after | evidence | top rules |" in md and "```diff" in md and "✅ pass" in md
    assert len(re.findall(r"\| [\d,]+ \[[\d,]+-[\d,]+\] → [\d,]+ \[[\d,]+-[\d,]+\] projected \|", md)) == 4
    assert "throughput interval widened: outside the calibration rows" in md
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["schema_version"] == 1 and len(report["items"]) == 4
    for item in report["items"]:
        for side in ("before", "after"):
            rate = item["report"][side]["tokens_per_s_interval"]
            assert rate["low"] < rate["nominal"] < rate["high"] and rate["widened"], (item["path"], side)
            assert rate["nominal"] == pytest.approx(item["report"][side]["tokens_per_s"])
    assert {i["verdict"] for i in report["items"]} == {"fail", "pass"}


def test_node_ids_are_stable_and_non_configs_not_collected(pytester: pytest.Pytester, configs: Path) -> None:
    result = pytester.runpytest("--goblin", "configs", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["configs/axolotl-llama3-8b-lora.yml::audit", "configs/trl-smollm3-3b-sft-tuned.yaml::audit"])
    assert "accelerate-fsdp.yaml" not in result.stdout.str()


def test_warn_verdict_passes_with_a_warning(pytester: pytest.Pytester, configs: Path) -> None:
    pytester.makeini("[pytest]\ngoblin_fail_at = 50\ngoblin_warn_at = 1.01\n")
    result = pytester.runpytest("--goblin", "configs/axolotl-llama3-8b-lora.yml", "--goblin-runner", "projection")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*GoblinWarning*recoverable*"])
    assert "--- a/axolotl-llama3-8b-lora.yml" not in result.stdout.str()  # findings and diff only on request
    shown = pytester.runpytest("--goblin", "configs/axolotl-llama3-8b-lora.yml", "--goblin-runner", "projection", "--goblin-diff")
    shown.stdout.fnmatch_lines(["*WARN for mi300x*", "*[[]attention.*", "*+++ b/axolotl-llama3-8b-lora.yml*"])
    # a CI that wants warned and inconclusive items red turns goblin's warning into an error, as the README says
    strict = pytester.runpytest(
        "--goblin", "configs/axolotl-llama3-8b-lora.yml", "--goblin-runner", "projection", "-W", "error::pytest_goblin.items.GoblinWarning"
    )
    strict.assert_outcomes(failed=1)


def test_broken_config_is_one_error_not_internalerror(pytester: pytest.Pytester, configs: Path) -> None:
    (configs / "broken.yml").write_text("base_model: x\nmicro_batch_size: [1\n")
    result = pytester.runpytest("--goblin", "configs", "--goblin-runner", "projection", "--goblin-json", "r.json")
    result.assert_outcomes(failed=3, passed=1, errors=1)
    assert "INTERNALERROR" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*broken.yml:*YAML error*"])
    items = json.loads((pytester.path / "r.json").read_text())["items"]
    assert any(i["verdict"] == "error" and "broken.yml" in i["path"] for i in items)


def test_goblin_paths_ini_and_verbose_trajectory(pytester: pytest.Pytester, configs: Path) -> None:
    pytester.makeini("[pytest]\ngoblin_paths = configs/torchtune-qwen2_5-7b-full.yaml\n")
    result = pytester.runpytest("--goblin", "--goblin-runner", "projection", "-v")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*trajectory:*", "*call 1: parse_config*", "*compare_runs*"])


def test_bad_options_are_usage_errors(pytester: pytest.Pytester, configs: Path) -> None:
    result = pytester.runpytest("--goblin", "configs", "--goblin-target", "tpu")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown target 'tpu'*mi300x*"])
    pytester.makeini("[pytest]\ngoblin_fail_at = lots\n")
    result = pytester.runpytest("--goblin", "configs")
    result.stderr.fnmatch_lines(["*goblin_fail_at*expected a number*"])


def test_unknown_backend_errors_each_item(pytester: pytest.Pytester, configs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOBLIN_AGENT_BACKEND", "gpt-9")
    result = pytester.runpytest("--goblin", "configs/axolotl-llama3-8b-lora.yml", "--goblin-runner", "projection")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown backend 'gpt-9'*valid backends: claude, planner, qwen*"])


def test_plain_run_is_untouched_and_imports_nothing_heavy(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plain="def test_ok():\n    assert 1 + 1 == 2\n",
        conftest=(
            "import sys\n"
            "def pytest_sessionfinish(session):\n"
            "    heavy = [m for m in ('torch', 'anthropic', 'huggingface_hub', 'pytest_goblin.loop') if m in sys.modules]\n"
            "    assert not heavy, heavy\n"
        ),
    )
    pytester.makefile(".yaml", cfg="base_model: x\ndatasets: []\n")
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    body = [line for line in result.stdout.lines if not line.startswith("plugins:")]
    assert result.ret == 0 and "goblin" not in "\n".join(body).lower()
    plain = pytester.runpytest_subprocess("-p", "no:goblin")
    plain.assert_outcomes(passed=1)


def test_projection_audit_never_imports_torch(pytester: pytest.Pytester, configs: Path) -> None:
    pytester.makeconftest("import sys\ndef pytest_sessionfinish(session):\n    assert 'torch' not in sys.modules\n")
    result = pytester.runpytest_subprocess("--goblin", "configs", "--goblin-runner", "projection")
    result.assert_outcomes(failed=3, passed=1)


@pytest.mark.skipif(not SHARED_CORPUS.is_dir(), reason="the shared corpus lives beside the repository in development checkouts")
def test_whole_corpus_no_internalerror(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--goblin", str(SHARED_CORPUS), "--goblin-runner", "projection", "-v", "--goblin-json", "r.json")
    out = result.stdout.str()
    assert "INTERNALERROR" not in out
    files = {str(p) for p in SHARED_CORPUS.rglob("*") if p.suffix in (".yml", ".yaml")}
    items = json.loads((pytester.path / "r.json").read_text())["items"]
    rootdir = Path(next(line for line in result.stdout.lines if line.startswith("rootdir:")).split()[1].rstrip(","))
    audited = {str(rootdir / i["path"]) for i in items}
    skipped = {line[4:].split(": ", 1)[0] for line in result.stdout.lines if line.startswith(f"  - {SHARED_CORPUS}")}
    assert audited | skipped == files and not audited & skipped
    assert all(i["verdict"] != "error" for i in items), [i["message"] for i in items if i["verdict"] == "error"]


def test_report_path_as_two_words_outside_the_configs_warns(pytester: pytest.Pytester, configs: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """pytest chooses its rootdir before goblin's options exist, so an existing report file written as the option's
    second word counts as a test path: goblin says so and how to write it (the `=` form pytest skips)."""
    outside = tmp_path_factory.mktemp("reports") / "r.json"
    outside.write_text("{}")
    one = "configs/torchtune-qwen2_5-7b-full.yaml"
    result = pytester.runpytest("--goblin", one, "--goblin-runner", "projection", "--goblin-json", str(outside))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*`--goblin-json {outside}` is written as two words*Write `--goblin-json={outside}`*"])
    # the same report written with `=`, or as two words inside the audited folder, moves nothing: no warning
    for extra in ([f"--goblin-json={outside}"], ["--goblin-json", "configs/r.json"]):
        (configs / "r.json").write_text("{}")
        result = pytester.runpytest("--goblin", "configs", "--goblin-runner", "projection", *extra)
        result.assert_outcomes(failed=3, passed=1)
        assert "two words" not in result.stdout.str()
