"""Fused AdamW on parameters FSDP keeps on the host (session 11, envnb20): torch 2.4.0 added "cpu" to the devices the
fused optimizer kernels run on (torch 2.4.0 torch/utils/_foreach_utils.py:12-14); from 2.0.1 to 2.3.1 AdamW's
constructor refuses a CPU parameter with fused=True (torch 2.3.1 torch/optim/adamw.py:63-70). The blocker fires only
where the repository pins one such torch exactly, on a config that turns fused AdamW and FSDP's parameter offload on;
never on an assumed torch (torchtune's own 70B_full: fused + CPU offload, labelled correct), a range, a torch another
package implies, an unset `optim`, or DeepSpeed's offload (which swaps in its own CPU Adam)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin import blockers
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware

from .repo_files import write_tree
from .test_blockers import FUSED_OFFLOAD, HF, TT_FUSED_OFFLOAD

IDS = {"blocker.fused_adamw_on_host_params", "blocker.fused_adamw_on_host_params_torchtune"}


def _fired(tmp_path: Path, name: str, text: str, files: dict[str, str]) -> dict[str, str]:
    write_tree(tmp_path, {name: text, **files})
    found = blockers.findings(load_config(tmp_path / name), get_hardware("mi300x"))
    return {f.rule_id: f.message for f in found if f.rule_id in IDS}


@pytest.mark.parametrize("torch", ["2.0.1", "2.1.2", "2.3.1", "2.3.1+rocm6.0"])
def test_a_pinned_torch_before_2_4_fires_and_says_the_pin(tmp_path: Path, torch: str) -> None:
    got = _fired(tmp_path, "sft.yaml", FUSED_OFFLOAD, {"requirements.txt": f"torch=={torch}\n"})
    msg = got["blocker.fused_adamw_on_host_params"]
    assert msg.startswith("`optim: adamw_torch_fused` (line 7); the recipe pins torch==") and "(requirements.txt:1)" in msg
    assert "None" not in msg


def test_torchtune_fires_at_its_key_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(TT_FUSED_OFFLOAD)
    (tmp_path / "requirements.txt").write_text("torch==2.3.1\n")
    found = [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id in IDS]
    assert [(f.rule_id, f.key, f.line, f.fix) for f in found] == [
        ("blocker.fused_adamw_on_host_params_torchtune", "optimizer.fused", 10, {"optimizer.fused": False})
    ]


@pytest.mark.parametrize(
    ("name", "text", "files"),
    [
        ("c.yaml", TT_FUSED_OFFLOAD, {}),  # torchtune's own 70B_full: no torch pin, nothing assumed
        ("c.yaml", TT_FUSED_OFFLOAD, {"requirements.txt": "torch==2.4.0\n"}),
        ("c.yaml", TT_FUSED_OFFLOAD, {"requirements.txt": "torch>=2.1,<2.5\n"}),  # a range that admits 2.4
        ("c.yaml", TT_FUSED_OFFLOAD.replace("fused: True", "fused: False"), {"requirements.txt": "torch==2.3.1\n"}),
        ("c.yaml", TT_FUSED_OFFLOAD.replace("fsdp_cpu_offload: True", "fsdp_cpu_offload: False"), {"requirements.txt": "torch==2.3.1\n"}),
        ("sft.yaml", FUSED_OFFLOAD, {}),
        ("sft.yaml", FUSED_OFFLOAD, {"requirements.txt": "torch==2.5.1\n"}),
        ("sft.yaml", FUSED_OFFLOAD.replace("optim: adamw_torch_fused\n", ""), {"requirements.txt": "torch==2.3.1\n"}),  # optim unset
        ("sft.yaml", FUSED_OFFLOAD.replace("full_shard offload auto_wrap", "full_shard auto_wrap"), {"requirements.txt": "torch==2.3.1\n"}),
        ("sft.yaml", FUSED_OFFLOAD, {"requirements.txt": "torch==1.13.1\n"}),  # before AdamW had `fused`: another error
        (
            "sft.yaml",
            "# deepspeed --num_gpus 8 train.py --config sft.yaml\n" + HF + "optim: adamw_torch_fused\ndeepspeed: ds.json\n",
            {"requirements.txt": "torch==2.3.1\n", "ds.json": '{"zero_optimization": {"stage": 3, "offload_param": {"device": "cpu"}}}'},
        ),  # DeepSpeed's offload: its own CPU Adam runs
    ],
    ids=[
        "tt-unpinned",
        "tt-2.4.0",
        "tt-range",
        "tt-unfused",
        "tt-no-offload",
        "hf-unpinned",
        "hf-2.5.1",
        "hf-optim-unset",
        "hf-no-offload",
        "hf-1.13",
        "hf-deepspeed",
    ],
)
def test_it_does_not_fire_without_its_premise(tmp_path: Path, name: str, text: str, files: dict[str, str]) -> None:
    assert _fired(tmp_path, name, text, files) == {}
