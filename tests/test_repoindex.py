"""The session memo of repository facts (repoindex.py): one answer per question while a session runs,
never an answer from another tree, another set of roots or an older version of a file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pytest_goblin import repoindex, safepath
from pytest_goblin.cli import main
from pytest_goblin.fileio import write_atomic
from pytest_goblin.formats import load_config

from .repo_files import write_tree

AXOLOTL = "base_model: meta-llama/Meta-Llama-3-8B\nmicro_batch_size: 2\ngradient_accumulation_steps: 4\nsequence_len: 4096\nbf16: true\n"
ARGS = ("--goblin-runner", "projection", "--goblin-target", "mi300x", "-p", "no:cacheprovider")


def launcher(gpus: int, config: str = "configs/sft.yaml") -> str:
    return f"#!/bin/bash\ntorchrun --nnodes 1 --nproc_per_node {gpus} -m axolotl.cli.train {config}\n"


@pytest.fixture
def scope() -> object:
    repoindex.begin()
    try:
        yield repoindex
    finally:
        repoindex.end()


def test_outside_a_session_nothing_is_kept(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "r", {"configs/sft.yaml": AXOLOTL})
    assert not repoindex.active()
    assert safepath.repository_root(root / "configs") is None
    (root / ".git").mkdir()
    assert safepath.repository_root(root / "configs") == root  # seen at once: no scope, no memo
    f = root / "configs" / "sft.yaml"
    assert safepath.read_text(f, roots=[root]) == AXOLOTL
    f.write_text(AXOLOTL + "seed: 1\n")
    assert safepath.read_text(f, roots=[root]).endswith("seed: 1\n")


def test_a_session_answers_each_question_once(tmp_path: Path, scope: object) -> None:
    root = write_tree(tmp_path / "r", {"configs/sft.yaml": AXOLOTL, "configs/other.yaml": AXOLOTL}, git=True)
    assert safepath.repository_root(root / "configs") == root
    before = repoindex.stats()
    for _ in range(3):
        assert safepath.repository_root(root / "configs") == root
        assert safepath.tree_of(root / "configs" / "sft.yaml") == [root.resolve()]
    after = repoindex.stats()
    assert after["hits"] - before["hits"] >= 6


def test_two_repositories_in_one_session_keep_their_own_answers(tmp_path: Path, scope: object) -> None:
    """The same layout in two trees, one a git checkout and one not, each with its own launcher."""
    a = write_tree(tmp_path / "a", {"configs/sft.yaml": AXOLOTL, "scripts/train.sh": launcher(4)}, git=True)
    b = write_tree(tmp_path / "b", {"configs/sft.yaml": AXOLOTL, "scripts/train.sh": launcher(2), "README.md": "# b\n"})
    safepath.set_roots([a, b])
    wa = load_config(a / "configs/sft.yaml").workload
    wb = load_config(b / "configs/sft.yaml").workload
    assert (wa.world_size, wb.world_size) == (4, 2)
    assert Path(wa.sources["world_size"].file or "").is_relative_to(a.resolve())
    assert Path(wb.sources["world_size"].file or "").is_relative_to(b.resolve())
    assert safepath.tree_of(a / "configs/sft.yaml") == [a.resolve(), a.resolve()]  # its repository, and the registered root
    assert safepath.tree_of(b / "configs/sft.yaml") == [b.resolve(), b.resolve()]  # no .git: the audited folder
    # asked again in the same session, in the other order: still each tree's own
    assert load_config(b / "configs/sft.yaml").workload.world_size == 2
    assert load_config(a / "configs/sft.yaml").workload.world_size == 4


def test_new_roots_forget_what_was_kept(tmp_path: Path, scope: object) -> None:
    outer = write_tree(tmp_path / "outer", {"inner/configs/sft.yaml": AXOLOTL})
    config = outer / "inner" / "configs" / "sft.yaml"
    safepath.set_roots([outer])
    assert safepath.tree_of(config)[0] == outer.resolve()
    safepath.set_roots([outer / "inner"])  # a new session's roots: the old answer must not survive
    assert safepath.tree_of(config)[0] == (outer / "inner").resolve()


def test_a_changed_file_is_read_again_and_an_unchanged_one_is_not(tmp_path: Path, scope: object, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_tree(tmp_path / "r", {"README.md": "run on 8 GPUs\n"}, git=True)
    readme = root / "README.md"
    opened: list[str] = []
    real_open = os.open

    def counting_open(path: str | os.PathLike[str], flags: int, *args: int) -> int:
        opened.append(os.fspath(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(safepath.os, "open", counting_open)
    assert safepath.read_text(readme, roots=[root]) == "run on 8 GPUs\n"
    assert safepath.read_text(readme, roots=[root]) == "run on 8 GPUs\n"
    assert len(opened) == 1  # the second read is the kept one
    readme.write_text("run on 4 GPUs, then on 16\n")  # another size: another identity
    assert safepath.read_text(readme, roots=[root]) == "run on 4 GPUs, then on 16\n"
    monkeypatch.setattr(safepath.os, "open", real_open)
    write_atomic(readme, "run on 2 GPUs!\n")  # same size as nothing before, a new inode
    assert safepath.read_text(readme, roots=[root]) == "run on 2 GPUs!\n"


def test_a_kept_file_swapped_for_a_link_out_of_the_tree_is_refused(tmp_path: Path, scope: object) -> None:
    root = write_tree(tmp_path / "r", {"configs/ds.json": "{}\n"}, git=True)
    outside = tmp_path / "secret.json"
    outside.write_text("{}\n")
    target = root / "configs" / "ds.json"
    assert safepath.read_text(target, roots=[root]) == "{}\n"
    target.unlink()
    target.symlink_to(outside)  # the same bytes, outside the tree
    with pytest.raises(safepath.UnsafePath, match="outside the audited tree"):
        safepath.read_text(target, roots=[root])
    target.unlink()
    with pytest.raises(safepath.MissingPath):
        safepath.read_text(target, roots=[root])


def test_the_cli_audits_two_repositories_in_one_process_as_it_audits_each_alone(tmp_path: Path) -> None:
    a = write_tree(tmp_path / "a", {"configs/sft.yaml": AXOLOTL, "scripts/train.sh": launcher(4)}, git=True)
    b = write_tree(tmp_path / "b", {"configs/sft.yaml": AXOLOTL, "scripts/train.sh": launcher(2)}, git=True)
    args = ["--runner", "projection", "--target", "mi300x"]
    main(["audit", str(a), str(b), *args, "--json", str(tmp_path / "both.json")])
    main(["audit", str(a), *args, "--json", str(tmp_path / "a.json")])
    main(["audit", str(b), *args, "--json", str(tmp_path / "b.json")])
    assert not repoindex.active()  # the command's scope is closed

    def reports(name: str) -> list[dict[str, object]]:
        return [{k: v for k, v in i["report"].items() if k not in ("duration_s",)} for i in json.loads((tmp_path / name).read_text())["items"]]

    both = reports("both.json")
    assert len(both) == 2
    assert both == reports("a.json") + reports("b.json")
    assert "4 GPUs" in json.dumps(both[0]) and "2 GPUs" in json.dumps(both[1])


def test_xdist_workers_give_the_serial_report_over_two_repositories(pytester: pytest.Pytester) -> None:
    """Each worker process opens its own scope; the items of two trees come out as in one process."""
    for name, gpus in (("a", 4), ("b", 2)):
        write_tree(
            pytester.path / name,
            {
                "configs/sft.yaml": AXOLOTL,
                "configs/copy.yaml": AXOLOTL,
                "scripts/train.sh": launcher(gpus) + launcher(gpus, "configs/copy.yaml"),
            },
            git=True,
        )
    serial = pytester.runpytest_subprocess("--goblin", "a", "b", "--goblin-json", "serial.json", *ARGS)
    parallel = pytester.runpytest_subprocess("--goblin", "a", "b", "-n", "2", "--goblin-json", "xdist.json", *ARGS)
    assert serial.ret == parallel.ret

    def items(name: str) -> list[dict[str, object]]:
        return [
            {k: v for k, v in i.items() if k != "report"} | {"report": {k: v for k, v in i["report"].items() if k != "duration_s"}}
            for i in json.loads((pytester.path / name).read_text())["items"]
        ]

    expected = items("serial.json")
    assert len(expected) == 4
    assert sorted(items("xdist.json"), key=lambda i: str(i["nodeid"])) == sorted(expected, key=lambda i: str(i["nodeid"]))
    text = json.dumps(expected)
    assert text.count("4 GPUs") >= 2 and text.count("2 GPUs") >= 2


def test_the_kept_llamafactory_answer_is_per_key_and_release() -> None:
    """releases._lf_transformers_lacks is kept per process (lru_cache): each (key, release) keeps its own answer."""
    from pytest_goblin.frameworks.releases import _lf_transformers_lacks

    _lf_transformers_lacks.cache_clear()
    for _ in range(2):  # the second round is answered from the cache, the same way
        assert _lf_transformers_lacks("evaluation_strategy", "0.9.4") is not None  # removed before transformers 4.51
        assert _lf_transformers_lacks("evaluation_strategy", "0.9.3") is None
        assert _lf_transformers_lacks("eval_strategy", "0.9.4") is None
    assert _lf_transformers_lacks.cache_info().hits == 3


def test_real_folder_is_per_folder_and_kept_only_in_a_session(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    link = tmp_path / "link"
    link.symlink_to(a)
    assert safepath.real_folder(link) == str(a)
    link.unlink()
    link.symlink_to(b)
    assert safepath.real_folder(link) == str(b)  # no session: resolved again
    with repoindex.session():
        assert safepath.real_folder(link) == str(b)
        assert safepath.real_folder(a) == str(a)  # another folder, its own answer
        link.unlink()
        link.symlink_to(a)
        assert safepath.real_folder(link) == str(b)  # kept for the session: the tree is taken as fixed
    assert safepath.real_folder(link) == str(a)


def test_large_files_and_files_past_the_budget_are_not_kept(tmp_path: Path, scope: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tree of data files (s1: 3,888 JSON files collected and refused) must not be held in memory."""
    root = write_tree(tmp_path / "r", {"small.md": "x" * 10, "big.json": "y" * 100, "other.md": "z" * 60}, git=True)
    monkeypatch.setattr(repoindex, "KEEP_FILE", 64)
    monkeypatch.setattr(repoindex, "KEEP_TOTAL", 64)
    opened: list[str] = []
    real_open = os.open

    def counting_open(path: str | os.PathLike[str], flags: int, *args: int) -> int:
        opened.append(os.path.basename(os.fspath(path)))
        return real_open(path, flags, *args)

    monkeypatch.setattr(safepath.os, "open", counting_open)
    for _ in range(2):
        for name in ("small.md", "big.json", "other.md"):
            assert len(safepath.read_text(root / name, roots=[root])) in (10, 100, 60)
    # small.md kept (10 bytes); big.json over KEEP_FILE; other.md would pass KEEP_TOTAL (10 + 60 > 64)
    assert opened.count("small.md") == 1
    assert opened.count("big.json") == 2
    assert opened.count("other.md") == 2
