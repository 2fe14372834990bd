"""Regression tests for the second red team (../shared/research/redteam-2026-12-06.md): N1, N4, N8, N11.

Each class is tested as a class: every audited root (pytest and CLI, each way of naming it) is
checked like any other path; every file the shape lookup opens goes through safepath; a
flow-style document is bounded before any round trip; every child Python goblin starts is
isolated from the working directory. Each test fails on e797db6.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import pytest_goblin
from pytest_goblin.errors import ConfigError
from pytest_goblin.formats import load_config

from .conftest import EXAMPLES
from .repo_files import write_tree

BASE = EXAMPLES / "axolotl-llama3-8b-lora.yml"
PACKAGE = Path(pytest_goblin.__file__).parent
ENV = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
MARK = "# OUTSIDE-TEAM-CONFIG-LINE\n"
REFUSED = "leading out of its repository"


@pytest.fixture(autouse=True)
def _fresh_roots() -> Any:
    """Registered roots are process state (set by the CLI and the plugin): start and end clean."""
    from pytest_goblin.safepath import registered_roots, set_roots

    kept = registered_roots()
    set_roots([])
    yield
    set_roots(kept)


def _host(tmp_path: Path, link: str) -> tuple[Path, Path]:
    """The red team's layout: ws/checkout (a repository) whose `configs` is a symlink to `link`,
    and host/secrets beside it holding another team's config. Returns (checkout, outside file)."""
    checkout = tmp_path / "ws" / "checkout"
    (checkout / ".git").mkdir(parents=True)
    secrets = tmp_path / "host" / "secrets"
    secrets.mkdir(parents=True)
    outside = secrets / "other_team.yml"
    outside.write_text(BASE.read_text() + MARK)
    (secrets / "sub").mkdir()
    shutil.copy(outside, secrets / "sub" / "nested.yml")
    (checkout / "configs").symlink_to(link)
    return checkout, outside


def _cli(cwd: Path, *args: str, timeout: int = 60) -> subprocess.CompletedProcess[str]:
    audit = ["--runner", "projection", "--target", "mi300x"] if args[0] == "audit" else []
    cmd = [sys.executable, "-m", "pytest_goblin.cli", *args, *audit]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=ENV)


def _pytest(cwd: Path, *args: str, timeout: int = 60) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", *args, "--goblin-runner", "projection", "--goblin-target", "mi300x", "-p", "no:cacheprovider"]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=ENV)


# ---- N1: the audited root itself -------------------------------------------------------------

LINKS = {"relative": "../../host/secrets", "filesystem-root": "/"}


@pytest.mark.parametrize("form", sorted(LINKS))
def test_n1_cli_refuses_a_root_symlinked_out_of_the_repository_before_any_walk(tmp_path: Path, form: str) -> None:
    checkout, outside = _host(tmp_path, LINKS[form])
    before = outside.read_bytes()
    work = tmp_path / "work"
    work.mkdir()
    start = time.perf_counter()
    # as the action runs it (absolute, from an empty folder), and as a maintainer would (relative, --fix)
    below = "configs/sub" if form == "relative" else "configs/tmp"  # passing through the link
    for cwd, root in ((work, f"{checkout}/configs/"), (checkout, "configs/"), (checkout, below)):
        proc = _cli(cwd, "audit", root, "--json", str(tmp_path / "r.json"), "--md", str(tmp_path / "r.md"), "--fix")
        assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
        assert proc.stderr.count(REFUSED) == 1 and root in proc.stderr and "Traceback" not in proc.stderr
        assert "OUTSIDE-TEAM" not in proc.stdout + proc.stderr
    assert time.perf_counter() - start < 30  # `configs -> /` walked the host for 117 s
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "r.md").exists()
    assert outside.read_bytes() == before  # --fix rewrote it
    proc = _cli(checkout, "parse", "configs/")
    assert proc.returncode == 2 and REFUSED in proc.stderr and "other_team" not in proc.stdout


@pytest.mark.parametrize("form", sorted(LINKS))
def test_n1_pytest_refuses_a_root_symlinked_out_of_the_repository_however_named(tmp_path: Path, form: str) -> None:
    checkout, outside = _host(tmp_path, LINKS[form])
    before = outside.read_bytes()
    (tmp_path / "ini").mkdir()
    (tmp_path / "ini" / "pytest.ini").write_text("[pytest]\ngoblin_paths = configs\n")
    named = {
        "--goblin PATH": ["--goblin", "configs", "--goblin-fix"],
        "positional": ["configs", "--goblin", "--goblin-fix"],
        "goblin_paths": ["--goblin", "-c", str(tmp_path / "ini" / "pytest.ini"), "--rootdir", str(checkout)],
    }
    for how, args in named.items():
        proc = _pytest(checkout, *args, "--goblin-json", "r.json")
        assert proc.returncode == 4, (how, proc.stdout[-2000:], proc.stderr[-2000:])
        assert REFUSED in proc.stderr and "configs" in proc.stderr and "INTERNALERROR" not in proc.stdout + proc.stderr, how
        assert "OUTSIDE-TEAM" not in proc.stdout + proc.stderr and not (checkout / "r.json").exists(), how
    assert outside.read_bytes() == before


def test_n1_a_link_to_another_repository_does_not_become_the_repository(tmp_path: Path) -> None:
    """`configs -> /home/runner/work/other/other`: the target's own `.git` proves nothing."""
    other = tmp_path / "other"
    (other / ".git").mkdir(parents=True)
    shutil.copy(BASE, other / "theirs.yml")
    checkout, _ = _host(tmp_path, str(other))
    proc = _cli(checkout, "audit", "configs")
    assert proc.returncode == 2 and REFUSED in proc.stderr and "theirs.yml" not in proc.stdout


def test_n1_roots_inside_the_repository_and_plain_folders_still_audit(tmp_path: Path) -> None:
    from pytest_goblin.errors import GoblinError
    from pytest_goblin.safepath import audited_root

    checkout = tmp_path / "checkout"
    (checkout / ".git").mkdir(parents=True)
    (checkout / "real").mkdir()
    shutil.copy(BASE, checkout / "real" / "base.yml")
    (checkout / "configs").symlink_to("real")  # a link that stays inside the repository
    proc = _cli(checkout, "audit", "configs", "--json", "r.json")
    assert proc.returncode == 1 and "FAIL" in proc.stdout, proc.stderr
    assert [i["verdict"] for i in json.loads((checkout / "r.json").read_text())["items"]] == ["fail"]
    proc = _pytest(checkout, "--goblin", "configs")
    assert proc.returncode == 1, proc.stdout[-2000:]
    # no repository: the folder that holds the root stands in for it
    plain = tmp_path / "plain"
    (plain / "configs").mkdir(parents=True)
    shutil.copy(BASE, plain / "configs" / "base.yml")
    (plain / "sibling").symlink_to("configs")
    (plain / "escape").symlink_to(tmp_path / "checkout" / "real")
    assert audited_root(plain / "configs") == plain / "configs"
    assert audited_root(plain / "sibling") == plain / "sibling"
    with pytest.raises(GoblinError, match="leading out of the folder that holds it"):
        audited_root(plain / "escape")
    with pytest.raises(GoblinError, match="does not exist"):
        audited_root(plain / "missing")


def test_n1_fix_refuses_a_file_whose_real_path_is_outside_the_repository(tmp_path: Path) -> None:
    """Even with the outside folder registered as an audited root (as the symlinked root did),
    --goblin-fix writes only inside the repository found from the path as written."""
    from pytest_goblin.backends import make_backend_or_planner
    from pytest_goblin.loop import audit_sync, final_report
    from pytest_goblin.patching import fix_note
    from pytest_goblin.safepath import set_roots
    from pytest_goblin.settings import Settings

    checkout, outside = _host(tmp_path, "../../host/secrets")
    before = outside.read_bytes()
    set_roots([outside.parent])
    backend, notes = make_backend_or_planner("planner")
    report = final_report(audit_sync(BASE, backend=backend, settings=Settings(runner="projection", target="mi300x"), notes=notes))
    assert report is not None and report.patch is not None
    note = fix_note(checkout / "configs" / "other_team.yml", report.patch, load_config(outside))
    assert note is not None and "did not write" in note and "outside the audited tree" in note
    assert outside.read_bytes() == before


# ---- N8: the model shape lookup --------------------------------------------------------------

SHAPE = {"num_hidden_layers": 77, "hidden_size": 4096, "num_attention_heads": 32, "vocab_size": 32000, "model_type": "llama"}


def _model(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(SHAPE))
    return folder


def _config(repo: Path, model: str, name: str = "c.yml") -> Path:
    path = repo / "configs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BASE.read_text().replace("base_model: meta-llama/Llama-3.1-8B-Instruct", f"base_model: {model}"))
    return path


def _repo(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "repo", {}, git=True)


@pytest.mark.parametrize("how", ["absolute", "dotdot", "linked-folder"])
def test_n8_a_model_folder_outside_the_tree_is_named_not_read(tmp_path: Path, how: str) -> None:
    repo = _repo(tmp_path)
    outside = _model(tmp_path / "host" / "model")
    ref = {"absolute": str(outside), "dotdot": "../../host/model", "linked-folder": "./linked"}[how]
    if how == "linked-folder":
        (repo / "configs").mkdir()
        (repo / "configs" / "linked").symlink_to(outside)
    w = load_config(_config(repo, ref)).workload
    assert not w.model.known and w.model.n_layers is None  # the 77 layers outside are not an oracle
    assert any(f"model folder {ref!r} was not read" in n and "outside the audited tree" in n for n in w.notes), w.notes


def test_n8_the_working_directory_outside_the_tree_is_not_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repo(tmp_path)
    _model(tmp_path / "cwd" / "org" / "model")
    monkeypatch.chdir(tmp_path / "cwd")
    assert not load_config(_config(repo, "org/model")).workload.model.known


def _safetensors(path: Path, params: int) -> None:
    header = json.dumps({"w": {"dtype": "F32", "shape": [params], "data_offsets": [0, 0]}}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header)


@pytest.mark.parametrize("trap", ["fifo", "link-to-fifo-outside", "link-to-fifo-inside"])
def test_n8_a_fifo_safetensors_never_blocks(tmp_path: Path, trap: str) -> None:
    repo = _repo(tmp_path)
    model = _model(repo / "models" / "m")
    _safetensors(model / "a.safetensors", 1000)
    if trap == "fifo":
        os.mkfifo(model / "w.safetensors")
    elif trap == "link-to-fifo-outside":
        os.mkfifo(tmp_path / "host.fifo")
        (model / "w.safetensors").symlink_to(tmp_path / "host.fifo")
    else:
        os.mkfifo(repo / "pipe")
        (model / "w.safetensors").symlink_to(repo / "pipe")
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest_goblin.cli", "parse", str(_config(repo, "../models/m"))], capture_output=True, text=True, timeout=60, env=ENV
    )
    assert time.perf_counter() - start < 30 and proc.returncode == 0, proc.stderr
    assert "known shape" in proc.stdout  # config.json read; the exact count is given up, not waited for


def test_n8_a_local_model_inside_the_repository_still_gives_the_exact_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repo(tmp_path)
    model = _model(repo / "models" / "m")
    _safetensors(model / "a.safetensors", 2_000_000_000)
    _safetensors(model / "b.safetensors", 500_000_000)
    for ref in ("../models/m", str(model), "models/m"):
        w = load_config(_config(repo, ref)).workload
        assert w.model.known and w.model.n_layers == 77 and w.model.params_b == 2.5, ref
        assert not any("was not read" in n for n in w.notes)
    monkeypatch.chdir(repo / "configs")  # the working directory is the config's folder: its parents still count
    assert load_config(_config(repo, "models/m")).workload.model.n_layers == 77


def test_n8_the_hf_cache_is_read_inside_itself_through_the_gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner's HF cache is trusted as a place, its files still pass the gate: a snapshot's
    link into the cache's blobs is read; a FIFO or a link out of the cache is not."""
    from pytest_goblin import hubconfig

    cache = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.delenv("GOBLIN_HUB", raising=False)
    (cache / "blobs").mkdir(parents=True)
    (cache / "blobs" / "abc").write_text(json.dumps(SHAPE))
    for repo_id, target in (("acme/good", "../../../blobs/abc"), ("acme/fifo", None), ("acme/out", str(tmp_path / "outside.json"))):
        snap = cache / f"models--{repo_id.replace('/', '--')}" / "snapshots" / "1"
        snap.mkdir(parents=True)
        if target is None:
            os.mkfifo(snap / "config.json")
        else:
            (snap / "config.json").symlink_to(target)
    (tmp_path / "outside.json").write_text(json.dumps(SHAPE))
    start = time.perf_counter()
    shapes = {}
    for repo_id in ("acme/good", "acme/fifo", "acme/out"):
        hubconfig.shape_from_hub.cache_clear()
        shapes[repo_id] = hubconfig.shape_from_hub(repo_id)
    hubconfig.shape_from_hub.cache_clear()
    assert time.perf_counter() - start < 10
    assert shapes["acme/good"] is not None and shapes["acme/good"].n_layers == 77
    assert shapes["acme/fifo"] is None and shapes["acme/out"] is None


# ---- N11: flow-style documents -----------------------------------------------------------------


def test_n11_a_large_flow_mapping_is_one_named_error_before_any_round_trip(tmp_path: Path) -> None:
    keys = ", ".join(f"k{i}: {i}" for i in range(24_000))
    path = tmp_path / "flow_many.yml"
    path.write_text("{base_model: meta-llama/Llama-3.1-8B-Instruct, datasets: [{path: x}], micro_batch_size: 1, " + keys + "}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    error = info.value
    assert str(path) in str(error) and "flow-style mapping" in error.message and "\n" not in error.message
    assert error.hint is not None and "block style" in error.hint
    nested = tmp_path / "nested.yml"  # a block document whose flow mapping sits under a key
    nested.write_text("base_model: x\nmicro_batch_size: 1\ntraining: {" + ", ".join(f"k{i}: {i}" for i in range(2500)) + "}\n")
    with pytest.raises(ConfigError, match="flow-style mapping"):
        load_config(nested)


def test_n11_small_flow_documents_and_large_block_documents_are_still_audited(tmp_path: Path) -> None:
    from pytest_goblin.formats.textedit import apply_yaml_edits

    flow = tmp_path / "flow.yml"
    flow.write_text("{base_model: meta-llama/Llama-3.1-8B-Instruct, datasets: [{path: x}], micro_batch_size: 1, gradient_accumulation_steps: 16}\n")
    loaded = load_config(flow)
    assert "micro_batch_size: 4" in apply_yaml_edits(loaded.text, loaded.data, {"micro_batch_size": 4})
    block = tmp_path / "block.yml"  # 4,000 keys, block style: the line editor, no round trip
    block.write_text(BASE.read_text() + "".join(f"k{i}: {i}\n" for i in range(4000)))
    assert load_config(block).workload.micro_batch_size == 1


# ---- N4: child processes goblin starts -------------------------------------------------------


def _planted_checkout(tmp_path: Path) -> tuple[Path, Path]:
    """A checkout with its own pytest_goblin/runners/worker.py that leaves a mark when run."""
    checkout = tmp_path / "checkout"
    pwned = tmp_path / "PWNED_worker"
    files = {
        "pytest_goblin/__init__.py": "",
        "pytest_goblin/runners/__init__.py": "",
        "pytest_goblin/runners/worker.py": f"open({str(pwned)!r}, 'w').write('x'); print('{{}}')\n",
    }
    write_tree(checkout, files)
    return checkout, pwned


def test_n4_the_torch_worker_is_goblins_own_whatever_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    from pytest_goblin.hardware import get_hardware
    from pytest_goblin.runners.torch_runner import TorchRunner

    checkout, pwned = _planted_checkout(tmp_path)
    (checkout / "sitecustomize.py").write_text(f"open({str(pwned)!r}, 'w').write('site')\n")
    monkeypatch.chdir(checkout)
    w = load_config(BASE).workload.model_copy(update={"micro_batch_size": 1, "gradient_accumulation": 1})
    m = TorchRunner(timeout_s=240).run(w, get_hardware("mi300x"), run_id="r1", variant="baseline", steps=2)
    assert not pwned.exists()
    assert m.evidence == "measured" and m.runner == "torch" and len(m.step_time_s) == 2


def test_n4_the_package_probe_does_not_look_in_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_goblin.runners.command import missing_modules

    checkout = tmp_path / "checkout"
    (checkout / "goblin_probe_only_here").mkdir(parents=True)
    (checkout / "goblin_probe_only_here" / "__init__.py").write_text("")
    monkeypatch.chdir(checkout)
    assert missing_modules(sys.executable, ["goblin_probe_only_here", "json"]) == ["goblin_probe_only_here"]


# Third red team (round of 2026-12-06, on the merged fixes): D2-D4, roots that reached outside
# through the working directory, a tarball's inner link, and a folded `..`.


def _stand_in(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """cd into `folder` as a shell does: the process's working directory and $PWD, which keeps
    any link the path went through."""
    monkeypatch.chdir(folder)
    monkeypatch.setenv("PWD", str(folder))


def _victim(folder: Path) -> tuple[Path, str]:
    folder.mkdir(parents=True, exist_ok=True)
    victim = folder / "victim.yml"
    victim.write_text(BASE.read_text() + MARK)
    return victim, victim.read_text()


def test_d2_a_relative_root_inside_a_link_the_user_cd_into_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`cd checkout/configs/exp && goblin audit . --fix` where exp -> another repository's configs:
    os.getcwd() has the link resolved, so the root looked like the other repository's own."""
    from pytest_goblin.cli import main

    checkout = tmp_path / "ws" / "checkout"
    (checkout / "configs").mkdir(parents=True)
    (checkout / ".git").mkdir()
    (tmp_path / "other" / ".git").mkdir(parents=True)
    victim, before = _victim(tmp_path / "other" / "configs")
    (checkout / "configs" / "exp").symlink_to("../../../other/configs")
    logical = checkout / "configs" / "exp"
    monkeypatch.chdir(logical)
    monkeypatch.setenv("PWD", str(logical))  # what the shell keeps after `cd`
    assert main(["audit", ".", "--fix"]) == 2
    assert victim.read_text() == before


def test_d3_without_a_repository_a_root_below_a_link_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unpacked tarball: `configs -> ../host`, `goblin audit configs/team --fix` wrote into host/."""
    from pytest_goblin.cli import main

    victim, before = _victim(tmp_path / "host" / "team")
    tarball = tmp_path / "tarball"
    tarball.mkdir()
    (tarball / "configs").symlink_to("../host")
    _stand_in(monkeypatch, tarball)
    assert main(["audit", "configs/team", "--fix"]) == 2
    assert victim.read_text() == before
    (tmp_path / "other" / "configs" / "llm").mkdir(parents=True)
    (tmp_path / "other" / ".git").mkdir()
    (tarball / "c2").symlink_to("../other/configs")
    assert main(["audit", "c2/llm"]) == 2  # a linked folder lends no `.git`


def test_d4_a_folded_dotdot_is_walked_as_it_was_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`goblin audit checkout/configs/x/..` with x -> outside: the check folds `..` lexically; the
    walk followed the kernel into x's target and listed its file names."""
    from pytest_goblin.cli import main

    ws = tmp_path / "ws"
    checkout = ws / "checkout"
    (checkout / ".git").mkdir(parents=True)
    shutil.copy(BASE, (checkout / "configs").mkdir() or checkout / "configs" / "own.yml")
    _victim(tmp_path / "host" / "secrets" / "sub")
    (tmp_path / "host" / "secrets" / "private_name.yml").write_text("not: a config\n")
    (checkout / "configs" / "x").symlink_to("../../../host/secrets/sub")
    _stand_in(monkeypatch, ws)
    out = tmp_path / "r.json"
    main(["audit", "checkout/configs/x/..", "--json", str(out)])
    report = json.loads(out.read_text())
    shown = [i["path"] for i in report["items"]] + list(report["not_collected"])
    assert any(p.endswith("own.yml") for p in shown), shown
    assert not [p for p in shown if "private_name" in p or "victim" in p], shown
    capsys.readouterr()


# Red team round 4 (on a81da6e): R4-1 `..` from inside a link, R4-2 a user's link above the
# repository while standing above it, R4-4 `.` inside a tarball's link.


def test_r4_1_dotdot_from_inside_a_link_is_walked_as_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_goblin.cli import main

    checkout = tmp_path / "x1" / "checkout"
    (checkout / ".git").mkdir(parents=True)
    (checkout / "configs").mkdir()
    shutil.copy(BASE, checkout / "configs" / "own.yml")
    victim, before = _victim(tmp_path / "x1" / "host" / "dir")
    outer, outer_before = _victim(tmp_path / "x1" / "host")
    (checkout / "configs" / "exp").symlink_to("../../host/dir")
    logical = checkout / "configs" / "exp"
    _stand_in(monkeypatch, logical)
    out = tmp_path / "r.json"
    main(["audit", "..", "--fix", "--json", str(out)])
    shown = [i["path"] for i in json.loads(out.read_text())["items"]]
    assert any(p.endswith("own.yml") for p in shown) and not [p for p in shown if "victim" in p], shown
    assert victim.read_text() == before and outer.read_text() == outer_before


def test_r4_2_a_users_link_above_the_repository_does_not_hide_a_link_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_goblin.cli import main

    ws = tmp_path / "cases" / "ws"
    checkout = ws / "checkout"
    (checkout / ".git").mkdir(parents=True)
    victim, before = _victim(tmp_path / "cases" / "host" / "secrets")
    (checkout / "configs").symlink_to("../../host/secrets")
    (tmp_path / "wslink").symlink_to(ws)  # the user's own link, above the repository
    _stand_in(monkeypatch, tmp_path)
    assert main(["audit", "wslink/checkout/configs/", "--fix"]) == 2
    assert victim.read_text() == before


def test_r4_4_dot_inside_a_tarballs_link_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_goblin.cli import main

    victim, before = _victim(tmp_path / "host" / "team")
    tarball = tmp_path / "tarball"
    tarball.mkdir()
    (tarball / "configs").symlink_to("../host")
    logical = tarball / "configs" / "team"
    _stand_in(monkeypatch, logical)
    assert main(["audit", ".", "--fix"]) == 2
    assert victim.read_text() == before


# Red team round 5 (on 9cfd258): H1 pytest from a working directory reached through a link,
# H2 a tarball's link straight at another checkout.


def test_h1_pytest_from_a_linked_working_directory_collects_goblin_items_only(tmp_path: Path) -> None:
    """$PWD through a link made the roots the logical path while pytest collected the physical
    one: every collected file looked outside the roots, the vetoes never fired, the checkout's
    test module, package __init__ and doctest ran, and the doctest passed the session."""
    real = tmp_path / "real" / "checkout"
    (real / ".git").mkdir(parents=True)
    configs = real / "configs"
    configs.mkdir()
    shutil.copy(BASE, configs / "base.yml")
    marks = {name: tmp_path / f"PWNED_{name}" for name in ("module", "init", "doctest")}
    (configs / "test_pwn.py").write_text(f"open({str(marks['module'])!r}, 'w').write('x')\n")
    (configs / "__init__.py").write_text(f"open({str(marks['init'])!r}, 'w').write('x')\n")
    (configs / "test_notes.txt").write_text(f">>> open({str(marks['doctest'])!r}, 'w').write('x')\n1\n")
    (tmp_path / "link").symlink_to("real")
    logical = tmp_path / "link" / "checkout"
    empty = tmp_path / "empty.ini"
    empty.write_text("[pytest]\n")
    env = {**ENV, "PWD": str(logical)}
    cmd = [sys.executable, "-P", "-m", "pytest", "--goblin", "configs", "-c", str(empty), "--noconftest", "-p", "no:cacheprovider", "-q"]
    done = subprocess.run(cmd, cwd=logical, env=env, capture_output=True, text=True, timeout=120)
    assert not [n for n, m in marks.items() if m.exists()], done.stdout
    assert done.returncode == 1 and "base.yml" in done.stdout and "1 failed" in done.stdout, done.stdout[-2000:]


def test_h2_a_tarballs_link_straight_at_another_checkout_lends_no_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_goblin.cli import main

    (tmp_path / "other" / ".git").mkdir(parents=True)
    victim, before = _victim(tmp_path / "other" / "configs" / "llm")
    tarball = tmp_path / "tarball"
    tarball.mkdir()
    (tarball / "c3").symlink_to("../other")
    _stand_in(monkeypatch, tarball)
    assert main(["audit", "c3/configs", "--fix"]) == 2
    _stand_in(monkeypatch, tmp_path)
    assert main(["audit", str(tarball / "c3" / "configs"), "--fix"]) == 2  # absolute, from elsewhere
    assert victim.read_text() == before


def test_a_users_own_link_above_the_project_still_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Must not refuse: ~/code -> /mnt/ssd/code, standing in a project under it."""
    from pytest_goblin.cli import main

    proj = tmp_path / "ssd" / "code" / "proj"
    (proj / ".git").mkdir(parents=True)
    (proj / "configs").mkdir()
    shutil.copy(BASE, proj / "configs" / "a.yml")
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "code").symlink_to(tmp_path / "ssd" / "code")
    logical = tmp_path / "home" / "code" / "proj"
    _stand_in(monkeypatch, logical)
    assert main(["audit", "configs"]) == 1  # audited (the example fails), not refused (2)


def test_round6_a_tarball_link_pointing_up_lends_no_neighbouring_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team round 6: `c5 -> ..` in a tarball, `cd tar/c5/other && goblin audit . --fix` wrote
    into the neighbouring checkout `other/`."""
    from pytest_goblin.cli import main

    (tmp_path / "other" / ".git").mkdir(parents=True)
    victim, before = _victim(tmp_path / "other" / "secrets")
    (tmp_path / "tar").mkdir()
    (tmp_path / "tar" / "c5").symlink_to("..")
    logical = tmp_path / "tar" / "c5" / "other"
    _stand_in(monkeypatch, logical)
    assert main(["audit", ".", "--fix"]) == 2
    assert victim.read_text() == before
