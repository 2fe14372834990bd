"""Framework versions a repository's install steps state (review5, issue 23): a release branch named in an install line
(`torchtune # release/0.5.0`, `@release/0.5.0`), and the install scripts a README or another install script names
(`setup/setup.sh` -> `bash setup/setup_llama_factory.sh`: a clone, then `git checkout <commit>`)."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_goblin.formats.record import parse_record
from pytest_goblin.frameworks import pins as P

TUNE = "model:\n  _component_: torchtune.models.llama3.lora_llama3_8b\nbatch_size: 2\noptimizer:\n  _component_: torch.optim.AdamW\n  lr: 3e-4\ndevice: cuda\n"


def repo(tmp_path: Path, files: dict[str, str], config: str, text: str) -> Path:
    root = tmp_path / f"r{len(list(tmp_path.iterdir()))}"  # a root per call: pins are cached per folder
    (root / ".git").mkdir(parents=True)
    for rel, body in files.items():
        f = root / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(body)
    path = root / config
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


ONE_PASS = "# ONE-PASS\n\nRequired\n```python\ntorchtune # release/0.5.0 !!!\n```\nThen train.\n"


def test_a_release_branch_named_in_an_install_line_pins_that_release(tmp_path: Path) -> None:
    # review5 #11, kk97111/ONE-PASS README.md:55 `torchtune # release/0.5.0 !!!` in the install block
    cfg = repo(tmp_path, {"README.md": ONE_PASS}, "3B_full.yaml", TUNE)
    pin = P.pins(str(cfg))["torchtune"]
    assert (pin.version, pin.constraint, pin.where) == ("0.5.0", "==0.5.0", "README.md:5")
    assert "release branch release/0.5.0" in pin.spec
    for line in ("pip install git+https://github.com/pytorch/torchtune.git@release/0.5.0", "git clone -b release/0.5.0 https://github.com/pytorch/torchtune"):
        cfg = repo(tmp_path, {"README.md": f"```\n{line}\n```\n"}, "3B_full.yaml", TUNE)
        assert P.pins(str(cfg))["torchtune"].version == "0.5.0", line
    record, ok = parse_record(repo(tmp_path, {"README.md": ONE_PASS}, "3B_full.yaml", TUNE))
    fv = record["framework_version"]
    assert ok and isinstance(fv, dict)
    assert (fv["version"], fv["source"], fv["assumed"]) == ("0.5.0", "README.md:5", False)
    assert "None" not in json.dumps(fv)


def test_a_release_branch_in_prose_or_of_another_package_is_not_a_pin(tmp_path: Path) -> None:
    bodies = (
        "torchtune's release/0.5.0 branch is old; we use main.\n",  # prose, not an install line
        "```\nvllm # release/0.5.0\n```\n",  # another package's branch
        "```\npip install git+https://github.com/pytorch/torchtune.git@release-notes\n```\n",
        "```\ntorchtune # see release/0.5.0 notes below\n```\n",  # words between the comment mark and the branch
    )
    for body in bodies:
        cfg = repo(tmp_path, {"README.md": body}, "3B_full.yaml", TUNE)
        assert "torchtune" not in P.pins(str(cfg)), body
