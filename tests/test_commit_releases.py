"""A framework pinned to a git commit (frameworks/commits.py over commit_releases.json, scripts/gen_commit_releases.py):
placed between the release it follows and the next one, defaults read at the first, a key rejected only where both
lack it, every message naming the commit (review3 class 1: #7 Axolotl `git checkout 55cc214`, #12 torchtune@7d29c211,
#23-25 trl@019fc6d)."""

from __future__ import annotations

import re
from pathlib import Path

from pytest_goblin import blockers
from pytest_goblin.formats import load_config
from pytest_goblin.frameworks import history as h
from pytest_goblin.frameworks.commits import _table, place
from pytest_goblin.frameworks.pins import pins
from pytest_goblin.hardware import get_hardware

from .repo_files import fresh_root, write_tree

HF = "model_name_or_path: Qwen/Qwen2.5-0.5B\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 4\nbf16: true\n"
TRL_AT = "trl @ git+https://github.com/huggingface/trl.git@019fc6dbaa03b888f9d5c1845f0f690da8ed310c#egg=trl[main]\n"


def test_the_table_says_where_it_was_read_and_stays_small() -> None:
    data = _table()
    width = data["prefix"]
    for dist in ("trl", "torchtune", "llamafactory", "axolotl", "peft", "accelerate", "bitsandbytes"):
        entry = data[dist]
        assert entry["repository"].startswith("https://github.com/") and re.fullmatch(r"[0-9a-f]{40}", entry["read_at"]), dist
        assert entry["tags"] and entry["segments"], dist
        for after, before, blob in entry["segments"]:
            assert after in entry["tags"] and (before == "" or before in entry["tags"]) and len(blob) % width == 0, (dist, after)
    assert (Path(h.__file__).parent / "commit_releases.json").stat().st_size < 150_000


def test_the_review3_commits_are_placed_where_git_describe_puts_them() -> None:
    # git describe --tags 019fc6d: v0.15.0-33-g019fc6dba (trl history at f2cd577); 7d29c211: v0.3.1-rc1-53 (v0.3.1's fork
    # point; torchtune at bd2a0fc); 55cc214: v0.4.0-295-g55cc214c7 (axolotl at 067b021)
    trl = place("trl", "019fc6dbaa03b888f9d5c1845f0f690da8ed310c")
    assert trl is not None and (trl.after, trl.ahead, trl.before) == ("0.15.0", 33, "0.16.0")
    assert trl.said == "commit 019fc6d (33 commits after v0.15.0, before v0.16.0)"
    tune = place("torchtune", "7d29c211")
    assert tune is not None and (tune.after, tune.ahead, tune.before) == ("0.3.1", 53, "0.4.0")
    axo = place("axolotl", "55cc214c767741e83ee7b346e5e13e6c03b7b9fa")
    assert axo is not None and (axo.after, axo.ahead, axo.before) == ("0.4.0", 295, "0.5.0")
    # must not: a commit not in the history, another framework's commit, a non-hex ref
    assert place("trl", "0123456789ab") is None and place("torchtune", "019fc6dbaa03") is None and place("trl", "v0.15.0") is None


def _repo(tmp: Path, files: dict[str, str], config: str, text: str) -> Path:
    return write_tree(fresh_root(tmp), {**files, config: text}, git=True) / config


def test_a_git_pin_to_a_placed_commit_is_read_as_the_release_it_follows(tmp_path: Path) -> None:
    path = _repo(tmp_path, {"requirements.txt": "transformers==4.48.2\n" + TRL_AT}, "recipes/grpo.yaml", HF)
    pin = pins(str(path))["trl"]
    assert pin.kind == "commit" and pin.version == "0.15.0" and pin.before == "0.16.0" and pin.line == 2
    assert "commit 019fc6d (33 commits after v0.15.0, before v0.16.0)" in pin.spec and pin.where.startswith("requirements.txt:2")
    got = h.reading("trl 1.16.0", str(path))
    assert got is not None and got.version == "0.15.0" and not got.assumed and "33 commits after v0.15.0" in got.note()


def test_a_clone_then_checkout_in_a_readme_pins_that_commit(tmp_path: Path) -> None:
    readme = (
        "```shell\ngit clone https://github.com/lm-sys/FastChat\ncd FastChat\ngit checkout 0123456\ncd ..\n"
        "git clone https://github.com/OpenAccess-AI-Collective/axolotl\ncd axolotl\ngit checkout 55cc214c767741e83ee7b346e5e13e6c03b7b9fa\n"
        "pip install -e .\n```\n"
    )
    axo = "base_model: meta-llama/Meta-Llama-3-8B\nsequence_len: 2048\nmicro_batch_size: 2\nbf16: true\n"
    path = _repo(tmp_path, {"README.md": readme}, "sft/llama3.yaml", axo)
    pin = pins(str(path))["axolotl"]
    assert pin.kind == "commit" and (pin.version, pin.before) == ("0.4.0", "0.5.0") and pin.where.startswith("README.md:8")
    assert "295 commits after v0.4.0" in pin.spec
    # must not: a checkout that follows another repository's clone, or one far below the clone, is not that framework's
    far = "git clone https://github.com/axolotl-ai-cloud/axolotl\n" + "echo\n" * 8 + "git checkout 55cc214c76\n"
    other = "git clone https://github.com/axolotl-ai-cloud/axolotl\ngit clone https://github.com/lm-sys/FastChat\ngit checkout 55cc214c76\n"
    for body in (far, other):
        assert "axolotl" not in pins(str(_repo(tmp_path, {"README.md": "```\n" + body + "```\n"}, "sft/llama3.yaml", axo)))


def _key_findings(path: Path) -> list[str]:
    out = blockers.findings(load_config(path), get_hardware("mi300x"))
    return [f"{f.key}: {f.message}" for f in out if f.rule_id.startswith("blocker.keys_")]


def test_keys_are_rejected_only_where_both_releases_around_the_commit_lack_them(tmp_path: Path) -> None:
    # GRPOConfig: vllm_device at trl 0.15 and 0.16; num_iterations only from 0.16; vllm_mode only from 0.18 (key_history.json)
    assert h.present("trl", "GRPOConfig", "num_iterations", "0.15.0") is False and h.present("trl", "GRPOConfig", "num_iterations", "0.16.0") is True
    text = "# trl grpo --config grpo.yaml\n" + HF + "use_vllm: true\nnum_generations: 8\nvllm_device: auto\nnum_iterations: 2\nvllm_mode: colocate\n"
    got = _key_findings(_repo(tmp_path, {"requirements.txt": TRL_AT}, "recipes/grpo.yaml", text))
    assert [g.split(":", 1)[0] for g in got] == ["vllm_mode"], got
    assert "commit 019fc6d (33 commits after v0.15.0, before v0.16.0)" in got[0] and "None" not in got[0]
    # must not: the same keys on a commit goblin cannot place are not judged at all
    unknown = TRL_AT.replace("019fc6dbaa03b888f9d5c1845f0f690da8ed310c", "0123456789abcdef0123456789abcdef01234567")
    assert _key_findings(_repo(tmp_path, {"requirements.txt": unknown}, "recipes/grpo.yaml", text)) == []


def test_a_key_of_a_class_a_release_does_not_have_is_not_known() -> None:
    # Axolotl 0.4.0 had no pydantic input schema (key_history.json: AxolotlInputConfig from 0.5.2): every key passed, so
    # `optimizer` there is "not known", not "absent" (review3 #1/#2: the magpie recipes' edits were dropped at 0.4.0)
    assert h.class_present("axolotl", "AxolotlInputConfig", "0.4.0") is False
    assert h.present("axolotl", "AxolotlInputConfig", "optimizer", "0.4.0") is None
    assert h.present("axolotl", "AxolotlInputConfig", "optimizer", "0.5.2") is True


def test_the_framework_commit_pins_its_own_bitsandbytes(tmp_path: Path) -> None:
    """review3 #7 (RLHFlow): the README checks out Axolotl 55cc214, whose requirements.txt:6 pins bitsandbytes==0.43.1
    (no ROCm library before 0.49.0): the bitsandbytes blocker reads that pin, said as the framework's."""
    from pytest_goblin.frameworks.commits import dep_pins
    from pytest_goblin.frameworks.pins import exact_pins

    placed = place("axolotl", "55cc214c76")
    assert dep_pins("axolotl", placed=placed)["bitsandbytes"] == ("==0.43.1", 6, "requirements.txt:6@55cc214")
    assert dep_pins("axolotl", "0.5.2")["bitsandbytes"] == ("==0.44.1", 6, "requirements.txt:6@v0.5.2")
    readme = "```\ngit clone https://github.com/OpenAccess-AI-Collective/axolotl\ncd axolotl\ngit checkout 55cc214c76\npip install -e .\n```\n"
    axo = "base_model: meta-llama/Meta-Llama-3-8B\nsequence_len: 2048\nmicro_batch_size: 2\nbf16: true\noptimizer: paged_adamw_32bit\n"
    path = _repo(tmp_path, {"README.md": readme}, "sft/llama3.yaml", axo)
    bnb = exact_pins(str(path), axo)["bitsandbytes"]
    assert (
        bnb.version == "0.43.1"
        and bnb.spec.startswith("bitsandbytes==0.43.1 (pinned by axolotl @ commit 55cc214")
        and "requirements.txt:6@55cc214" in bnb.where
    )
    found = [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id == "blocker.bitsandbytes_before_rocm_wheels"]
    assert len(found) == 1 and "bitsandbytes==0.43.1" in found[0].message and "None" not in found[0].message
    # must not: the repository's own bitsandbytes pin wins; Axolotl 0.4.0's `>=0.41.1` is not one release
    own = _repo(tmp_path, {"README.md": readme, "requirements.txt": "bitsandbytes==0.49.1\n"}, "sft/llama3.yaml", axo)
    assert exact_pins(str(own), axo)["bitsandbytes"].where == "requirements.txt:1"
    assert "bitsandbytes" not in dep_pins("axolotl", "0.4.0") or not dep_pins("axolotl", "0.4.0")["bitsandbytes"][0].startswith("==")
    rel = _repo(tmp_path, {"requirements.txt": "axolotl==0.4.0\n"}, "sft/llama3.yaml", axo)
    assert "bitsandbytes" not in exact_pins(str(rel), axo)


AXO_BNB = "base_model: meta-llama/Meta-Llama-3-8B\nsequence_len: 500\nmicro_batch_size: 2\nbf16: true\noptimizer: adamw_bnb_8bit\n"


def _bnb_fired(path: Path) -> list[str]:
    got = blockers.findings(load_config(path), get_hardware("mi300x"))
    return [f.message for f in got if f.rule_id == "blocker.bitsandbytes_before_rocm_wheels"]


def test_a_bitsandbytes_pin_in_a_file_that_does_not_install_the_framework_is_not_the_runs(tmp_path: Path) -> None:
    """review6a #7 (long-olivia/subliminal_reimplementation): requirements.txt:2 bitsandbytes==0.42.0 serves the
    repository's own TRL script and names no axolotl; installing Axolotl installs its own exact pin (v0.13.0
    requirements.txt:4 ==0.48.2), so the blocker comes from the framework's pin, said as such, or not at all."""
    from pytest_goblin.frameworks.pins import exact_pins

    reqs = "accelerate==1.11.0\nbitsandbytes==0.42.0\ntransformers==4.57.1\n"
    unpinned = _repo(tmp_path, {"requirements.txt": reqs}, "axolotl_config.yaml", AXO_BNB)
    assert "bitsandbytes" not in exact_pins(str(unpinned), AXO_BNB, "axolotl")  # Axolotl's release unknown: the run's bnb is too
    assert _bnb_fired(unpinned) == []
    said = [n for n in load_config(unpinned).workload.notes if "bitsandbytes==0.42.0" in n]
    assert said == [
        "bitsandbytes==0.42.0 (requirements.txt:2) is not the run's bitsandbytes: that file does not install axolotl, whose own install "
        "pins bitsandbytes; axolotl's release is not pinned (or its own bitsandbytes pin is not recorded at it), so the run's "
        "bitsandbytes is unknown and no bitsandbytes blocker is judged"
    ]
    # firing: the Axolotl release is known (README install), its own exact pin is the run's, and the repository's is named as set aside
    readme = "```\npip install axolotl==0.13.0\n```\n"
    known = _repo(tmp_path, {"requirements.txt": reqs, "README.md": readme}, "axolotl_config.yaml", AXO_BNB)
    bnb = exact_pins(str(known), AXO_BNB, "axolotl")["bitsandbytes"]
    assert bnb.version == "0.48.2" and "not bitsandbytes==0.42.0 (requirements.txt:2): that file does not install axolotl" in bnb.where
    fired = _bnb_fired(known)
    assert len(fired) == 1 and "bitsandbytes==0.48.2" in fired[0] and "None" not in fired[0]
    # must-not-replace: the same file installs Axolotl and the pin (resolved with it): the repository's pin stays
    both = _repo(tmp_path, {"requirements.txt": "axolotl==0.13.0\n" + reqs}, "axolotl_config.yaml", AXO_BNB)
    assert exact_pins(str(both), AXO_BNB, "axolotl")["bitsandbytes"].where == "requirements.txt:3"
    assert len(_bnb_fired(both)) == 1
    assert not any("is not the run's bitsandbytes" in n for n in load_config(both).workload.notes)
    # must-not-replace: a setup script installs Axolotl, then the requirements file: its pin is installed last
    after = "pip install axolotl==0.13.0\npip install -r requirements.txt\n"
    later = _repo(tmp_path, {"requirements.txt": reqs, "setup.sh": after}, "axolotl_config.yaml", AXO_BNB)
    assert exact_pins(str(later), AXO_BNB, "axolotl")["bitsandbytes"].where == "requirements.txt:2"
    before = _repo(
        tmp_path, {"requirements.txt": reqs, "setup.sh": "pip install -r requirements.txt\npip install axolotl==0.13.0\n"}, "axolotl_config.yaml", AXO_BNB
    )
    assert exact_pins(str(before), AXO_BNB, "axolotl")["bitsandbytes"].version == "0.48.2"  # Axolotl installed last: its pin
    # a release whose own pin allows the repository's (Axolotl 0.4.0 requirements.txt:6 `>=0.41.1`): pip keeps 0.42.0
    old = _repo(tmp_path, {"requirements.txt": reqs, "README.md": "```\npip install axolotl==0.4.0\n```\n"}, "axolotl_config.yaml", AXO_BNB)
    assert exact_pins(str(old), AXO_BNB, "axolotl")["bitsandbytes"].version == "0.42.0"
    # must-not-lose: a format without a framework install of its own (TrainingArguments YAML) keeps the repository's pin
    hf = _repo(tmp_path, {"requirements.txt": reqs}, "train.yaml", "model_name_or_path: m\noptim: adamw_bnb_8bit\nbf16: true\n")
    assert exact_pins(str(hf), "", "hf-trainer")["bitsandbytes"].version == "0.42.0"


def test_messages_name_the_commit_not_only_the_release_it_follows(tmp_path: Path) -> None:
    path = _repo(tmp_path, {"requirements.txt": TRL_AT}, "recipes/grpo.yaml", HF)
    got = h.reading("trl 1.16.0", str(path))
    assert got is not None
    said = h.in_run_terms("GRPOConfig of trl 1.16.0 reads it (trl 1.16.0 trl/trainer/grpo_config.py:10)", got)
    assert said == (
        "GRPOConfig of trl at commit 019fc6d (33 commits after v0.15.0, before v0.16.0; goblin read 1.16.0) reads it (trl trl/trainer/grpo_config.py:10@1.16.0)"
    )
    # must not: a release pin is said as that release
    rel = h.reading("trl 1.16.0", str(_repo(tmp_path, {"requirements.txt": "trl==0.15.0\n"}, "recipes/grpo.yaml", HF)))
    assert rel is not None and h.in_run_terms("trl 1.16.0 reads it", rel) == "trl 0.15.0 (goblin read 1.16.0) reads it"


def test_a_readme_that_installs_the_framework_after_the_pin_file_is_named_in_the_set_aside_note(tmp_path: Path) -> None:
    """review7a #4/#5 (appier-research/robust-llm-finetunes): README.md:11 `pip install -r requirements.txt`
    (bitsandbytes==0.45.0), then :14 "install latest axolotl": Axolotl's own exact bitsandbytes pin replaces the file's
    (v0.11.0 on pin 0.46.0+), so the file's pin stays set aside, and the note names the later install."""
    from pytest_goblin.frameworks.pins import exact_pins

    reqs = "accelerate==1.2.0\nbitsandbytes==0.45.0\ntransformers==4.46.3\n"
    readme = "## Setup\n```\nconda create -n x python=3.10\npip install -r requirements.txt\n```\n- install latest axolotl from their repository\n"
    cfg = _repo(tmp_path, {"requirements.txt": reqs, "README.md": readme}, "training/axolotl_configs/llama3/so.yml", AXO_BNB)
    assert "bitsandbytes" not in exact_pins(str(cfg), AXO_BNB, "axolotl") and _bnb_fired(cfg) == []
    (said,) = [n for n in load_config(cfg).workload.notes if "bitsandbytes==0.45.0" in n]
    assert said.startswith(
        "bitsandbytes==0.45.0 (requirements.txt:2) is not the run's bitsandbytes: that file does not install axolotl, whose own "
        "install pins bitsandbytes (README.md:6 installs axolotl after it, which replaces the file's pin);"
    )
    # must not: a README that installs nothing after the file says only that the file does not install it
    plain = _repo(tmp_path, {"requirements.txt": reqs, "README.md": readme.replace("- install latest axolotl", "- see")}, "so.yml", AXO_BNB)
    (said,) = [n for n in load_config(plain).workload.notes if "bitsandbytes==0.45.0" in n]
    assert "installs axolotl after it" not in said and "None" not in said


def test_a_commit_of_a_rewritten_history_and_one_before_the_first_covered_release_are_placed(tmp_path: Path) -> None:
    """Pins seen in real repositories that goblin left "release unknown": torchtune 8f59c2f (2024-04-24, on the main
    line 32 commits after v0.1.1's fork point, before v0.2.0: torchtune history at bd2a0fc, read from v0.1.0 on) and
    LLaMA-Factory 762c2d7 (2025-05-30, "[assets] update readme (#8235)"): LLaMA-Factory rewrote its history, and today's
    main line holds that commit as 3e1a7fc (same author, dates and subject; `git describe --tags 3e1a7fc` at ff6d4d1:
    v0.9.2-153), while GitHub still serves 762c2d7 through pull-request refs."""
    tune = place("torchtune", "8f59c2f")
    assert tune is not None and (tune.after, tune.ahead, tune.before) == ("0.1.1", 32, "0.2.0")
    old = place("llamafactory", "762c2d7")
    new = place("llamafactory", "3e1a7fc")
    assert old is not None and new is not None and (old.after, old.ahead, old.before, old.at) == (new.after, new.ahead, new.before, new.at)
    assert (old.after, old.ahead, old.before, old.same_as) == ("0.9.2", 153, "0.9.3", "3e1a7fc") and new.same_as == ""
    assert old.said == "commit 762c2d7 (153 commits after v0.9.2, before v0.9.3)" and "where it is 3e1a7fc" in old.source
    assert place("llamafactory", "762c2d776fdcb43570dfa00ea9c69b00155df559") == old
    reqs = "torchtune @ git+https://github.com/pytorch/torchtune.git@8f59c2f\nllamafactory @ git+https://github.com/hiyouga/LLaMA-Factory.git@762c2d7\n"
    lf = "### model\nmodel_name_or_path: Qwen/Qwen2.5-0.5B\nstage: sft\nfinetuning_type: lora\nper_device_train_batch_size: 2\nbf16: true\n"
    path = _repo(tmp_path, {"requirements.txt": reqs}, "examples/sft.yaml", lf)
    got = pins(str(path))
    assert (got["torchtune"].version, got["torchtune"].before, got["torchtune"].line) == ("0.1.1", "0.2.0", 1)
    assert (got["llamafactory"].version, got["llamafactory"].before, got["llamafactory"].line) == ("0.9.2", "0.9.3", 2)
    assert "762c2d7 (153 commits after v0.9.2, before v0.9.3)" in got["llamafactory"].spec and "where it is 3e1a7fc" in got["llamafactory"].where
    notes = " ".join(load_config(path).workload.notes)
    assert "None" not in notes
    # must not: a commit in neither history (nor a rewritten copy) stays "release unknown"
    unknown = _repo(tmp_path, {"requirements.txt": "llamafactory @ git+https://github.com/hiyouga/LLaMA-Factory.git@0123abc\n"}, "examples/sft.yaml", lf)
    pin = pins(str(unknown))["llamafactory"]
    assert pin.version == "" and "release unknown" in pin.spec
    assert place("torchtune", "0123abc") is None and place("llamafactory", "0123abc") is None
    assert place("torchtune", "762c2d7") is None  # another framework's commit


def test_the_rewritten_runs_point_inside_the_history_read() -> None:
    data = _table()
    width = data["prefix"]
    for dist in ("trl", "torchtune", "llamafactory", "axolotl", "peft", "accelerate", "bitsandbytes"):
        entry = data[dist]
        total = sum(len(blob) // width for _a, _b, blob in entry["segments"])
        for start, blob in entry.get("rewritten", []):
            assert 0 <= start and start + len(blob) // width <= total and len(blob) % width == 0, dist
