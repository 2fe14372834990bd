"""Versions a repository states as a development build or in an environment snapshot (issue 23, review5 #14/#15,
psunlpgroup/FoVer: LLaMA-Factory cloned at commit 4a5d0f0, which today's main line holds only as 63752fc after a history
rewrite (now placed: tests/test_commit_releases.py), and setup/snapshot/environment_llama_factory_snapshot.yml:77
`llamafactory==0.9.3.dev0`, :164 `transformers==4.49.0`)."""

from __future__ import annotations

import json
from pathlib import Path

from packaging.version import Version

from pytest_goblin.formats.record import parse_record
from pytest_goblin.frameworks import history as H
from pytest_goblin.frameworks import pins as P

from .test_pins_stated import repo

LF = "model_name_or_path: meta-llama/Llama-3.1-8B\nstage: sft\ndo_train: true\nfinetuning_type: lora\ndataset: alpaca_en\ntemplate: llama3\n"
EXPORT = "name: train\nchannels:\n  - defaults\ndependencies:\n  - python=3.10.16=h1\n  - pip:\n      - llamafactory==0.9.3.dev0\n      - transformers==4.49.0\nprefix: /home/u/envs/train\n"
CLONE = "git clone https://github.com/hiyouga/LLaMA-Factory.git\ncd LLaMA-Factory\ngit checkout 0badc0d\npip install -e .\n"  # in no history read


def test_a_dev_build_is_read_between_the_previous_release_and_its_own(tmp_path: Path) -> None:
    cfg = repo(tmp_path, {"requirements.txt": "llamafactory==0.9.3.dev0\ntransformers==4.57.0.dev0\n"}, "cfg/sft.yaml", LF)
    got = P.pins(str(cfg))
    lf, tf = got["llamafactory"], got["transformers"]
    assert (lf.version, lf.constraint, lf.spec) == ("0.9.3.dev0", "==0.9.3.dev0", "llamafactory==0.9.3.dev0 (a development build)")
    assert tf.version == "4.57.0.dev0"
    below, at = H._read_as("transformers", "4.57.0.dev0")
    assert Version(below) < Version("4.57.0") <= Version(at)
    run = H.run_version("llamafactory", lf)
    assert run is not None and (run.version, run.assumed) == ("0.9.3.dev0", False)
    assert H._read_as("llamafactory", run.version) == ["0.9.2", "0.9.3"]  # before: read as 0.9.3
    record, ok = parse_record(cfg)
    fv = record["framework_version"]
    assert ok and isinstance(fv, dict)
    assert (fv["version"], fv["assumed"]) == ("0.9.3.dev0", False)
    assert fv["source"] == "requirements.txt:1; a development build: after v0.9.2, before v0.9.3 (keys and defaults judged where v0.9.2 and v0.9.3 agree)"
    assert "None" not in json.dumps(fv)


def test_a_release_a_post_release_a_local_build_and_a_dev_lower_bound_are_not_dev_builds(tmp_path: Path) -> None:
    for line, want in (
        ("llamafactory==0.9.3", ("pin", "0.9.3", "")),
        ("llamafactory==0.9.3.post1", ("pin", "0.9.3", "")),
        ("llamafactory==0.9.3+cu121", ("pin", "0.9.3", "")),
        ("llamafactory>=0.9.3.dev0", ("pin", "0.9.3", "")),
    ):
        cfg = repo(tmp_path, {"requirements.txt": line + "\n"}, "cfg/sft.yaml", LF)
        pin = P.pins(str(cfg))["llamafactory"]
        assert (pin.kind, pin.version, pin.before) == want, line
    assert "a local build of 0.9.3" in P.pins(str(repo(tmp_path, {"requirements.txt": "llamafactory==0.9.3+cu121\n"}, "c.yaml", LF)))["llamafactory"].spec


def test_a_snapshot_gives_the_version_an_unplaceable_commit_does_not_and_says_both(tmp_path: Path) -> None:
    files = {"setup/snapshot/environment_train_snapshot.yml": EXPORT, "setup/setup_lf.sh": CLONE, "README.md": "Run `bash setup/setup_lf.sh`.\n"}
    cfg = repo(tmp_path, files, "llama_factory_config/sft.yaml", LF)
    got = P.pins(str(cfg))
    lf = got["llamafactory"]
    assert (lf.version, lf.constraint) == ("0.9.3.dev0", "==0.9.3.dev0")
    assert lf.where.startswith("setup/snapshot/environment_train_snapshot.yml:7 (an environment snapshot)")
    assert "llamafactory @ commit 0badc0d" in lf.where and "release unknown" in lf.where
    assert (got["transformers"].version, got["transformers"].where) == ("4.49.0", "setup/snapshot/environment_train_snapshot.yml:8 (an environment snapshot)")
    fv = parse_record(cfg)[0]["framework_version"]
    assert isinstance(fv, dict) and fv["version"] == "0.9.3.dev0" and "environment_train_snapshot.yml:7" in str(fv["source"])
    assert "after v0.9.2, before v0.9.3" in str(fv["source"])
    # FoVer's own 4a5d0f0 is placed (its rewritten copy 63752fc): the placed commit is read, not the snapshot
    files["setup/setup_lf.sh"] = CLONE.replace("0badc0d", "4a5d0f0")
    lf = P.pins(str(repo(tmp_path, files, "llama_factory_config/sft.yaml", LF)))["llamafactory"]
    assert (lf.kind, lf.version, lf.before) == ("commit", "0.9.2", "0.9.3") and "15 commits after v0.9.2" in lf.spec


def test_a_pip_freeze_file_pins_what_nothing_else_pins_and_a_range_it_fits(tmp_path: Path) -> None:
    cfg = repo(tmp_path, {"docs/pip_freeze.txt": "accelerate==1.2.1\ntrl==0.12.0\n"}, "cfg/sft.yaml", LF)
    trl = P.pins(str(cfg))["trl"]
    assert (trl.version, trl.where) == ("0.12.0", "docs/pip_freeze.txt:2 (an environment snapshot)")
    cfg = repo(tmp_path, {"env.txt": "transformers==4.45.2\n", "setup.py": 'install_requires=["transformers>=4.40"]\n'}, "cfg/sft.yaml", LF)
    tf = P.pins(str(cfg))["transformers"]
    assert tf.constraint == "==4.45.2" and "within transformers>=4.40 (setup.py:1)" in tf.where


def test_a_snapshot_does_not_override_a_stronger_pin_nor_count_when_not_one(tmp_path: Path) -> None:
    freeze = {"snapshot/pip_freeze.txt": "transformers==4.45.2\nllamafactory==0.9.1\n"}
    # an exact pin of the repository, a range the snapshot does not fit, the config's own line: kept
    for extra, config, dist, want in (
        ({"requirements.txt": "llamafactory==0.9.2\n"}, LF, "llamafactory", "==0.9.2"),
        ({"setup.py": 'install_requires=["transformers>=4.50"]\n'}, LF, "transformers", ">=4.50"),
        ({}, "# pip install llamafactory==0.9.4\n" + LF, "llamafactory", "==0.9.4"),
    ):
        cfg = repo(tmp_path, {**freeze, **extra}, "cfg/sft.yaml", config)
        assert P.pins(str(cfg))[dist].constraint == want, extra
    # not snapshots: one for inference, a hand-written environment.yml elsewhere, a layer-freezing training config;
    # and two snapshots that disagree
    for files in (
        {"inference/pip_freeze.txt": "transformers==4.45.2\n"},
        {"envs/environment.yml": "dependencies:\n  - pip:\n      - transformers==4.45.2\n"},
        {"examples/llama3_freeze_sft.yaml": "transformers==4.45.2\n"},
        {"a/pip_freeze.txt": "transformers==4.45.2\n", "b/pip_freeze.txt": "transformers==4.46.0\n"},
    ):
        cfg = repo(tmp_path, files, "cfg/sft.yaml", LF)
        assert "transformers" not in P.pins(str(cfg)), files


def test_a_vendored_dev_copy_stands_for_both_neighbouring_releases_not_its_minors_newest(tmp_path: Path) -> None:
    # before: `0.9.3.dev0` stood for the newest read 0.9.x (0.9.5), as a patch release of its minor would
    assert H._read_as("llamafactory", "0.9.3.dev0") == ["0.9.2", "0.9.3"]
    assert H._read_as("llamafactory", "0.8.3.dev0") == []  # no read release before it (review5 #16): nothing judged
    assert H._read_as("llamafactory", "0.9.3") == ["0.9.3"] and H._read_as("llamafactory", "0.9.3.post1") == ["0.9.3"]
    env = 'VERSION = "0.9.3.dev0"\n'
    cfg = repo(tmp_path, {"LLaMA-Factory/src/llamafactory/extras/env.py": env}, "sft.yaml", LF)
    fv = parse_record(cfg)[0]["framework_version"]
    assert isinstance(fv, dict) and fv["version"] == "0.9.3.dev0" and fv["assumed"] is False
    assert "a development build: after v0.9.2, before v0.9.3" in str(fv["source"])
    cfg = repo(tmp_path, {"LLaMA-Factory/src/llamafactory/extras/env.py": 'VERSION = "0.9.3"\n'}, "sft.yaml", LF)
    assert "development" not in str(parse_record(cfg)[0]["framework_version"])
