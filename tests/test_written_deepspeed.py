"""DeepSpeed files the run really uses (issues 23/24, task ds9): the JSON a launcher script writes to the path
the config names just above its launch line (review6a #8), ZeRO-3 parameter offload's host traffic priced
(review6a #14), and a framework's shipped offload file pointed at the non-offload file the same release ships."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin import rules as kb
from pytest_goblin.costmodel import _param_fetch_s, nominal_for, step
from pytest_goblin.formats import load_config
from pytest_goblin.formats.base import offload_elsewhere
from pytest_goblin.formats.heredoc import written_in
from pytest_goblin.hardware import get_hardware
from pytest_goblin.modelzoo import estimate_shape
from pytest_goblin.patching import build_patch

from .repo_files import repo

HW = get_hardware("mi300x")
RULE = "memory.cpu_offload_when_it_fits"
AXO = (
    "base_model: meta-llama/Meta-Llama-3-8B\nsequence_len: 2048\nmicro_batch_size: 1\ngradient_accumulation_steps: 4\n"
    "bf16: true\ngradient_checkpointing: true\ndeepspeed: deepspeed_configs/zero3.json\n"
)
DS = """{
  "bf16": {"enabled": "auto"},
  "zero_optimization": {
    "stage": 3,
    "offload_optimizer": {
      "device": "cpu",
      "pin_memory": true
    },
    "offload_param": {
      "device": "none"
    },
    "overlap_comm": true
  },
  "train_micro_batch_size_per_gpu": "auto"
}"""
LAUNCH = "accelerate launch --num_processes 4 --mixed_precision bf16 -m axolotl.cli.train cfg.yaml\n"


def _script(write: str, *, after: bool = False) -> str:
    head = "#!/bin/bash\nset -e\nmkdir -p deepspeed_configs\n"
    return head + (LAUNCH + write if after else write + "\n# run\n" + LAUNCH)


def _heredoc(path: str = "deepspeed_configs/zero3.json", body: str = DS, tag: str = "'DSEOF'") -> str:
    return f"if [ ! -f {path} ]; then\n    cat > {path} << {tag}\n{body}\n{tag.strip(chr(39))}\nfi"


def test_a_heredoc_the_launcher_writes_before_the_launch_is_read(tmp_path: Path) -> None:
    """review6a #8 (johnlund/epistemic-stance): run_training_axolotl.sh writes deepspeed_configs/zero3.json with
    optimizer offload just above `accelerate launch`; goblin read Axolotl's shipped zero3.json (no offload) instead."""
    root = repo(tmp_path, {"cfg.yaml": AXO, "run.sh": _script(_heredoc())})
    w = load_config(root / "cfg.yaml").workload
    assert w.zero_stage == 3 and w.cpu_offload is True and w.offload_params is False and w.world_size == 4
    note = next(n for n in w.notes if n.startswith("DeepSpeed settings"))
    assert note == "DeepSpeed settings read from the text written by run.sh line 5, before its launch line 24, only where the file does not exist"
    at = next(s for k, s in w.sources.items() if k.startswith("cpu_offload_in."))
    assert at.key == "zero_optimization.offload_optimizer.device" and at.line == 10 and at.file.endswith("run.sh")
    assert (root / "run.sh").read_text().splitlines()[9].strip() == '"offload_optimizer": {'
    said = offload_elsewhere(w)
    assert said == (
        "CPU offload is set in the DeepSpeed file this config names in `deepspeed` (line 7), which run.sh writes before it launches "
        '(`zero_optimization.offload_optimizer.device` at line 10); goblin edits only the audited file: set each `device` to "none" in that text '
        "(or remove those blocks), or point `deepspeed` (line 7) at a ZeRO-3 file without offload"
    )
    # a single-quoted echo redirected to the path is read the same way
    echo = "echo '" + DS.replace("\n", " ") + "' > deepspeed_configs/zero3.json"
    we = load_config(repo(tmp_path / "e", {"cfg.yaml": AXO, "run.sh": _script(echo)}) / "cfg.yaml").workload
    assert we.cpu_offload is True and any("written by run.sh line 4" in n for n in we.notes)


def test_an_unquoted_heredoc_reads_only_its_literal_values(tmp_path: Path) -> None:
    body = DS.replace('"stage": 3', '"stage": $STAGE').replace('"device": "cpu"', '"device": "${OFFLOAD:-cpu}"')
    root = repo(tmp_path, {"cfg.yaml": AXO, "run.sh": _script(_heredoc(body=body, tag="EOF"))})
    w = load_config(root / "cfg.yaml").workload
    note = next(n for n in w.notes if "written by run.sh" in n)
    assert "not literal, set when the script runs, so not read: `zero_optimization.stage` ($STAGE)" in note
    assert "`zero_optimization.offload_optimizer.device` (${OFFLOAD:-cpu})" in note
    assert w.zero_stage == 3 and w.sources["zero_stage"].note == "ZeRO stage read from the file name 'zero3.json', not its content"
    assert not w.cpu_offload  # the device is set at run time: no offload claimed from the text
    # the same text in a quoted heredoc is literal: bash expands nothing
    got = written_in(_heredoc(body='{"a": "$X"}').splitlines(), "deepspeed_configs/zero3.json", 99)
    assert got is not None and got[0] == '{"a": "$X"}' and got[3] == []


def test_a_heredoc_to_another_path_or_after_the_launch_is_not_read(tmp_path: Path) -> None:
    for n, script in enumerate(
        (
            _script(_heredoc(path="deepspeed_configs/zero3_offload.json")),  # another path
            _script(_heredoc(), after=True),  # written after the launch line
            _script(_heredoc().replace("cat > ", "cat >> ")),  # appended, not written
        )
    ):
        w = load_config(repo(tmp_path / str(n), {"cfg.yaml": AXO, "run.sh": script}) / "cfg.yaml").workload
        assert not w.cpu_offload, script
        assert not any("written by" in note for note in w.notes)
        assert any("Axolotl v0.18.0's deepspeed_configs/zero3.json" in note for note in w.notes)  # the shipped copy, as before


def test_zero3_parameter_offload_is_priced_and_none_is_not(tmp_path: Path) -> None:
    root = repo(tmp_path, {"cfg.yaml": AXO, "run.sh": _script(_heredoc(body=DS.replace('"device": "none"', '"device": "cpu"')))})
    w = load_config(root / "cfg.yaml").workload
    assert w.offload_params is True
    a = nominal_for(HW)
    fetch = _param_fetch_s(w, estimate_shape(w.model), a)
    # 8.0B bf16 parameters over 4 ranks, fetched twice per micro-batch over 50 GB/s, half hidden (overlap_comm on)
    params = estimate_shape(w.model).params_b
    assert params is not None and abs(fetch - 2 * params * 1e9 * 2 / 4 / 50e9 * a.offload_exposed) < 1e-9
    assert fetch > 0 and step(w, HW).step_s > step(w.model_copy(update={"offload_params": False}), HW).step_s
    # overlap_comm false: on the compute stream, nothing hidden
    assert _param_fetch_s(w.model_copy(update={"comm_overlap": False}), estimate_shape(w.model), a) == 2 * fetch / (2 * a.offload_exposed)
    # must-not: offload_param none (the #8 file), ZeRO-2, or one GPU
    none = load_config(repo(tmp_path / "n", {"cfg.yaml": AXO, "run.sh": _script(_heredoc())}) / "cfg.yaml").workload
    assert _param_fetch_s(none, estimate_shape(none.model), a) == 0.0
    assert _param_fetch_s(w.model_copy(update={"zero_stage": 2}), estimate_shape(w.model), a) == 0.0


LF = (
    "model_name_or_path: Qwen/Qwen2.5-14B-Instruct\nstage: dpo\ndo_train: true\nfinetuning_type: lora\nlora_target: all\n"
    "deepspeed: {ref}\ndataset: dpo_en_demo\ntemplate: qwen\ncutoff_len: 2048\nper_device_train_batch_size: 1\n"
    "gradient_accumulation_steps: 8\nbf16: true\n# torchrun --nproc_per_node 8\n"
)


def test_a_shipped_offload_file_is_pointed_at_the_shipped_file_without_offload(tmp_path: Path) -> None:
    """review6a #14 (JOHNNY-fans/KG-o1 train/dpo.yaml): LLaMA-Factory's bundled ds_z3_offload_config.json; the rule
    proposed nothing (1.00x): the patch now names ds_z3_config.json, read back from the same release's copy."""
    root = repo(tmp_path, {"train/dpo.yaml": LF.format(ref="examples/deepspeed/ds_z3_offload_config.json")})
    loaded = load_config(root / "train" / "dpo.yaml")
    rules = kb.applicable(loaded.workload, HW, kb.cached_rules())
    assert RULE in {r.id for r in rules}
    patch = build_patch(loaded, rules, HW, "p1")
    assert RULE in patch.rule_ids and RULE not in patch.skipped
    assert "+deepspeed: examples/deepspeed/ds_z3_config.json" in patch.diff
    nw = patch.new_workload
    assert nw.cpu_offload is False and nw.offload_params is False and nw.zero_stage == 3
    assert step(nw, HW).step_s < step(loaded.workload, HW).step_s
    # must-not: a shipped-looking name the table does not hold is read from its name, and nothing is pointed anywhere
    miss = load_config(repo(tmp_path / "m", {"train/dpo.yaml": LF.format(ref="examples/deepspeed/ds_z9_offload_config.json")}) / "train" / "dpo.yaml")
    assert not any("LLaMA-Factory v" in n for n in miss.workload.notes)
    mrules = kb.applicable(miss.workload, HW, kb.cached_rules())
    mpatch = build_patch(miss, mrules, HW, "p1")
    assert "ds_z3_config.json" not in mpatch.diff
    # the config's own `./` is kept
    dot = load_config(repo(tmp_path / "d", {"train/dpo.yaml": LF.format(ref="./examples/deepspeed/ds_z3_offload_config.json")}) / "train" / "dpo.yaml")
    dpatch = build_patch(dot, kb.applicable(dot.workload, HW, kb.cached_rules()), HW, "p1")
    assert '+deepspeed: "./examples/deepspeed/ds_z3_config.json"' in dpatch.diff


def test_a_write_over_the_repositorys_file_wins_only_outside_an_if(tmp_path: Path) -> None:
    own = '{"zero_optimization": {"stage": 3}}'
    plain = "cat > deepspeed_configs/zero3.json <<'EOF'\n" + DS + "\nEOF"
    w = load_config(repo(tmp_path, {"cfg.yaml": AXO, "deepspeed_configs/zero3.json": own, "run.sh": _script(plain)}) / "cfg.yaml").workload
    assert w.cpu_offload is True
    assert any("over the repository's own zero3.json" in n for n in w.notes)
    # must-not: `if [ ! -f ... ]` writes only where the file is absent, and the repository has it
    kept = load_config(repo(tmp_path / "k", {"cfg.yaml": AXO, "deepspeed_configs/zero3.json": own, "run.sh": _script(_heredoc())}) / "cfg.yaml").workload
    assert not kept.cpu_offload and "DeepSpeed settings read from deepspeed_configs/zero3.json" in kept.notes


def test_written_in_reads_the_forms_and_their_guards() -> None:
    ref = "ds/z3.json"
    forms = {
        "cat <<'EOF' > ds/z3.json\n{}\nEOF": False,
        "tee ./ds/z3.json >/dev/null <<EOF\n{}\nEOF": False,
        '[ -f ds/z3.json ] || cat > "ds/z3.json" <<-EOF\n{}\n\tEOF': True,
        "if true; then echo hi; fi\ncat > ds/z3.json <<EOF\n{}\nEOF": False,
    }
    for script, guarded in forms.items():
        got = written_in([*script.splitlines(), "deepspeed train.py"], ref, len(script.splitlines()) + 1)
        assert got is not None and got[0] == "{}" and got[4] is guarded, script
    # must-not: another file, a comment, an unterminated heredoc before the launch
    for script in ("cat > ds/z2.json <<EOF\n{}\nEOF", "# cat > ds/z3.json <<EOF\n{}\nEOF", "cat > ds/z3.json <<EOF\n{}", "tee -a ds/z3.json <<EOF\n{}\nEOF"):
        assert written_in([*script.splitlines(), "deepspeed train.py"], ref, len(script.splitlines()) + 1) is None, script


ACCEL = "compute_environment: LOCAL_MACHINE\ndistributed_type: FSDP\nfsdp_config:\n  fsdp_offload_params: true\n  fsdp_sharding_strategy: FULL_SHARD\nmixed_precision: bf16\nnum_processes: $NGPU\n"


def test_an_accelerate_config_the_launcher_writes_is_read(tmp_path: Path) -> None:
    from .test_strategy_unread import DPO

    write = "NGPU=4\ncat > /tmp/../accel.yaml <<EOF\n" + ACCEL + "EOF\ncat > accel.yaml <<EOF\n" + ACCEL + "EOF\n"
    sh = write + "accelerate launch --num_processes 4 --config_file accel.yaml scripts/run_dpo.py recipes/dpo.yaml\n"
    w = load_config(repo(tmp_path, {"recipes/dpo.yaml": "# DPOTrainer\n" + DPO, "train.sh": sh}) / "recipes/dpo.yaml").workload
    assert (w.strategy, w.cpu_offload, w.offload_params, w.world_size) == ("fsdp", True, True, 4)
    note = next(n for n in w.notes if "read from the text" in n)
    assert note == "accelerate config 'accel.yaml' read from the text train.sh line 11 writes to it before train.sh line 20; not literal, so not read: $NGPU"
    assert not any(k.startswith("cpu_offload_in.") for k in w.sources)  # the script's heredoc is not edited
    # must-not: written after the launch line, or to another path: the strategy is not read from it
    for n, other in enumerate(
        (
            sh.replace("cat > accel.yaml", "cat > accel2.yaml"),
            sh.splitlines()[-1] + "\n" + write,  # the launch line first, the file written after it
        )
    ):
        wo = load_config(repo(tmp_path / str(n), {"recipes/dpo.yaml": "# DPOTrainer\n" + DPO, "train.sh": other}) / "recipes/dpo.yaml").workload
        assert not wo.cpu_offload and not any("read from the text" in x for x in wo.notes), other


def test_a_write_under_a_condition_goblin_does_not_evaluate_is_not_read() -> None:
    ref = "ds/z3.json"
    body = "cat > ds/z3.json <<EOF\n{}\nEOF"
    absent = (
        f"if [ ! -f {ref} ]; then\n{body}\nfi",
        f'if [[ ! -e "{ref}" ]]; then\n{body}\nfi',
        f"[ -s {ref} ] || {body}",
    )
    for script in absent:
        got = written_in([*script.splitlines(), "deepspeed train.py"], ref, len(script.splitlines()) + 1)
        assert got is not None and got[4] is True, script
    unknown = (
        f'if [ "$OFFLOAD" = 1 ]; then\n{body}\nfi',
        f"if [ -f {ref} ]; then\n{body}\nfi",  # only where it exists
        f"if [ ! -f {ref} ]; then\n  echo hi\nelse\n{body}\nfi",
        f"[ -f {ref} ] && {body}",
        f"[ -f other.json ] || {body}",
    )
    for script in unknown:
        assert written_in([*script.splitlines(), "deepspeed train.py"], ref, len(script.splitlines()) + 1) is None, script
    # an unconditional write after a guarded one is what the run reads
    script = f'if [ "$X" ]; then\n{body}\nfi\ncat > {ref} <<EOF\n{{"b": 1}}\nEOF'
    got = written_in([*script.splitlines(), "deepspeed train.py"], ref, len(script.splitlines()) + 1)
    assert got is not None and got[0] == '{"b": 1}' and got[4] is False
