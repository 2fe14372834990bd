"""A stock torchtune knowledge-distillation recipe's teacher is in the projection (kd12).

torchtune 0.6.1 recipes/knowledge_distillation_{single_device,distributed}.py build the teacher from `teacher_model:` in the
recipe's `dtype`, shard it like the student (distributed), and run its no-grad forward on every micro-batch; the KD loss
keeps fp32 softmaxes of both models' logits (modules/loss/kd_losses.py:49-52). A teacher of unknown shape, or a
repository's own KD recipe, stays inconclusive; a config without a teacher is unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.costmodel import memory_gb, nominal_for, step, teacher_forward_s
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.rules import unmodelled_trainer
from pytest_goblin.schemas import Report
from pytest_goblin.service import audit_file
from pytest_goblin.settings import Settings

from .repo_files import repo
from .test_own_recipe_run import KD, KD_HEADER, LORA


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _audit(path: Path) -> Report:
    result = audit_file(path, Settings(runner="projection", target="mi300x"), shown_as=path.name)
    assert result.report is not None, result.error
    return result.report


STOCK_KD = KD_HEADER + KD.split("\n", 3)[3] + "teacher_checkpointer:\n  _component_: torchtune.training.FullModelHFCheckpointer\nkd_ratio: 0.5\n"
DIST_HEADER = "# To launch on 2 devices, run the following command from root:\n#   tune run --nproc_per_node 2 knowledge_distillation_distributed --config x\n"


def test_a_stock_kd_recipes_known_teacher_is_in_memory_and_time(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/kd.yaml": STOCK_KD})
    w = load_config(root / "configs/kd.yaml").workload
    assert w.teacher is not None and w.teacher.params_b is not None and w.teacher.params_b > 3.0  # llama3_2_3b
    src = w.sources["teacher"]
    assert src.explicit and src.key == "teacher_model._component_"
    bare = w.model_copy(update={"teacher": None})
    parts: dict[str, float] = {}
    bare_parts: dict[str, float] = {}
    memory_gb(w, parts)
    memory_gb(bare, bare_parts)
    # the teacher's bf16 weights on the one GPU, and its logits plus the KD loss's two fp32 softmaxes over the vocabulary
    assert parts["weights"] - bare_parts["weights"] == pytest.approx(w.teacher.params_b * 2, rel=1e-6)
    tokens = 2 * 1024
    assert parts["logits"] - bare_parts["logits"] == pytest.approx(tokens * (w.teacher.vocab or 0) * (2 + 8) / 1e9, rel=0.01)
    hw = get_hardware("mi300x")
    t = teacher_forward_s(w, hw, nominal_for(hw))
    assert t > 0
    assert step(w, hw).step_s == pytest.approx(step(bare, hw).step_s + w.gradient_accumulation * t, rel=1e-6)
    r = _audit(root / "configs/kd.yaml")
    assert "trainer's memory" not in (r.inconclusive or "")  # decided: on 51e1a76 "goblin does not model this trainer's memory"


def test_the_distributed_recipe_shards_the_teacher_like_the_student(tmp_path: Path) -> None:
    text = DIST_HEADER + KD.split("\n", 3)[3] + "kd_ratio: 0.5\n"
    root = repo(tmp_path, {"configs/kd.yaml": text})
    w = load_config(root / "configs/kd.yaml").workload
    assert w.teacher is not None and w.strategy == "fsdp" and w.world_size == 2
    parts: dict[str, float] = {}
    bare_parts: dict[str, float] = {}
    memory_gb(w, parts)
    memory_gb(w.model_copy(update={"teacher": None}), bare_parts)
    added = parts["weights"] - bare_parts["weights"]
    assert added < w.teacher.params_b * 2 * 0.6  # half of the teacher's bf16 weights per GPU, plus a gathered layer


def test_a_teacher_of_unknown_shape_stays_inconclusive(tmp_path: Path) -> None:
    text = STOCK_KD.replace("torchtune.models.llama3_2.llama3_2_3b", "my_models.teachers.big_teacher")
    text = text.replace("enable_activation_checkpointing: True", "enable_activation_checkpointing: False\ncompile: True").replace(
        "batch_size: 2", "batch_size: 16"
    )
    root = repo(tmp_path, {"configs/kd.yaml": text})
    w = load_config(root / "configs/kd.yaml").workload
    assert w.teacher is None
    trainer = unmodelled_trainer(w)
    assert trainer is not None and "knowledge distillation" in trainer.what
    r = _audit(root / "configs/kd.yaml")
    assert r.verdict != "pass" and r.inconclusive is not None and "teacher model's weights and its forward pass every step" in r.inconclusive
    assert "teacher_model builder of known shape" in r.inconclusive


def test_a_config_without_a_teacher_is_unchanged(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/8B_lora.yaml": LORA})
    w = load_config(root / "configs/8B_lora.yaml").workload
    assert w.teacher is None
    hw = get_hardware("mi300x")
    assert teacher_forward_s(w, hw, nominal_for(hw)) == 0.0
    assert memory_gb(w) == memory_gb(w.model_copy(update={"teacher": None, "reference_copy": False}))


def test_a_teacher_never_resharded_is_held_whole(tmp_path: Path) -> None:
    # torchtune 0.6.1 knowledge_distillation_distributed.py:253 passes fsdp_reshard_after_forward to the teacher's shard_model;
    # FSDP2 then reshards only in the post-backward callback, which a no-grad teacher never reaches
    text = DIST_HEADER + KD.split("\n", 3)[3] + "kd_ratio: 0.5\nfsdp_reshard_after_forward: False\n"
    root = repo(tmp_path, {"configs/kd.yaml": text})
    w = load_config(root / "configs/kd.yaml").workload
    assert w.teacher is not None and w.teacher_unsharded and w.sources["teacher_unsharded"].key == "fsdp_reshard_after_forward"
    parts: dict[str, float] = {}
    sharded: dict[str, float] = {}
    memory_gb(w, parts)
    memory_gb(w.model_copy(update={"teacher_unsharded": False}), sharded)
    assert parts["weights"] - sharded["weights"] > w.teacher.params_b * 2 * 0.4  # the other half of the bf16 teacher


def test_an_offloaded_teacher_is_fetched_from_the_host_not_held(tmp_path: Path) -> None:
    # knowledge_distillation_distributed.py:558-563 passes the student's fsdp_cpu_offload to the teacher's shard_model
    text = DIST_HEADER + KD.split("\n", 3)[3] + "kd_ratio: 0.5\nfsdp_cpu_offload: True\n"
    root = repo(tmp_path, {"configs/kd.yaml": text})
    w = load_config(root / "configs/kd.yaml").workload
    assert w.teacher is not None and w.cpu_offload and w.offload_params
    parts: dict[str, float] = {}
    bare_parts: dict[str, float] = {}
    memory_gb(w, parts)
    memory_gb(w.model_copy(update={"teacher": None}), bare_parts)
    assert parts["weights"] - bare_parts["weights"] < 0.5  # one gathered teacher layer beyond the student's, not its shard
    hw = get_hardware("mi300x")
    bare = step(w.model_copy(update={"teacher": None}), hw).parts["memory_bound"]
    assert step(w, hw).parts["memory_bound"] > bare  # its shard crosses the host link for its forward
