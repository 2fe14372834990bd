"""CI at scale: xdist and shards give the serial report, GitHub outputs, baselines, the sticky comment."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pytest_goblin.cli import main
from pytest_goblin.devices import gpu_count, pin_worker
from pytest_goblin.github_comment import MARKER
from pytest_goblin.outcome import SessionReport

from .conftest import EXAMPLES

ARGS = ("--goblin-runner", "projection", "--goblin-target", "mi300x", "-p", "no:cacheprovider")


@pytest.fixture
def configs(pytester: pytest.Pytester) -> Path:
    """The examples plus copies, so that shards and workers have several items each."""
    root = pytester.path / "configs"
    root.mkdir()
    for f in EXAMPLES.iterdir():
        shutil.copy(f, root / f.name)
        if f.suffix in (".yml", ".yaml") and "accelerate" not in f.name:
            shutil.copy(f, root / f"copy-{f.name}")
    return root


def _items(path: Path) -> list[dict[str, Any]]:
    return [item.model_dump(mode="json") for item in SessionReport.model_validate_json(path.read_text()).items]


def test_xdist_and_shards_give_the_serial_report(pytester: pytest.Pytester, configs: Path) -> None:
    serial = pytester.runpytest_subprocess("--goblin", "configs", "--goblin-json", "serial.json", "--goblin-md", "serial.md", *ARGS)
    assert serial.ret == 1  # the examples include failing configs
    parallel = pytester.runpytest_subprocess("--goblin", "configs", "-n", "2", "--goblin-json", "xdist.json", "--goblin-md", "xdist.md", *ARGS)
    assert parallel.ret == 1
    parallel.stdout.fnmatch_lines(["*not collected: 1 files*"])  # gathered from the workers
    expected = _items(pytester.path / "serial.json")
    assert len(expected) == 8
    assert _items(pytester.path / "xdist.json") == expected
    assert (pytester.path / "xdist.md").read_text() == (pytester.path / "serial.md").read_text()

    for k in (1, 2):
        pytester.runpytest_subprocess("--goblin", "configs", "--goblin-shard", f"{k}/2", "--goblin-json", f"shard{k}.json", *ARGS)
    shards = [_items(pytester.path / f"shard{k}.json") for k in (1, 2)]
    assert shards[0] and shards[1] and not {i["nodeid"] for i in shards[0]} & {i["nodeid"] for i in shards[1]}
    rc = main(
        [
            "merge",
            str(pytester.path / "shard1.json"),
            str(pytester.path / "shard2.json"),
            "--json",
            str(pytester.path / "merged.json"),
            "--md",
            str(pytester.path / "merged.md"),
            "--junit",
            str(pytester.path / "merged.xml"),
        ]
    )
    assert rc == 1
    assert _items(pytester.path / "merged.json") == expected
    assert (pytester.path / "merged.md").read_text() == (pytester.path / "serial.md").read_text()
    assert (pytester.path / "merged.xml").read_text().count("<testcase") == 8


def test_merge_refuses_overlapping_shards_and_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "r.json"
    assert main(["audit", str(EXAMPLES), "--runner", "projection", "--target", "mi300x", "--json", str(report)]) == 1
    assert main(["merge", str(report), str(report)]) == 2
    assert "more than one report" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["merge", str(bad)]) == 2
    assert "not a pytest-goblin JSON report" in capsys.readouterr().err


def test_bad_shard_option_is_a_usage_error(pytester: pytest.Pytester, configs: Path) -> None:
    result = pytester.runpytest_subprocess("--goblin", "configs", "--goblin-shard", "3/2", *ARGS)
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--goblin-shard '3/2': K must be between 1 and N*"])


def test_github_summary_annotations_and_sarif(pytester: pytest.Pytester, configs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = pytester.path / "step_summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = pytester.runpytest_subprocess("--goblin", "configs", "--goblin-sarif", "r.sarif", *ARGS)
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "## pytest-goblin" in text and "```mermaid" in text
    assert "<details><summary><b>" in text and "This edit alone:" in text and "```diff" in text
    errors = [line for line in result.stdout.lines if line.startswith("::error file=configs/")]
    assert errors and all(",line=" in e or "title=goblin audit error" in e for e in errors[:3])
    assert len(errors) <= 10
    doc = json.loads((pytester.path / "r.sarif").read_text())
    assert doc["version"] == "2.1.0"
    results = doc["runs"][0]["results"]
    rule_ids = {r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert results and all(r["ruleId"] in rule_ids for r in results)
    located = [r for r in results if r["locations"][0]["physicalLocation"]["region"]["startLine"] > 1]
    assert located and located[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("configs/")


def test_baseline_fails_only_on_what_got_worse(pytester: pytest.Pytester, configs: Path) -> None:
    pytester.runpytest_subprocess("--goblin", "configs", "--goblin-json", "main.json", *ARGS)
    same = pytester.runpytest_subprocess("--goblin", "configs", "--goblin-baseline", "main.json", "--goblin-json", "pr.json", *ARGS)
    assert same.ret == 0, same.stdout.str()  # every failure is known on the base branch
    assert all(i["verdict"] != "fail" for i in _items(pytester.path / "pr.json"))
    assert any("known on the base branch" in i["message"] for i in _items(pytester.path / "pr.json"))
    # the pull request makes one config worse: checkpointing on and the for-loop AdamW
    tuned = configs / "trl-smollm3-3b-sft-tuned.yaml"
    text = tuned.read_text()
    tuned.write_text(
        text.replace("activation_checkpointing: false", "activation_checkpointing: true").replace("optim: adamw_torch_fused", "optim: adamw_torch")
    )
    worse = pytester.runpytest_subprocess("--goblin", "configs", "--goblin-baseline", "main.json", "--goblin-json", "pr2.json", *ARGS)
    assert worse.ret == 1
    failed = [i for i in _items(pytester.path / "pr2.json") if i["verdict"] == "fail"]
    assert [i["path"] for i in failed] == ["configs/trl-smollm3-3b-sft-tuned.yaml"]
    assert "new:" in failed[0]["message"] or "worse than the base branch" in failed[0]["message"]


def test_bad_baseline_is_a_usage_error(pytester: pytest.Pytester, configs: Path) -> None:
    (pytester.path / "main.json").write_text("not json")
    result = pytester.runpytest_subprocess("--goblin", "configs", "--goblin-baseline", "main.json", *ARGS)
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*main.json: not a pytest-goblin JSON report*"])


# ---- the sticky comment against a local fake of the GitHub REST API ------------------------


class FakeGitHub:
    """Issue comments of one PR, served the way api.github.com does (paths, verbs, JSON)."""

    def __init__(self) -> None:
        self.comments: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, str]] = []
        self.next_id = 1000
        self.forbid = False

    def add(self, body: str, login: str = "github-actions[bot]") -> dict[str, Any]:
        self.next_id += 1
        user = {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"}
        c = {"id": self.next_id, "body": body, "user": user, "html_url": f"https://github.test/c/{self.next_id}"}
        self.comments.append(c)
        return c


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, str]]:
    state = FakeGitHub()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def _send(self, code: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            return dict(json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0)))))

        def do_GET(self) -> None:
            state.requests.append(("GET", self.path, self.headers.get("Authorization", "")))
            path, _, query = self.path.partition("?")
            params = dict(p.split("=") for p in query.split("&") if p)
            if path == "/repos/acme/train/issues/7/comments":
                page, per = int(params.get("page", 1)), int(params.get("per_page", 30))
                self._send(200, state.comments[(page - 1) * per : page * per])
            else:
                self._send(404, {"message": "Not Found"})

        def do_POST(self) -> None:
            state.requests.append(("POST", self.path, self.headers.get("Authorization", "")))
            if state.forbid:
                self._send(403, {"message": "Resource not accessible by integration"})
            elif self.path == "/repos/acme/train/issues/7/comments":
                self._send(201, state.add(self._body()["body"]))
            else:
                self._send(404, {"message": "Not Found"})

        def do_PATCH(self) -> None:
            state.requests.append(("PATCH", self.path, self.headers.get("Authorization", "")))
            cid = int(self.path.rsplit("/", 1)[-1])
            for c in state.comments:
                if c["id"] == cid and self.path.startswith("/repos/acme/train/issues/comments/"):
                    c["body"] = self._body()["body"]
                    self._send(200, c)
                    return
            self._send(404, {"message": "Not Found"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_sticky_comment_is_created_then_updated_in_place(
    github: tuple[FakeGitHub, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state, url = github
    for i in range(120):  # the sticky comment will land on the second page
        state.add(f"review comment {i}", login=f"reviewer{i % 3}")
    others = json.loads(json.dumps(state.comments))
    report = tmp_path / "r.json"
    main(["audit", str(EXAMPLES), "--runner", "projection", "--target", "mi300x", "--json", str(report)])
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_testtoken")
    argv = ["comment", "--report", str(report), "--repo", "acme/train", "--pr", "7", "--api-url", url]
    assert main(argv) == 0
    assert "created comment" in capsys.readouterr().out
    assert len(state.comments) == 121
    sticky = state.comments[-1]
    assert sticky["body"].startswith(MARKER) and "## pytest-goblin" in sticky["body"]
    assert main(argv) == 0
    assert "updated comment" in capsys.readouterr().out
    assert len(state.comments) == 121 and state.comments[-1]["id"] == sticky["id"]
    assert state.comments[:120] == others  # no other comment touched
    assert [m for m, _p, _a in state.requests].count("POST") == 1
    assert [m for m, _p, _a in state.requests].count("PATCH") == 1
    assert all(auth == "Bearer ghs_testtoken" for _m, _p, auth in state.requests)


def test_forbidden_on_a_fork_is_a_warning_not_a_failure(
    github: tuple[FakeGitHub, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state, url = github
    state.forbid = True
    report = tmp_path / "r.json"
    main(["audit", str(EXAMPLES), "--runner", "projection", "--target", "mi300x", "--json", str(report)])
    capsys.readouterr()
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_readonly")
    assert main(["comment", "--report", str(report), "--repo", "acme/train", "--pr", "7", "--api-url", url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("::warning") and "read-only" in out and "ghs_readonly" not in out
    assert state.comments == []


def test_comment_without_token_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "r.json"
    main(["audit", str(EXAMPLES), "--runner", "projection", "--target", "mi300x", "--json", str(report)])
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    assert main(["comment", "--report", str(report), "--repo", "acme/train", "--pr", "7", "--api-url", "http://127.0.0.1:9"]) == 1
    assert "set GITHUB_TOKEN" in capsys.readouterr().err


# ---- devices -------------------------------------------------------------------------------


def test_each_xdist_worker_gets_its_own_gpu(tmp_path: Path) -> None:
    nodes = tmp_path / "nodes"
    for i, version in enumerate(["0", "90402", "90402", "90402"]):
        (nodes / str(i)).mkdir(parents=True)
        (nodes / str(i) / "properties").write_text(f"gfx_target_version {version}\n")
    assert gpu_count(nodes, tmp_path / "dev") == 3
    env: dict[str, str] = {}
    assert pin_worker("gw4", 3, env) == "1"
    assert env == {"HIP_VISIBLE_DEVICES": "1", "CUDA_VISIBLE_DEVICES": "1"}
    user: dict[str, str] = {"HIP_VISIBLE_DEVICES": "5"}
    assert pin_worker("gw0", 3, user) is None and user == {"HIP_VISIBLE_DEVICES": "5"}
    assert pin_worker("master", 3, {}) is None
    assert pin_worker("gw0", 0, {}) is None
    dev = tmp_path / "dev"
    dev.mkdir()
    for name in ("nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm"):
        (dev / name).touch()
    assert gpu_count(tmp_path / "absent", dev) == 2


# ---- progress and workflows ------------------------------------------------------------------


def test_verbose_run_shows_live_progress_lines(pytester: pytest.Pytester, configs: Path) -> None:
    result = pytester.runpytest_subprocess("--goblin", "configs/axolotl-llama3-8b-lora.yml", "-v", *ARGS)
    result.stdout.fnmatch_lines(["*goblin axolotl-llama3-8b-lora.yml: step 1: parse_config*", "*goblin axolotl-llama3-8b-lora.yml: step * benchmark baseline*"])
    quiet = pytester.runpytest_subprocess("--goblin", "configs/axolotl-llama3-8b-lora.yml", *ARGS)
    assert "step 1: parse_config" not in quiet.stdout.str()  # projected audits are quick: no noise


def test_cli_progress_bar_follows_the_steps() -> None:
    from pytest_goblin.cli import _progress
    from pytest_goblin.events import Event

    with _progress(Path("a.yaml"), enabled=False) as off:
        assert off is None
    import io

    from rich.console import Console

    out = io.StringIO()
    with _progress(Path("a.yaml"), enabled=True, console=Console(file=out, force_terminal=True, width=100)) as on_event:
        on_event(Event(type="tool_call", data={"id": "c5", "name": "benchmark", "step": 5, "arguments": {"variant": "p1"}}))
        on_event(Event(type="thought", data={"text": "not shown"}))
    shown = out.getvalue()
    assert "a.yaml: step 5: benchmark p1" in shown and "not shown" not in shown


WORKFLOWS = Path(__file__).resolve().parent.parent / ".github"


def _yaml(path: Path) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(path.read_text())


def _on(wf: dict[str, Any]) -> dict[str, Any]:
    return dict(wf.get("on") or wf.get(True) or {})  # YAML 1.1 readers turn the key `on` into True


def _scripts(steps: list[dict[str, Any]]) -> str:
    return "\n".join(str(step.get("run", "")) for step in steps)


def test_user_workflows_are_least_privilege_and_fork_safe() -> None:
    """D6 / D16: the trust model of docs/trust-model.md, checked on the shipped files."""
    audit = _yaml(WORKFLOWS / "workflows" / "goblin-rocm.yml")
    measure = _yaml(WORKFLOWS / "workflows" / "goblin-rocm-measure.yml")
    comment = _yaml(WORKFLOWS / "workflows" / "goblin-rocm-comment.yml")
    # Every pull request, forks included: GitHub-hosted, read-only, goblin's own code only.
    assert set(_on(audit)) == {"pull_request"}
    assert audit["permissions"] == {"contents": "read"}
    for job in audit["jobs"].values():
        assert "self-hosted" not in str(job["runs-on"]) and str(job["runs-on"]).startswith("ubuntu-")
        goblin = [s for s in job["steps"] if "actions/goblin" in str(s.get("uses", ""))]
        assert goblin and all(s["with"]["mode"] == "project" for s in goblin)
        assert not any(str(s.get("uses", "")).startswith("./") for s in job["steps"])  # no action from the checkout
        checkout = next(s for s in job["steps"] if "actions/checkout" in str(s.get("uses", "")))
        assert checkout["with"]["persist-credentials"] is False and checkout["with"]["path"]
        assert "pytest" not in _scripts(job["steps"])
    # The self-hosted GPU only from events whose workflow file is the default branch's.
    triggers = set(_on(measure))
    assert triggers <= {"workflow_dispatch", "pull_request_target", "push"} and "pull_request" not in triggers
    job = measure["jobs"]["measure"]
    assert job["runs-on"] == ["self-hosted", "rocm"]
    condition = " ".join(str(job["if"]).split())
    assert "workflow_dispatch" in condition and "github.event.label.name == 'goblin-measure'" in condition
    assert "head.repo.full_name == github.repository" in condition
    assert "github.event.action == 'labeled'" in condition  # a label is not a standing pass for later pushes
    checkout = next(s for s in job["steps"] if "actions/checkout" in str(s.get("uses", "")))
    assert checkout["with"]["persist-credentials"] is False and "head.sha" in checkout["with"]["ref"]
    assert all(s["with"]["mode"] == "measure" for s in job["steps"] if "actions/goblin" in str(s.get("uses", "")))
    assert measure["permissions"] == {"contents": "read"}
    # The comment job: the PR number comes from the workflow_run event, never from the artifact.
    assert set(comment["on"]["workflow_run"]["workflows"]) == {audit["name"], measure["name"]}
    assert comment["permissions"]["pull-requests"] == "write" and "contents" not in {k for k, v in comment["permissions"].items() if v == "write"}
    steps = comment["jobs"]["comment"]["steps"]
    assert not any("checkout" in str(s.get("uses", "")) for s in steps)  # never runs the PR's code
    script = _scripts(steps)
    assert "pr-number" not in script and "HEAD_SHA" in script and "head.sha ==" in script
    envs = {k: v for s in steps for k, v in (s.get("env") or {}).items()}
    assert envs["HEAD_SHA"] == "${{ github.event.workflow_run.head_sha }}"
    # No workflow lists itself in its own trigger paths; no `${{ }}` spliced into a shell script.
    for path in sorted((WORKFLOWS / "workflows").glob("*.yml")):
        wf = _yaml(path)
        for trigger in _on(wf).values():
            paths = (trigger or {}).get("paths", []) if isinstance(trigger, dict) else []
            assert not any(".github" in p for p in paths), (path.name, paths)
        for job in wf["jobs"].values():
            assert "timeout-minutes" in job
            for step in job["steps"]:
                uses = step.get("uses", "")
                assert not uses or ("@" in uses and not uses.startswith("./")), uses  # pinned: see the test below
                assert "${{" not in str(step.get("run", "")), (path.name, step.get("run"))


def test_composite_action_is_safe_on_untrusted_checkouts() -> None:
    action = _yaml(WORKFLOWS / "actions" / "goblin" / "action.yml")
    assert action["runs"]["using"] == "composite"
    assert action["inputs"]["paths"]["required"] is True
    assert action["inputs"]["mode"]["default"] == "project" and action["inputs"]["trusted"]["default"] == "false"
    steps = action["runs"]["steps"]
    script = _scripts(steps)
    assert all(step.get("shell") == "bash" for step in steps if "run" in step)
    assert all("${{" not in str(step.get("run", "")) for step in steps)  # inputs reach scripts as env vars only
    # untrusted modes: the console script, from a venv and a working folder outside the checkout
    assert '"$bin/goblin" audit' in script and "--runner projection" not in script and "runner=projection" in script
    audit = next(s for s in steps if s.get("name") == "Audit")
    assert audit["env"]["PYTHONSAFEPATH"] == "1" and "goblin-work" in audit["working-directory"]
    # pytest mode: refused unless trusted, and then blind to the checkout's conftest and ini files
    assert 'if [ "$GOBLIN_TRUSTED" != "true" ]' in script
    for flag in (
        "--noconftest",
        "-c ",
        "-o goblin_command=",
        "-P -m pytest",
        "--goblin-json",
        "--goblin-md",
        "--goblin-sarif",
        "--junitxml",
        "--goblin-baseline",
        "--goblin-shard",
        "-n",
        "--system-site-packages",
    ):
        assert flag in script, flag
    assert "file:*" in script and "git+*" in script  # the tool is never installed from the checkout


def test_composite_action_project_mode_runs_nothing_from_the_checkout(tmp_path: Path) -> None:
    """The Audit step's script, run as a fork's pull request would run it: a checkout full of
    traps (conftest.py, pytest.ini with goblin_command, a `pytest_goblin` package, sitecustomize)
    and goblin still audits its configs with its own code, and no trap fires."""
    import os
    import subprocess
    import sys

    action = _yaml(WORKFLOWS / "actions" / "goblin" / "action.yml")
    audit = next(s for s in action["runs"]["steps"] if s.get("name") == "Audit")
    workspace, temp = tmp_path / "ws", tmp_path / "runner-temp"
    configs = workspace / "checkout" / "configs"
    configs.mkdir(parents=True)
    (temp / "goblin-work").mkdir(parents=True)
    (temp / "goblin-venv" / "bin").mkdir(parents=True)
    shutil.copy(EXAMPLES / "axolotl-llama3-8b-lora.yml", configs / "base.yml")
    pwned = tmp_path / "PWNED"
    trap = f"open({str(pwned)!r}, 'a').write(__file__ + '\\n')\n"
    (configs / "conftest.py").write_text(trap)
    (workspace / "checkout" / "conftest.py").write_text(trap)
    (workspace / "checkout" / "pytest.ini").write_text(f"[pytest]\ngoblin_command = touch {pwned} {{config}}\n")
    for pkg in ("pytest_goblin", "runner", "kb"):
        (workspace / "checkout" / pkg).mkdir()
        (workspace / "checkout" / pkg / "__init__.py").write_text(trap)
    (workspace / "checkout" / "sitecustomize.py").write_text(trap)
    # the venv's console script is this interpreter running goblin's CLI
    goblin = temp / "goblin-venv" / "bin" / "goblin"
    goblin.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'import sys; from pytest_goblin.cli import main; sys.exit(main())' \"$@\"\n")
    goblin.chmod(0o755)
    env = {
        **os.environ,
        **{k: str(v) for k, v in audit["env"].items()},
        "GOBLIN_PATHS": "checkout/configs/",
        "GOBLIN_MODE": "project",
        "GOBLIN_TARGET": "mi300x",
        "GOBLIN_FAIL_AT": "1.10",
        "GOBLIN_WARN_AT": "1.03",
        "GOBLIN_OUT": "goblin-reports",
        "GITHUB_WORKSPACE": str(workspace),
        "RUNNER_TEMP": str(temp),
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),  # goblin itself, as the venv would have it
    }
    (workspace / "goblin-reports").mkdir()
    proc = subprocess.run(["bash", "-c", audit["run"]], cwd=temp / "goblin-work", env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # base.yml fails: a normal verdict
    assert not pwned.exists(), pwned.read_text()
    report = SessionReport.model_validate_json((workspace / "goblin-reports" / "goblin.json").read_text())
    assert [Path(i.path).name for i in report.items] == ["base.yml"] and report.items[0].verdict == "fail"


def _plant_checkout_code(configs: Path, pwned: Path) -> None:
    """N2's three files, plus a package `__init__.py` above the audited folder: each, if imported
    or run, appends its name to `pwned`."""
    trap = f"open({str(pwned)!r}, 'a').write(__file__ + '\\n')\n"
    shutil.copy(EXAMPLES / "axolotl-llama3-8b-lora.yml", configs / "base.yml")
    (configs / "test_pwn.py").write_text(trap + "def test_planted():\n    pass\n")
    (configs / "__init__.py").write_text(trap)
    (configs.parent / "__init__.py").write_text(trap)
    (configs / "test_notes.txt").write_text(f">>> open({str(pwned)!r}, 'a').write('doctest\\n')\n8\n")


def test_n2_the_hardened_pytest_command_line_collects_only_goblin_items(tmp_path: Path) -> None:
    """N2: the action's pytest-mode command line from before `-p no:python -p no:doctest` (so the
    plugin's own veto is what is tested): under --goblin, no `test_*.py`, package `__init__.py` or
    `test*.txt` doctest under (or above) the audited folder is imported or run, and the doctest is
    not counted."""
    import subprocess
    import sys

    workspace = tmp_path / "ws"
    configs = workspace / "checkout" / "configs"
    configs.mkdir(parents=True)
    pwned = tmp_path / "PWNED"
    _plant_checkout_code(configs, pwned)
    ini = tmp_path / "goblin.ini"
    ini.write_text("[pytest]\n")
    work = tmp_path / "work"
    work.mkdir()
    cmd = [sys.executable, "-P", "-m", "pytest", "--goblin", str(configs), "-c", str(ini), "--rootdir", str(workspace)]
    cmd += ["--noconftest", "-p", "no:cacheprovider", "-o", "goblin_command=", "--goblin-runner", "projection", "--goblin-target", "mi300x"]
    proc = subprocess.run([*cmd, "--junitxml", str(tmp_path / "junit.xml")], cwd=work, capture_output=True, text=True, timeout=120)
    assert not pwned.exists(), pwned.read_text()
    assert proc.returncode == 1 and "1 failed in" in proc.stdout and "passed" not in proc.stdout.splitlines()[-1], proc.stdout[-2000:]
    junit = (tmp_path / "junit.xml").read_text()
    assert 'tests="1"' in junit and "test_notes" not in junit and "test_planted" not in junit


def test_n2_the_actions_pytest_mode_runs_nothing_from_the_checkout(tmp_path: Path) -> None:
    """N2: the composite action's Audit step in `mode: pytest`, run as written, on a checkout with
    N2's planted files: only base.yml is an item, and nothing planted runs."""
    import os
    import subprocess
    import sys

    action = _yaml(WORKFLOWS / "actions" / "goblin" / "action.yml")
    audit = next(s for s in action["runs"]["steps"] if s.get("name") == "Audit")
    assert "-p no:python -p no:doctest" in audit["run"]
    workspace, temp = tmp_path / "ws", tmp_path / "runner-temp"
    configs = workspace / "checkout" / "configs"
    configs.mkdir(parents=True)
    (temp / "goblin-work").mkdir(parents=True)
    (temp / "goblin-venv" / "bin").mkdir(parents=True)
    pwned = tmp_path / "PWNED"
    _plant_checkout_code(configs, pwned)
    python = temp / "goblin-venv" / "bin" / "python"  # the venv's interpreter is this one
    python.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    env = {
        **os.environ,
        **{k: str(v) for k, v in audit["env"].items()},
        "GOBLIN_PATHS": "checkout/configs/",
        "GOBLIN_MODE": "pytest",
        "GOBLIN_TARGET": "mi300x",
        "GOBLIN_FAIL_AT": "1.10",
        "GOBLIN_WARN_AT": "1.03",
        "GOBLIN_WORKERS": "0",
        "GOBLIN_BASELINE": "",
        "GOBLIN_SHARD": "",
        "GOBLIN_OUT": "goblin-reports",
        "GITHUB_WORKSPACE": str(workspace),
        "RUNNER_TEMP": str(temp),
    }
    (workspace / "goblin-reports").mkdir()
    proc = subprocess.run(["bash", "-c", audit["run"]], cwd=temp / "goblin-work", env=env, capture_output=True, text=True, timeout=120)
    assert not pwned.exists(), pwned.read_text()
    assert proc.returncode == 1 and "1 failed in" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = SessionReport.model_validate_json((workspace / "goblin-reports" / "goblin.json").read_text())
    assert [Path(i.path).name for i in report.items] == ["base.yml"] and report.items[0].verdict == "fail"
    assert 'tests="1"' in (workspace / "goblin-reports" / "junit.xml").read_text()


def test_n12_the_measure_label_measures_only_the_commit_its_labeller_approved() -> None:
    """N12: a `labeled` run goes to the GPU only through the `gate` job, which requires the
    labeller's latest review verdict to approve exactly the event's head SHA; the measure job
    checks out the SHA the gate passed."""
    measure = _yaml(WORKFLOWS / "workflows" / "goblin-rocm-measure.yml")
    gate, job = measure["jobs"]["gate"], measure["jobs"]["measure"]
    assert " ".join(str(gate["if"]).split()) == "github.event.action == 'labeled' && github.event.label.name == 'goblin-measure'"
    assert str(gate["runs-on"]).startswith("ubuntu-") and gate["permissions"] == {"pull-requests": "read"}
    env = gate["steps"][0]["env"]
    assert env["HEAD_SHA"] == "${{ github.event.pull_request.head.sha }}" and env["SENDER"] == "${{ github.event.sender.login }}"
    assert gate["outputs"]["sha"] == "${{ steps.approved.outputs.sha }}"
    assert job["needs"] == "gate"
    condition = " ".join(str(job["if"]).split())
    assert "github.event.label.name == 'goblin-measure' && needs.gate.result == 'success'" in condition
    checkout = next(s for s in job["steps"] if "actions/checkout" in str(s.get("uses", "")))
    assert checkout["with"]["ref"].startswith("${{ needs.gate.outputs.sha ||")


def _gate(tmp_path: Path, reviews: list[dict[str, Any]], head: str, sender: str = "maint") -> tuple[int, str]:
    """Run the gate's script with a `gh` that answers the reviews API from `reviews` through jq."""
    import os
    import subprocess

    script = _yaml(WORKFLOWS / "workflows" / "goblin-rocm-measure.yml")["jobs"]["gate"]["steps"][0]["run"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (tmp_path / "reviews.json").write_text(json.dumps(reviews))
    gh = bin_dir / "gh"  # gh api --paginate URL --jq FILTER
    gh.write_text(f'#!/bin/bash\n[ "$1 $2 $3" = "api --paginate repos/acme/train/pulls/7/reviews" ] || exit 9\njq -r "$5" {tmp_path / "reviews.json"}\n')
    gh.chmod(0o755)
    out = tmp_path / "output"
    out.write_text("")
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "REPO": "acme/train",
        "PR": "7",
        "HEAD_SHA": head,
        "SENDER": sender,
        "GITHUB_OUTPUT": str(out),
    }
    proc = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=30)
    return proc.returncode, out.read_text()


@pytest.mark.skipif(shutil.which("jq") is None, reason="the gate's filter runs in jq, as gh runs it")
def test_n12_the_gate_refuses_a_head_pushed_after_the_approval(tmp_path: Path) -> None:
    old, head = "a" * 40, "b" * 40

    def review(user: str, state: str, sha: str) -> dict[str, Any]:
        return {"user": {"login": user}, "state": state, "commit_id": sha}

    assert _gate(tmp_path, [review("maint", "APPROVED", head)], head) == (0, f"sha={head}\n")
    assert _gate(tmp_path, [review("maint", "APPROVED", old)], head)[0] == 1  # pushed after the review
    assert _gate(tmp_path, [review("maint", "APPROVED", head), review("maint", "CHANGES_REQUESTED", head)], head)[0] == 1
    assert _gate(tmp_path, [review("maint", "CHANGES_REQUESTED", old), review("maint", "COMMENTED", head), review("maint", "APPROVED", head)], head)[0] == 0
    assert _gate(tmp_path, [review("someone", "APPROVED", head)], head)[0] == 1  # the labeller did not approve it
    assert _gate(tmp_path, [], head)[0] == 1
    assert _gate(tmp_path, [review("maint", "APPROVED", "main")], "main")[0] == 1  # a SHA, not a ref name


GOBLIN_ACTION = "pytest-goblin/pytest-goblin/.github/actions/goblin"
GOBLIN_ACTION_SHA = "73166dadcb933fbaaba91033e897e888d8c07765"  # docs/trust-model.md says why this commit


def test_every_action_is_pinned_to_a_commit_sha_with_its_version() -> None:
    """A tag can be moved to other code; a 40-hex commit cannot. Every `uses:` in every workflow,
    goblin's own action included, names a commit SHA and says which release it is; none is a
    local `./` action (on pull_request that is the pull request's own version)."""
    import re

    line = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(?:\s+#\s*(.*))?$")
    goblin = []
    for path in sorted((WORKFLOWS / "workflows").glob("*.yml")):
        for text in path.read_text().splitlines():
            m = line.match(text)
            if not m:
                continue
            uses, comment = m.group(1), m.group(2) or ""
            assert re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}", uses), (path.name, uses)
            assert re.match(r"v\d+\.\d+(\.\d+)?\b", comment), (path.name, uses, comment)  # the release the SHA is
            if uses.startswith(GOBLIN_ACTION + "@"):
                goblin.append((path.name, uses))
    assert sorted(goblin) == [(name, f"{GOBLIN_ACTION}@{GOBLIN_ACTION_SHA}") for name in ("goblin-rocm-measure.yml", "goblin-rocm.yml")]


def test_the_workflows_install_this_release_and_its_action() -> None:
    """Red team round 3, D1: the shipped workflows installed pytest-goblin==0.1.0 and pinned the
    action at e797db6, the build the previous round attacked, so CI kept N1 and N8 after the fix.
    Every `pytest-goblin==` pin is the package's own version, and the pinned commit's action.yml
    is the action as it is now."""
    import re
    import shutil
    import subprocess

    import pytest_goblin

    pins = [m.group(1) for path in sorted((WORKFLOWS / "workflows").glob("*.yml")) for m in re.finditer(r"pytest-goblin==([\w.]+)", path.read_text())]
    assert len(pins) >= 3 and set(pins) == {pytest_goblin.__version__}, pins
    root = WORKFLOWS.parent
    if shutil.which("git") is None or not (root / ".git").exists():
        pytest.skip("not a git checkout: the pinned commit cannot be read")
    shown = subprocess.run(["git", "-C", str(root), "show", f"{GOBLIN_ACTION_SHA}:.github/actions/goblin/action.yml"], capture_output=True, text=True)
    if shown.returncode != 0:
        pytest.skip(f"the pinned commit is not in this clone's history ({shown.stderr.strip()[:80]})")
    assert shown.stdout == (WORKFLOWS / "actions" / "goblin" / "action.yml").read_text()
