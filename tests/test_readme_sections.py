"""README install blocks read the way a user follows them: a block the README's own prose supersedes is not a pin,
and a README with several environments gives the training one's pins, not the inference/evaluation one's (review3:
magpie-align/magpie recipes/README.md:22-36, RLHFlow/Online-RLHF README.md:89-120)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats.record import parse_record
from pytest_goblin.frameworks import pins as P

from .test_pins_sources import AXO, HF, repo

CLONE = "```bash\ngit clone https://github.com/OpenAccess-AI-Collective/axolotl\ncd axolotl\ngit reset --hard 7c2bf3091f5e73c787afe839dfdcc8220b770a1a\npip3 install -e '.[deepspeed]'\n```\n"


def test_a_block_the_readme_says_to_replace_with_the_latest_is_not_a_pin(tmp_path: Path) -> None:
    readme = "### Install Axolotl\n\n" + CLONE + "\n**Note 2:** They have fixed that. Please use the latest version.\n"
    path = repo(tmp_path, {"recipes/README.md": readme}, config="recipes/sft/config.yaml", text=AXO)
    assert "axolotl" not in P.pins(str(path))
    fv = parse_record(path)[0]["framework_version"]
    assert fv["assumed"] is True and fv["version"] == fv["tables"]
    assert "recipes/README.md:3-8 not read (superseded by line 10: **Note 2:** They have fixed that. Please use the latest version.)" in fv["source"]
    assert "None" not in fv["source"]


def test_a_deprecated_section_and_a_no_longer_needed_note_are_not_pins(tmp_path: Path) -> None:
    readme = "## Old instructions (deprecated)\n\n```\npip install transformers==4.30.0\n```\n\n## Setup\n\n```\npip install trl==0.8.6\n```\n"
    got = P.pins(str(repo(tmp_path, {"README.md": readme})))
    assert "transformers" not in got and got["trl"].version == "0.8.6"
    readme = "```\npip install transformers==4.30.0\n```\nThis step is no longer needed.\n"
    assert "transformers" not in P.pins(str(repo(tmp_path, {"README.md": readme})))


def test_a_note_that_does_not_supersede_keeps_the_pin(tmp_path: Path) -> None:
    # must not fire: the commit is what the README uses; "the latest ... may encounter bugs" before the block says so
    readme = "**Note**: We found that the latest Axolotl may encounter some bugs, so we use this commit.\n\n" + CLONE + "\nThen run training.\n"
    path = repo(tmp_path, {"README.md": readme}, text=AXO)
    pin = P.pins(str(path))["axolotl"]
    assert pin.kind == "commit" and pin.where.startswith("README.md:6")
    assert P.set_aside_notes(str(path), "axolotl") == ()


TWO_ENVS = (
    "## Installation\n\nIt is recommended to have two separate environments.\n\n"
    "**Inference Environment**\n\n```sh\npip install vllm==0.5.4\npip install transformers==4.43.4\n```\n\n"
    "**Training Environment**\n\n```sh\ngit clone https://github.com/huggingface/alignment-handbook.git\npip install accelerate==0.33.0\n```\n"
)


def test_a_readme_with_several_environments_gives_the_training_ones_pins(tmp_path: Path) -> None:
    path = repo(tmp_path, {"README.md": TWO_ENVS}, config="configs/training.yaml", text=HF)
    got = P.pins(str(path))
    assert "transformers" not in got and got["accelerate"].where == "README.md:16"
    assert "vllm" not in P.exact_pins(str(path), HF)
    assert P.set_aside_notes(str(path), "transformers") == ("README.md:7-10 not read (under the section 'Inference Environment', not about training)",)


def test_an_inference_section_is_read_when_it_is_the_only_environment(tmp_path: Path) -> None:
    # must not fire: with one environment goblin cannot tell it is not the training one
    readme = "## Inference\n\n```sh\npip install transformers==4.43.4\n```\n"
    assert P.pins(str(repo(tmp_path, {"README.md": readme})))["transformers"].version == "4.43.4"


def test_a_training_heading_over_an_eval_word_is_training(tmp_path: Path) -> None:
    # must not fire: the deepest title that says either decides ("Training with evaluation" is training)
    readme = "## Evaluation\n\n```\npip install lm-eval==0.4.2\n```\n\n## Training with evaluation\n\n```\npip install transformers==4.40.0\n```\n"
    assert P.pins(str(repo(tmp_path, {"README.md": readme})))["transformers"].version == "4.40.0"


def test_install_lines_outside_a_code_block_are_read_by_their_section_too(tmp_path: Path) -> None:
    readme = "## Serving\n\n    $ pip install vllm==0.5.4 transformers==4.43.4\n\n## Training\n\n    $ pip install transformers==4.40.0\n"
    path = repo(tmp_path, {"README.md": readme})
    assert P.pins(str(path))["transformers"].where == "README.md:7"
    assert "vllm" not in P.exact_pins(str(path), HF)
    readme = "Install:\n\n$ pip install trl==0.8.6\n\nThis is outdated, use the latest version.\n"
    assert "trl" not in P.pins(str(repo(tmp_path, {"README.md": readme})))


def test_a_note_that_warns_against_the_latest_keeps_the_pin(tmp_path: Path) -> None:
    # must not fire: "do not use the latest" confirms the block
    readme = CLONE + "\n**Note:** Please do not use the latest version, it breaks the chat template.\n"
    pin = P.pins(str(repo(tmp_path, {"README.md": readme}, text=AXO)))["axolotl"]
    assert pin.kind == "commit" and pin.where.startswith("README.md:4")
