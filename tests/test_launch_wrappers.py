"""Launch lines that change the config they run (review7a #4, review7b #35) and wrapper files whose framework
config is one block of a larger file (review7a #18)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .test_topology import AXOLOTL, repo, topo

ZERO3 = '{"zero_optimization": {"stage": 3}, "bf16": {"enabled": "auto"}}\n'


def test_an_axolotl_launch_line_deepspeed_flag_overrides_the_yaml(tmp_path: Path) -> None:
    # review7a #4 robust-llm-finetunes example_training_so_re_gt.sh:2: axolotl's load_cfg writes `--deepspeed` over the YAML
    root = repo(
        tmp_path,
        {
            "configs/sft.yml": AXOLOTL,
            "deepspeed_configs/zero3_bf16.json": ZERO3,
            "run.sh": "accelerate launch -m axolotl.cli.train configs/sft.yml --deepspeed deepspeed_configs/zero3_bf16.json\n",
        },
    )
    w = load_config(root / "configs/sft.yml").workload
    assert (w.strategy, w.zero_stage) == ("deepspeed", 3)
    src = w.sources["zero_stage"]
    assert src.file.endswith("run.sh") and src.line == 1 and "Axolotl writes it over the YAML" in (src.note or "")
    # the YAML's own `deepspeed:` gives way, said
    root2 = repo(
        tmp_path / "two",
        {
            "configs/sft.yml": AXOLOTL + "deepspeed: ds/zero1.json\n",
            "ds/zero1.json": '{"zero_optimization": {"stage": 1}}\n',
            "deepspeed_configs/zero3_bf16.json": ZERO3,
            "run.sh": "axolotl train configs/sft.yml --deepspeed=deepspeed_configs/zero3_bf16.json\n",
        },
    )
    w2 = load_config(root2 / "configs/sft.yml").workload
    assert w2.zero_stage == 3 and any("`deepspeed: ds/zero1.json` (line 6) is overridden" in n for n in w2.notes)


def test_no_deepspeed_flag_or_a_flag_before_the_config_leaves_the_yaml_reading(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "configs/sft.yml": AXOLOTL + "deepspeed: ds/zero1.json\n",
            "ds/zero1.json": '{"zero_optimization": {"stage": 1}}\n',
            "deepspeed_configs/zero3_bf16.json": ZERO3,
            # accelerate's own flags before the config, and a flag of another key after it
            "run.sh": "accelerate launch --num_processes 4 -m axolotl.cli.train configs/sft.yml --micro_batch_size 2\n",
        },
    )
    w = load_config(root / "configs/sft.yml").workload
    assert (w.strategy, w.zero_stage) == ("deepspeed", 1) and w.sources["zero_stage"].file.endswith("sft.yml")
    # a torchrun line of a script (not Axolotl) passing --deepspeed is not read as an Axolotl override
    root2 = repo(tmp_path / "two", {"configs/sft.yml": AXOLOTL, "run.sh": "torchrun --nproc_per_node 4 -m axolotl.cli.train configs/sft.yml\n"})
    w2 = load_config(root2 / "configs/sft.yml").workload
    assert w2.strategy == "ddp" and topo(w2) == (4, 1, 4)


def test_an_axolotl_launch_line_batch_flag_overrides_the_yaml_and_others_are_named(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/sft.yml": AXOLOTL, "run.sh": "axolotl train configs/sft.yml --micro_batch_size 8 --learning_rate 1e-5\n"})
    w = load_config(root / "configs/sft.yml").workload
    assert w.micro_batch_size == 8 and w.sources["micro_batch_size"].file.endswith("run.sh")
    assert "the YAML's own micro_batch_size (line 2) is overridden" in (w.sources["micro_batch_size"].note or "")
    assert any("`--learning_rate 1e-5` on run.sh line 1 over the YAML" in n and "not read by goblin" in n for n in w.notes)
    # a flag before the config (the launcher's own) is not an override
    root2 = repo(tmp_path / "two", {"configs/sft.yml": AXOLOTL, "run.sh": "accelerate launch --num_processes 2 -m axolotl.cli.train configs/sft.yml\n"})
    w2 = load_config(root2 / "configs/sft.yml").workload
    assert w2.micro_batch_size == 2 and w2.sources["micro_batch_size"].file.endswith("sft.yml") and not any("over the YAML" in n for n in w2.notes)
