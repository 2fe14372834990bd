"""DeepSpeed files a framework ships (frameworks/shipped_files.json, scripts/gen_shipped_files.py): a config naming one
its repository does not have is read with the framework's copy at its release, said as such (review6a #14)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.formats.base import offload_elsewhere
from pytest_goblin.frameworks.shipped import SHIPPED_FILE, lookup, table, without_offload

from .conftest import ROOT
from .repo_files import fresh_root, write_tree

LF = (
    "model_name_or_path: Qwen/Qwen2.5-14B-Instruct\nstage: dpo\ndo_train: true\nfinetuning_type: lora\nlora_target: all\n"
    "deepspeed: {ref}\ndataset: dpo_en_demo\ntemplate: qwen\ncutoff_len: 2048\nper_device_train_batch_size: 1\n"
    "gradient_accumulation_steps: 8\nbf16: true\n# torchrun --nproc_per_node 8\n"
)
AXO = "base_model: meta-llama/Meta-Llama-3-8B\nsequence_len: 2048\nmicro_batch_size: 2\nbf16: true\ndeepspeed: {ref}\n"


def _repo(tmp: Path, files: dict[str, str]) -> Path:
    return write_tree(fresh_root(tmp), files, git=True)


def test_the_table_holds_what_the_frameworks_ship_and_the_doc_is_generated_from_it() -> None:
    # LLaMA-Factory v0.9.5 examples/deepspeed/ds_z3_offload_config.json:20-21, 24-25 offloads the optimizer and the parameters,
    # :28 overlap_comm false; Axolotl v0.18.0 deepspeed_configs/zero2.json:4-6 offloads the optimizer
    lf = table()["llamafactory"]["files"]["examples/deepspeed/ds_z3_offload_config.json"]
    row = next(r for r in lf if r["first"] <= "0.9.5" <= r["last"] or r["first"] == "0.9.5")
    assert row["settings"]["offload_param"] == "cpu" and row["settings"]["offload_optimizer"] == "cpu" and row["settings"]["overlap_comm"] is False
    axo = lookup("deepspeed_configs/zero2.json", "axolotl 0.18.0")
    assert axo is not None and axo.matched and axo.settings["offload_optimizer"] == "cpu" and axo.settings["zero_stage"] == 2
    spec = importlib.util.spec_from_file_location("gen_shipped_files", ROOT / "scripts" / "gen_shipped_files.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert (ROOT / "docs" / "shipped_files.md").read_text() == gen.markdown(json.loads(SHIPPED_FILE.read_text()))


def test_lookup_picks_the_runs_release_and_says_when_it_could_not() -> None:
    got = lookup("./examples/deepspeed/ds_z3_offload_config.json", "llamafactory 0.9.5 (stage dpo)")
    assert got is not None and got.matched and got.where() == "LLaMA-Factory v0.9.5's examples/deepspeed/ds_z3_offload_config.json"
    assert without_offload(got) == "examples/deepspeed/ds_z3_config.json"
    older = lookup("examples/deepspeed/ds_z3_offload_config.json", "llamafactory 0.8.0 (stage sft)")
    assert older is not None and not older.matched and older.release == "0.9.4"  # the oldest release read, not the run's
    # a bare name is the config's own framework's only: Axolotl's zero2.json is not a TRL config's zero2.json
    assert lookup("zero2.json", "trl 1.16.0 (sft)") is None
    assert lookup("zero2.json", "axolotl 0.18.0") is not None
    assert lookup("deepspeed_configs/zero9.json", "axolotl 0.18.0") is None


def test_a_shipped_deepspeed_file_is_read_from_the_frameworks_copy(tmp_path: Path) -> None:
    """review6a #14 (JOHNNY-fans/KG-o1 train/dpo.yaml): LLaMA-Factory's bundled ds_z3_offload_config.json, not in the
    repository, offloads parameters too: parse said offload_params false."""
    root = _repo(tmp_path, {"train/dpo.yaml": LF.format(ref="./examples/deepspeed/ds_z3_offload_config.json")})
    w = load_config(root / "train" / "dpo.yaml").workload
    assert w.zero_stage == 3 and w.cpu_offload is True and w.offload_params is True and w.comm_overlap is False
    assert w.deepspeed_missing is None
    note = next(n for n in w.notes if n.startswith("DeepSpeed settings"))
    assert "read from LLaMA-Factory v0.9.5's examples/deepspeed/ds_z3_offload_config.json" in note and "None" not in note
    said = offload_elsewhere(w)
    assert said is not None and "'./examples/deepspeed/ds_z3_config.json'" not in said  # named as the table names it
    assert "examples/deepspeed/ds_z3_config.json" in said and "the framework's copy" in said and "could not read" not in said
    # Axolotl's bare zero2.json (a copy beside the launch, `axolotl fetch deepspeed_configs`): stage 2, optimizer offload
    axo = _repo(tmp_path, {"cfg.yaml": AXO.format(ref="zero2.json")})
    wa = load_config(axo / "cfg.yaml").workload
    assert wa.zero_stage == 2 and wa.cpu_offload is True and not wa.offload_params


def test_the_repositorys_own_file_of_that_name_wins(tmp_path: Path) -> None:
    own = json.dumps({"zero_optimization": {"stage": 3, "offload_optimizer": {"device": "cpu"}}})
    root = _repo(
        tmp_path, {"train/dpo.yaml": LF.format(ref="examples/deepspeed/ds_z3_offload_config.json"), "examples/deepspeed/ds_z3_offload_config.json": own}
    )
    w = load_config(root / "train" / "dpo.yaml").workload
    assert w.cpu_offload is True and not w.offload_params  # its own file: optimizer only
    assert not any("LLaMA-Factory v" in n for n in w.notes)
    # the repository has one elsewhere (another launch folder may be the run's): not the framework's copy either
    other = _repo(
        tmp_path, {"train/dpo.yaml": LF.format(ref="examples/deepspeed/ds_z3_offload_config.json"), "sub/examples/deepspeed/ds_z3_offload_config.json": own}
    )
    wo = load_config(other / "train" / "dpo.yaml").workload
    assert not any("LLaMA-Factory v" in n for n in wo.notes) and not wo.offload_params
    # a TRL-style config naming Axolotl's bare file name keeps the name reading (no offload claimed from Axolotl's copy)
    hf = _repo(
        tmp_path,
        {
            "train.yaml": "model_name_or_path: meta-llama/Meta-Llama-3-8B\noutput_dir: out\nper_device_train_batch_size: 2\nlearning_rate: 2.0e-5\nbf16: true\ndeepspeed: zero2.json\n"
        },
    )
    wh = load_config(hf / "train.yaml").workload
    assert wh.zero_stage == 2 and not wh.cpu_offload
