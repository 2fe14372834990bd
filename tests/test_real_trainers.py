"""Real trainers through goblin_command: transformers' Trainer and TRL's SFTTrainer train a tiny,
randomly initialised Llama built here (no Hub) for a few CPU steps. goblin must read the
trainer's own throughput, write patches the trainers' strict parsers accept, and leave nothing
behind after SIGTERM. Skipped where transformers or TRL is not installed (they are in the
`test` extra)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("transformers")
pytest.importorskip("trl")

from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.patching import build_patch, patched_text
from pytest_goblin.rules import applicable, cached_rules
from pytest_goblin.runners.command import CommandRunner

from .conftest import EXAMPLES

TRAINERS = Path(__file__).parent / "data" / "trainers"
OFFLINE = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1"}

TA_CONFIG = """\
# a slow Trainer recipe: TrainingArguments keys plus the model, parsed strictly by the script
model_name_or_path: tiny
per_device_train_batch_size: 2
gradient_accumulation_steps: 1
learning_rate: 1.0e-4
lr_scheduler_type: constant
logging_steps: 2
output_dir: out
use_cpu: true
"""
SFT_CONFIG = """\
# an fp16 TRL recipe, progress bars off: only the weight-loading bar is left in the log
model_name_or_path: tiny
dtype: float16
fp16: false
per_device_train_batch_size: 2
gradient_accumulation_steps: 1
max_length: 48
learning_rate: 1.0e-4
logging_steps: 2
disable_tqdm: true
output_dir: out
use_cpu: true
"""


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("model") / "tiny"
    subprocess.run([sys.executable, str(TRAINERS / "make_tiny_model.py"), str(out)], check=True, env=OFFLINE, capture_output=True, timeout=120)
    return out


def _project(tmp_path: Path, tiny_model: Path, config: str, script: str) -> Path:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "slow.yaml").write_text(config)
    (tmp_path / ".git").mkdir()  # a repository: the model folder is read inside it, not through a link out of it
    shutil.copytree(tiny_model, tmp_path / "tiny")
    (tmp_path / "train.py").write_text((TRAINERS / script).read_text())
    return tmp_path


def _measure(project: Path, monkeypatch: pytest.MonkeyPatch, steps: int) -> tuple[CommandRunner, list[str]]:
    for k, v in OFFLINE.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("TRAINER_METRICS", str(project / "metrics.jsonl"))
    lines: list[str] = []
    config = project / "configs" / "slow.yaml"

    @contextmanager
    def files(variant: str) -> Iterator[tuple[Path, dict[str, str]]]:
        yield config, {}

    template = f"{shlex.quote(sys.executable)} train.py --config {{config}} --max_steps {{steps}}"
    runner = CommandRunner(template, steps=steps, timeout_s=120, cwd=project, progress=lines.append).bind(files)
    return runner, lines


def test_goblin_reads_the_trainers_own_throughput(tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path, tiny_model, TA_CONFIG, "train_trainer.py")
    runner, lines = _measure(project, monkeypatch, steps=6)
    w = load_config(project / "configs" / "slow.yaml").workload
    m = runner.run(w, get_hardware("mi300x"), run_id="r1", variant="baseline")
    own = json.loads((project / "metrics.jsonl").read_text().splitlines()[-1])
    # transformers 5 prints the figure to 4 significant digits, quoted; goblin's is that figure
    assert m.samples_per_s == pytest.approx(own["train_samples_per_second"], rel=1e-3)
    assert "Trainer train_samples_per_second" in m.notes[0]
    assert any(line.startswith("baseline: run 1 (6 steps), calibrating") for line in lines)
    assert any("samples/s" in line for line in lines)
    assert w.model.params_b == pytest.approx(106560 / 1e9)  # exact, from the local folder's safetensors header


def test_goblin_reads_sfttrainer_without_progress_bars(tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path, tiny_model, SFT_CONFIG, "train_sft.py")
    runner, _ = _measure(project, monkeypatch, steps=4)
    w = load_config(project / "configs" / "slow.yaml").workload
    m = runner.run(w, get_hardware("mi300x"), run_id="r1", variant="baseline")
    own = json.loads((project / "metrics.jsonl").read_text().splitlines()[-1])
    assert m.samples_per_s == pytest.approx(own["train_samples_per_second"], rel=1e-3)  # never the weight-loading bar


STRICT_PARSE = """
import sys
from transformers import HfArgumentParser, TrainingArguments
from trl import ModelConfig, SFTConfig, TrlParser
from dataclasses import dataclass

@dataclass
class ModelArguments:
    model_name_or_path: str

for arg in sys.argv[1:]:
    kind, path = arg.split(":", 1)
    if kind == "trl":
        TrlParser((ModelConfig, SFTConfig)).parse_args_and_config(["--config", path, "--use_cpu", "true"])
    else:
        HfArgumentParser((ModelArguments, TrainingArguments)).parse_yaml_file(path, allow_extra_keys=False)
    print("ok", path)
"""


def _patched(path: Path) -> tuple[str, list[str]]:
    loaded = load_config(path)
    hw = get_hardware("mi300x")
    rules = [r for r in applicable(loaded.workload, hw, cached_rules(())) if not r.footgun]
    patch = build_patch(loaded, rules, hw, "p1")
    return patched_text(loaded, patch), [e.field for e in patch.edits]


def test_patches_pass_the_trainers_strict_parsers(tmp_path: Path, tiny_model: Path) -> None:
    (tmp_path / ".git").mkdir()  # a repository: the model folder is read inside it, not through a link out of it
    shutil.copytree(tiny_model, tmp_path / "tiny")
    ta, sft = tmp_path / "ta.yaml", tmp_path / "sft.yaml"
    ta.write_text(TA_CONFIG + "gradient_checkpointing: true\n")
    sft.write_text(SFT_CONFIG.replace("fp16: false", "fp16: true"))
    ta_text, ta_fields = _patched(ta)
    sft_text, sft_fields = _patched(sft)
    assert ta_fields and sft_fields
    assert "precision" in sft_fields and "dtype: bfloat16" in sft_text and "dtype: float16" not in sft_text  # bf16 patch moves the weights too
    (tmp_path / "ta.patched.yaml").write_text(ta_text)
    (tmp_path / "sft.patched.yaml").write_text(sft_text)
    bundled = EXAMPLES / "trl-smollm3-3b-sft-tuned.yaml"
    files = ["hf:ta.patched.yaml", "trl:sft.patched.yaml", f"trl:{bundled}"]  # one interpreter: transformers imports once
    out = subprocess.run([sys.executable, "-c", STRICT_PARSE, *files], cwd=tmp_path, env=OFFLINE, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.count("ok ") == len(files)


def _processes_under(path: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if "train.py" in cmdline and str(path) in cmdline:
            found.append(int(proc.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find the training processes")
def test_sigterm_during_a_measured_run_leaves_nothing_behind(tmp_path: Path, tiny_model: Path) -> None:
    project = _project(tmp_path, tiny_model, TA_CONFIG, "train_trainer.py")
    (project / "pytest.ini").write_text(
        textwrap.dedent(f"""\
        [pytest]
        goblin_command = {shlex.quote(sys.executable)} {project / "train.py"} --config {{config}} --max_steps {{steps}}
        goblin_command_steps = 40
        goblin_budget_s = 300
        """)
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--goblin", "configs", "-p", "no:cacheprovider"],
        cwd=project,
        env=OFFLINE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    def copy_exists() -> bool:  # the patched copy has a random tail (runners/command.variant_file)
        return any((project / "configs").glob(".slow.goblin-p1-*.yaml"))

    deadline = time.monotonic() + 120
    while not copy_exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert copy_exists(), "the patched run never started"
    time.sleep(1.0)  # the patched training is running now
    assert _processes_under(project), "no training process to clean up"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert sorted(p.name for p in (project / "configs").iterdir()) == ["slow.yaml"], out[-2000:]
    assert _processes_under(project) == []
    assert "goblin slow.yaml: baseline: run 1 (40 steps), calibrating" in out  # progress was on screen, not captured


TRL_CLI_CONFIG = """\
# a TRL recipe written for a GPU: fp32 (bf16 off), eager attention, plain AdamW; trained by `trl sft`
model_name_or_path: tiny
dataset_name: data
per_device_train_batch_size: 2
gradient_accumulation_steps: 1
max_length: 32
bf16: false
attn_implementation: eager
optim: adamw_torch
learning_rate: 1.0e-4
logging_steps: 1
output_dir: out
save_strategy: "no"
report_to: none
"""


@pytest.mark.skipif(shutil.which("trl") is None, reason="the `trl` command is installed with trl (test extra)")
def test_trl_sft_cli_is_read_and_its_refusal_of_bf16_on_this_device_names_the_edit(tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 27, with TRL's own CLI as the training command (`trl sft --config {config} --max_steps
    {steps}`), a tiny local model and a local JSON-lines dataset: goblin reads the Trainer's own
    samples/s, and on a machine without a GPU the patched run stops in transformers' argument
    validation (training_args.py: "Your setup doesn't support bf16/gpu") with a StartupRefused
    whose line names the precision rule's `bf16` edit, the one the audit then leaves out.
    Two short runs: about 20 s of CPU."""
    from pytest_goblin.devices import gpu_count
    from pytest_goblin.errors import StartupRefused
    from pytest_goblin.tools.audit_tools import named_by

    (tmp_path / "tiny").symlink_to(tiny_model)
    (tmp_path / "data").mkdir()
    rows = [{"text": " ".join(f"w{(i * 7 + j) % 250}" for j in range(8 + i % 20))} for i in range(40)]
    (tmp_path / "data" / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = tmp_path / "sft.yaml"
    config.write_text(TRL_CLI_CONFIG)
    loaded = load_config(config)
    hw = get_hardware("mi300x")
    patch = build_patch(loaded, [r for r in applicable(loaded.workload, hw, cached_rules(())) if not r.footgun], hw, "p1")
    patched = tmp_path / ".sft.goblin-p1.yaml"
    patched.write_text(patched_text(loaded, patch))
    assert "precision.bf16_amp_over_fp32" in patch.rule_ids and "bf16: true" in patched.read_text()
    for k, v in OFFLINE.items():
        monkeypatch.setenv(k, v)

    @contextmanager
    def files(variant: str) -> Iterator[tuple[Path, dict[str, str]]]:
        yield (config if variant == "baseline" else patched), {}

    runner = CommandRunner("trl sft --config {config} --max_steps {steps}", steps=3, timeout_s=240, cwd=tmp_path).bind(files)
    m = runner.run(loaded.workload, hw, run_id="r1", variant="baseline")
    assert m.samples_per_s is not None and m.samples_per_s > 0 and m.tokens_per_s is None  # no tokens/s from padding lengths
    assert m.throughput is not None and "Trainer train_samples_per_second" in m.throughput
    if gpu_count():
        return  # a GPU accepts bf16: nothing is refused
    with pytest.raises(StartupRefused) as refused:
        runner.run(patch.new_workload, hw, run_id="r2", variant="p1")
    assert refused.value.said.startswith("ValueError: Your setup doesn't support bf16/gpu.")
    assert named_by(patch, refused.value.said) == ["precision.bf16_amp_over_fp32"]
