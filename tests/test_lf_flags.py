"""A LLaMA-Factory run given only as command-line flags is audited as a LLaMA-Factory config made of those flags
(lfflags38, blind review 14 rows A#1-2 `llamafactory-cli train --stage sft ...` and B#29 `torchrun ... src/train_bash.py
--stage sft ...`): the shell file's item, each key at the line of its flag, every edit said in the launch line and none
written. Small fixture repositories; nothing is executed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_goblin.cli import main
from pytest_goblin.errors import ConfigError
from pytest_goblin.service import check_config, config_files

from .repo_files import repo


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


FLAGS = """#!/bin/bash
export NCCL_P2P_DISABLE=1
CUDA_VISIBLE_DEVICES=3 llamafactory-cli train \\
    --stage sft \\
    --do_train True \\
    --model_name_or_path meta-llama/Llama-3.1-8B \\
    --finetuning_type lora \\
    --template llama3 \\
    --dataset alpaca_en_demo \\
    --cutoff_len 1024 \\
    --per_device_train_batch_size 2 \\
    --gradient_accumulation_steps 8 \\
    --eval_steps 100 \\
    --fp16 True \\
    --plot_loss \\
    --optim adamw_torch
"""

TRAIN_BASH = """#!/bin/bash
BS=4
python -m torch.distributed.run \\
    --nproc_per_node 4 \\
    ../../src/train_bash.py \\
    --stage sft \\
    --do_train \\
    --model_name_or_path meta-llama/Llama-2-7b-hf \\
    --dataset demo_sft \\
    --finetuning_type full \\
    --per_device_train_batch_size $BS \\
    --gradient_accumulation_steps $STEPS \\
    --bf16
"""

YAML = "stage: sft\ndo_train: true\nmodel_name_or_path: meta-llama/Llama-3.1-8B\nfinetuning_type: lora\ndataset: x\ncutoff_len: 512\nper_device_train_batch_size: 1\n"


def test_a_named_flags_only_line_is_a_llamafactory_config_at_its_flags_lines(tmp_path: Path) -> None:
    root = repo(tmp_path, {"scripts/lf.sh": FLAGS})
    checked = check_config(root / "scripts/lf.sh")
    assert checked.skip is None and checked.error is None and checked.loaded is not None
    assert checked.target == checked.launcher == (root / "scripts/lf.sh").resolve()
    w = checked.loaded.workload
    assert w.format == "llamafactory" and w.model.name == "meta-llama/Llama-3.1-8B"
    assert (w.micro_batch_size, w.gradient_accumulation, w.seq_len, w.method, w.precision) == (2, 8, 1024, "lora", "fp16")
    assert w.world_size == 1  # CUDA_VISIBLE_DEVICES=3: one GPU, the line's own topology
    src = w.sources["micro_batch_size"]
    assert (src.key, src.line) == ("per_device_train_batch_size", 11) and src.file and src.file.endswith("lf.sh")
    assert w.sources["precision"].line == 14 and w.sources["optimizer"].line == 16
    assert any("runs LLaMA-Factory on command-line flags alone" in n for n in w.notes)
    assert not any("share of the run's total steps" in n for n in w.notes)  # --eval_steps 100 is a step count, typed as a number


def test_the_audit_says_each_edit_as_the_flag_to_change_and_writes_nothing(tmp_path: Path) -> None:
    root = repo(tmp_path, {"scripts/lf.sh": FLAGS})
    before = (root / "scripts/lf.sh").read_text()
    out = tmp_path / "r.json"
    main(["audit", "repo/scripts/lf.sh", "--runner", "projection", "--json", str(out), "--fix"])
    items = json.loads(out.read_text())["items"]
    assert [i["nodeid"] for i in items] == ["repo/scripts/lf.sh::audit"] and items[0]["verdict"] != "error"
    report = items[0]["report"]
    skipped = report["patch"]["skipped"]
    assert skipped["optimizer.fused_adamw"] == (
        "`--optim adamw_torch` is passed by scripts/lf.sh line 16: change it in the launch line to `--optim adamw_torch_fused`"
    )
    assert "set `--bf16 true`, `--fp16 false` on scripts/lf.sh line 14" in skipped["precision.bf16_over_fp16"]
    assert not report["patch"]["edits"]
    assert (root / "scripts/lf.sh").read_text() == before  # --fix writes nothing to the shell file
    assert not any("None" in f["message"] for f in report["findings"])


def test_a_folder_walk_collects_a_flags_only_launcher_and_no_other(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "scripts/lf.sh": FLAGS,
            "configs/sft.yaml": YAML,
            "scripts/yaml.sh": "#!/bin/bash\nllamafactory-cli train configs/sft.yaml\n",
            "scripts/other.sh": "#!/bin/bash\necho hi\npython prepare.py --out data\n",
        },
    )
    found = {p.relative_to(root).as_posix() for p in config_files([root])}
    assert found == {"scripts/lf.sh", "configs/sft.yaml"}
    out = tmp_path / "r.json"
    main(["audit", "repo", "--runner", "projection", "--json", str(out)])
    ids = sorted(i["nodeid"] for i in json.loads(out.read_text())["items"])
    assert ids == ["repo/configs/sft.yaml::audit", "repo/scripts/lf.sh::audit"]


def test_train_bash_of_a_checkout_elsewhere_with_a_shell_variable(tmp_path: Path) -> None:
    root = repo(tmp_path, {"class/sft.sh": TRAIN_BASH})
    checked = check_config(root / "class/sft.sh")
    assert checked.loaded is not None, checked.skip
    w = checked.loaded.workload
    assert (w.micro_batch_size, w.method, w.precision, w.world_size) == (4, "full", "bf16", 4)  # BS=4 resolved
    assert w.sources["micro_batch_size"].line == 11
    acc = w.sources["gradient_accumulation"]
    assert acc.unread and "set at run time" in (acc.note or "")  # $STEPS is never set: unknown, not guessed
    assert any("--gradient_accumulation_steps $STEPS" in n and "not judged" in n for n in w.notes)


def test_a_flags_launcher_with_several_runs_is_one_item_naming_the_others(tmp_path: Path) -> None:
    two = FLAGS + "llamafactory-cli train --stage sft --do_train --model_name_or_path Qwen/Qwen2.5-7B --dataset x\n"
    root = repo(tmp_path, {"scripts/lf.sh": two})
    w = check_config(root / "scripts/lf.sh").loaded
    assert w is not None and w.workload.model.name == "meta-llama/Llama-3.1-8B"  # the first line's run
    assert any("also launches other runs" in n and "line 17" in n for n in w.workload.notes)


def test_a_line_with_a_yaml_stays_the_yamls_item(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/sft.yaml": YAML, "scripts/yaml.sh": "#!/bin/bash\nllamafactory-cli train configs/sft.yaml --stage sft\n"})
    checked = check_config(root / "scripts/yaml.sh")
    assert checked.target == (root / "configs/sft.yaml").resolve()
    assert checked.loaded is not None and checked.loaded.workload.seq_len == 512


def test_a_plain_python_script_with_flags_is_not_read_as_llamafactory(tmp_path: Path) -> None:
    script = "import argparse\np = argparse.ArgumentParser()\np.add_argument('--stage')\nprint(p.parse_args())\n"
    launcher = "#!/bin/bash\npython train.py --stage sft --model_name_or_path meta-llama/Llama-3.1-8B\n"
    root = repo(tmp_path, {"train.py": script, "src/train.py": script, "run.sh": launcher, "run2.sh": launcher.replace("train.py", "src/train.py")})
    for name in ("run.sh", "run2.sh"):
        checked = check_config(root / name)
        assert checked.target != (root / name).resolve()
        assert checked.loaded is None or checked.loaded.workload.format != "llamafactory"
    assert not any(p.suffix == ".sh" for p in config_files([root]))


def test_an_unknown_flag_is_said(tmp_path: Path) -> None:
    repo(tmp_path, {"lf.sh": FLAGS.replace("--plot_loss", "--no_such_flag 3")})
    out = tmp_path / "r.json"
    main(["audit", "repo/lf.sh", "--runner", "projection", "--json", str(out)])
    report = json.loads(out.read_text())["items"][0]["report"]
    said = [f["message"] for f in report["findings"] if "no_such_flag" in f["message"]]
    assert said and "line 15" in said[0]


def test_a_bool_flag_given_another_word_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    root = repo(tmp_path, {"lf.sh": FLAGS.replace("--fp16 True", "--fp16 maybe")})
    checked = check_config(root / "lf.sh")
    assert isinstance(checked.error, ConfigError) and checked.error.line == 14 and "lf.sh" in str(checked.error)
