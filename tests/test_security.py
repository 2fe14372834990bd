"""Regression tests for the red-team report (../shared/research/redteam-2026-11-25.md), D1-D29.

Each test names its defect. A pull request controls every file in its checkout: these check that
such a file costs one item at most, reads nothing outside the tree, writes nothing outside it,
and puts no secret or injected command into any output.
"""

from __future__ import annotations

import ast
import importlib
import os
import pkgutil
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import pytest_goblin
from pytest_goblin.cli import main
from pytest_goblin.errors import ConfigError
from pytest_goblin.formats import load_config
from pytest_goblin.yamlio import load_yaml

from .conftest import EXAMPLES

BASE = EXAMPLES / "axolotl-llama3-8b-lora.yml"
PACKAGE = Path(pytest_goblin.__file__).parent
ENV = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}


def _tree(tmp_path: Path) -> Path:
    """A repository with one good config, like a pull request's checkout."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "configs").mkdir()
    shutil.copy(BASE, repo / "configs" / "base.yml")
    return repo


def _pytest(cwd: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", "--goblin", *args, "--goblin-runner", "projection", "--goblin-target", "mi300x", "-p", "no:cacheprovider"]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=ENV)


# ---- D1: every loader error is one item's error ------------------------------------------------

HOSTILE_SCALARS = {
    "bool_maybe": "x: !!bool maybe\n",
    "int_abc": "x: !!int abc\n",
    "float_abc": "x: !!float abc\n",
    "int_0x": "x: !!int 0x\n",
    "timestamp": "x: !!timestamp 2001-13-45\n",
    "int_4301_digits": "n: " + "1" * 4301 + "\n",
    "seq_alias_key": "x: &x [[1]]\n? *x\n: 1\n",
    "omap_scalar": "x: !!omap [1]\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_SCALARS))
def test_d1_every_loader_error_is_a_config_error_with_a_line(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(HOSTILE_SCALARS[name])
    with pytest.raises(ConfigError) as info:
        load_yaml(path)
    assert info.value.path == str(path) and info.value.line is not None and info.value.line >= 1


def test_d1_one_bad_file_costs_one_item_not_the_session(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    for name, text in HOSTILE_SCALARS.items():
        (repo / "configs" / f"{name}.yaml").write_text(text)
    proc = _pytest(repo, "configs", "--goblin-json", "r.json")
    assert "Interrupted" not in proc.stdout and "INTERNALERROR" not in proc.stdout + proc.stderr, proc.stdout[-3000:]
    import json

    items = {Path(i["path"]).name: i for i in json.loads((repo / "r.json").read_text())["items"]}
    assert items["base.yml"]["verdict"] == "fail"  # the good config is still audited
    for name in HOSTILE_SCALARS:
        item = items[f"{name}.yaml"]
        assert item["verdict"] == "error" and f"{name}.yaml:" in item["message"], item


# ---- D2: linear-time regexes -------------------------------------------------------------------

RUNS = ["a", "a_", "1_", "x_token", " ", "\t", "-", ":", "A", "/", ".", "=", "#", "a:", "://a", "hf_", "api_key:", "é", "\\", '"']
MEGABYTE = 1_000_000
BUDGET_S = 5.0  # generous: a linear regex takes well under a second on 1 MB; a quadratic one takes hours


def _package_regexes() -> list[tuple[str, re.Pattern[str]]]:
    """Every compiled pattern in the package: module globals, lists of patterns in globals, and
    every literal pattern passed to re.* inside a function (found through the AST)."""
    found: dict[tuple[str, int], tuple[str, re.Pattern[str]]] = {}
    for mod in pkgutil.walk_packages([str(PACKAGE)], "pytest_goblin."):
        if mod.name.endswith(("claude", "llm", "torch_runner", "worker")):
            continue  # optional dependencies; their literal patterns are still found below
        module = importlib.import_module(mod.name)
        for name, value in vars(module).items():
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                if isinstance(v, re.Pattern) and isinstance(v.pattern, str):
                    found[(v.pattern, v.flags)] = (f"{mod.name}.{name}", v)
    calls = {"compile", "search", "match", "fullmatch", "findall", "finditer", "sub", "subn", "split"}
    for file in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in calls
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                pattern = re.compile(node.args[0].value)
                found.setdefault((pattern.pattern, pattern.flags), (f"{file.relative_to(PACKAGE)}:{node.lineno}", pattern))
    return sorted(found.values(), key=lambda t: t[0])


def test_d2_the_regex_census_finds_the_known_patterns() -> None:
    names = {name for name, _ in _package_regexes()}
    assert "pytest_goblin.redact._ASSIGNMENT" in names and "pytest_goblin.formats.textedit._KEY_HEAD" in names
    assert any(name.startswith("formats/deepspeed.py:") for name in names)  # a literal inside a function
    assert len(names) > 20


def test_d2_every_regex_is_linear_on_megabyte_runs() -> None:
    slow = []
    for name, pattern in _package_regexes():
        for unit in RUNS:
            text = unit * (MEGABYTE // len(unit))
            start = time.perf_counter()
            for _ in pattern.finditer(text):
                pass
            pattern.match(text)
            elapsed = time.perf_counter() - start
            if elapsed > BUDGET_S:
                slow.append((name, unit, round(elapsed, 1)))
    assert not slow, slow


def test_d2_redacting_the_red_team_inputs_is_fast() -> None:
    from pytest_goblin.redact import redact

    for text in ("x_token" * 8000, "a_" * 8000, "1_" * 8000, "chat_template_b64: " + "Ab_-" * 15000 + "\nmicro_batch_size: 1"):
        start = time.perf_counter()
        redact(text)
        assert time.perf_counter() - start < BUDGET_S


def test_d2_flow_line_with_a_long_space_run_edits_quickly() -> None:
    from pytest_goblin.formats.textedit import _replace_value

    line = "micro_batch_size: 1" + " " * 30000 + "# c"
    start = time.perf_counter()
    assert _replace_value(line, "4") == "micro_batch_size: 4" + " " * 30000 + "# c"
    assert time.perf_counter() - start < BUDGET_S


# ---- D3 / D4 / D13 / D17 / D28: reading stays inside the tree -----------------------------------

OUTSIDE_SECRET = "customer_pii: Jane Doe 555-0100 [unclosed"


def _with_ref(repo: Path, key: str, ref: str, name: str) -> Path:
    text = BASE.read_text().replace("dataloader_num_workers: 0\n", f"dataloader_num_workers: 0\n{key}: {ref}\n")
    path = repo / "configs" / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("ref", ["../../outside_secret.txt", "{outside}", "/proc/self/status", "/etc/passwd", "/etc/does-not-exist", "/proc/kmsg"])
@pytest.mark.parametrize("key", ["deepspeed", "fsdp_config"])
def test_d3_referenced_files_outside_the_tree_are_refused_by_name(tmp_path: Path, ref: str, key: str) -> None:
    repo = _tree(tmp_path)
    outside = tmp_path / "outside_secret.txt"
    outside.write_text(f"db_host: x\n  {OUTSIDE_SECRET}\n")
    ref = ref.format(outside=outside)
    start = time.perf_counter()
    w = load_config(_with_ref(repo, key, ref, f"c-{key}.yml")).workload
    assert time.perf_counter() - start < 10  # /proc/kmsg never blocks
    notes = " ".join(w.notes)
    assert "outside the audited tree" in notes and ref in notes
    assert "customer_pii" not in notes and "Name:" not in notes and "root:" not in notes


def test_d3_in_tree_fifo_and_oversized_files_are_refused(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    os.mkfifo(repo / "configs" / "ds_fifo.json")
    (repo / "configs" / "ds_big.json").write_text("{" + " " * 2_000_000 + "}")
    for ref, reason in (("ds_fifo.json", "not a regular file"), ("ds_big.json", "byte limit")):
        start = time.perf_counter()
        notes = " ".join(load_config(_with_ref(repo, "deepspeed", ref, f"c-{ref}.yml")).workload.notes)
        assert reason in notes and time.perf_counter() - start < 10


def test_d3_in_tree_references_still_read(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    (repo / "ds").mkdir()
    (repo / "ds" / "z3.json").write_text('{"zero_optimization": {"stage": 3}}')
    w = load_config(_with_ref(repo, "deepspeed", "ds/z3.json", "z.yml")).workload
    assert w.zero_stage == 3 and any("DeepSpeed settings read from ds/z3.json" in n for n in w.notes)


def test_d4_d17_directory_symlinks_are_not_followed(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    outside = tmp_path / "outside_dir"
    outside.mkdir()
    private = outside / "private.yml"
    private.write_text(BASE.read_text() + "# OUTSIDE-COMMENT-LINE\n")
    before = private.read_bytes()
    (repo / "configs" / "ext").symlink_to(outside)
    (repo / "configs" / "up1").symlink_to("..")
    (repo / "configs" / "up2").symlink_to("..")
    proc = _pytest(repo, "configs", "--goblin-md", "r.md", "--goblin-json", "r.json", "--goblin-fix", "-v", timeout=60)
    assert "OUTSIDE-COMMENT-LINE" not in proc.stdout + (repo / "r.md").read_text()
    assert private.read_bytes() == before and oct(private.stat().st_mode & 0o777) == oct(0o644 & ~_umask())
    import json

    report = json.loads((repo / "r.json").read_text())
    assert [i["path"] for i in report["items"]] == ["configs/base.yml"]  # one item, not one per loop
    assert {"configs/ext", "configs/up1", "configs/up2"} <= set(report["not_collected"])


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_d28_cli_does_not_follow_file_symlinks_out_of_the_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _tree(tmp_path)
    outside = tmp_path / "outside_cfg.yml"
    outside.write_text(BASE.read_text())
    (repo / "configs" / "o.yml").symlink_to(outside)
    (repo / "configs" / "k.yml").symlink_to("/proc/kmsg")
    (repo / "configs" / "loop.yml").symlink_to(repo / "configs" / "loop.yml")
    start = time.perf_counter()
    main(["audit", str(repo / "configs"), "--runner", "projection", "--target", "mi300x", "--fix"])
    assert time.perf_counter() - start < 30
    out = capsys.readouterr()
    assert "o.yml: a symlink" in out.err and "k.yml: a symlink" in out.err and "loop.yml" in out.err
    assert "o.yml" not in out.out and (repo / "configs" / "o.yml").is_symlink() and outside.read_text() == BASE.read_text()


def test_d13_rule_files_are_regular_files_under_a_limit(tmp_path: Path) -> None:
    from pytest_goblin.errors import KBError
    from pytest_goblin.hardware import load_yaml_list

    rules = tmp_path / "team-rules"
    rules.mkdir()
    (rules / "zz.yaml").symlink_to("/dev/zero")
    os.mkfifo(rules / "fifo.yaml")
    (rules / "secret.yaml").write_text(f"- id: x\n\t{OUTSIDE_SECRET}\n")
    for name, reason in (("zz.yaml", "not a regular file"), ("fifo.yaml", "not a regular file"), ("secret.yaml", "invalid YAML at line")):
        start = time.perf_counter()
        with pytest.raises(KBError) as info:
            load_yaml_list(rules / name)
        assert reason in str(info.value) and "customer_pii" not in str(info.value) and time.perf_counter() - start < 5


def test_d13_kb_path_to_dev_zero_is_a_usage_error(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    (repo / "team-rules").mkdir()
    (repo / "team-rules" / "zz.yaml").symlink_to("/dev/zero")
    proc = _pytest(repo, "configs", "-o", "goblin_kb_paths=team-rules", timeout=60)
    assert proc.returncode == 4 and "not a regular file" in proc.stderr and "INTERNALERROR" not in proc.stdout + proc.stderr


# ---- D9 / D10 / D14d / D18 / D19 / D20: `goblin comment` holds its token --------------------

TOKEN = "ghs_SECRETTOKENVALUE1234567890abcd"


class _Api:
    """A hostile GitHub API: MODE picks the behaviour; every request is logged with its headers."""

    def __init__(self, mode: str) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.mode = mode
        self.log: list[tuple[str, str, str]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _handle(self) -> None:
                api.log.append((self.command, self.path, self.headers.get("Authorization", "")))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                m = api.mode
                if self.path == "/user":
                    return self._send(404, b'{"message":"Not Found"}')
                if m == "redirect_other":
                    return self._send(302, b"", {"Location": f"{api.other}{self.path}"})
                if m == "malformed":
                    return self._send(200, b"{not json")
                if m == "html200":
                    return self._send(200, b"<html>login</html>")
                if m == "dict":
                    return self._send(200, b'{"message":"weird"}')
                if m == "strings":
                    return self._send(200, b'["a", "b"]')
                if m == "posted_none":
                    return self._send(200, b"[]") if self.command == "GET" else self._send(201, b"")
                if m == "other_user":
                    if self.command == "GET":
                        body = [{"id": 7, "user": {"login": "maintainer", "type": "User"}, "body": "FYI the bot uses <!-- pytest-goblin:sticky --> as marker"}]
                        body.append({"id": 8, "user": {"login": "mallory", "type": "User"}, "body": "<!-- pytest-goblin:sticky -->\nplanted"})
                        import json

                        return self._send(200, json.dumps(body).encode())
                    return self._send(201, b'{"id": 99}')
                if m == "infinite":
                    import json

                    page = [{"id": i, "user": {"login": "x"}, "body": "hi"} for i in range(100)]
                    return self._send(200, json.dumps(page).encode())
                if m == "403inj":
                    return self._send(403, b'{"message":"..."}\n::error file=README.md::INJECTED-FROM-API\n')
                if m == "echo401":
                    return self._send(401, ("bad credentials: " + self.headers.get("Authorization", "")).encode())
                if m == "drip":
                    self.send_response(200)
                    self.send_header("Content-Length", "1000000")
                    self.end_headers()
                    for _ in range(40):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.25)
                    return None
                if m == "huge_error":
                    self.send_response(500)
                    self.send_header("Content-Length", str(200 * 1024 * 1024))
                    self.end_headers()
                    try:
                        for _ in range(200):
                            self.wfile.write(b"x" * 1024 * 1024)
                    except OSError:
                        pass
                    return None
                return self._send(500, b"")

            do_GET = do_POST = do_PATCH = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.other_server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.other = f"http://localhost:{self.other_server.server_address[1]}"
        for srv in (self.server, self.other_server):
            threading.Thread(target=srv.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.other_server.shutdown()


@pytest.fixture
def hostile_api() -> Any:
    apis: list[_Api] = []

    def make(mode: str) -> _Api:
        apis.append(_Api(mode))
        return apis[-1]

    yield make
    for a in apis:
        a.close()


@pytest.mark.parametrize(
    ("mode", "expect"),
    [
        ("redirect_other", "redirect refused"),  # D9
        ("malformed", "not JSON"),  # D18
        ("html200", "not JSON"),
        ("dict", "expected a list of comments"),
        ("403inj", "HTTP 403"),
        ("echo401", "HTTP 401"),  # D14d
        ("drip", "deadline"),
        ("huge_error", "HTTP 500"),
    ],
)
def test_d9_d18_bad_api_responses_end_in_clean_errors_without_the_token(hostile_api: Any, mode: str, expect: str | None) -> None:
    from pytest_goblin.github_comment import CommentError, GitHub

    api = hostile_api(mode)
    start = time.perf_counter()
    with pytest.raises(CommentError) as info:
        GitHub(TOKEN, api.url, timeout_s=3).upsert("acme/train", 42, "body")
    assert time.perf_counter() - start < 20
    message = str(info.value)
    assert TOKEN not in message and "SECRETTOKEN" not in message and "\n" not in message
    if expect:
        assert expect in message, message
    if mode == "redirect_other":
        assert len(api.log) >= 1 and all(p.startswith(("/repos/acme/train/", "/user")) for _m, p, _a in api.log)
        assert api.log and all("localhost" not in p for _m, p, _a in api.log)


def test_d9_the_token_never_reaches_another_host(hostile_api: Any) -> None:
    from pytest_goblin.github_comment import CommentError, GitHub

    api = hostile_api("redirect_other")
    with pytest.raises(CommentError):
        GitHub(TOKEN, api.url, timeout_s=3).upsert("acme/train", 42, "body")
    assert len(api.log) == 2  # GET /user (404) and the refused GET: nothing followed to the other host


def test_d10_a_human_comment_with_the_marker_is_never_touched(hostile_api: Any) -> None:
    from pytest_goblin.github_comment import GitHub

    api = hostile_api("other_user")
    action, comment = GitHub(TOKEN, api.url, timeout_s=3).upsert("acme/train", 42, "body")
    assert action == "created" and comment == {"id": 99}
    assert not any(m == "PATCH" for m, _p, _a in api.log)


def test_d18_pages_are_bounded_and_an_empty_201_is_success(hostile_api: Any) -> None:
    from pytest_goblin.github_comment import MAX_PAGES, GitHub

    api = hostile_api("infinite")
    GitHub(TOKEN, api.url, timeout_s=3).upsert("acme/train", 42, "body")  # gives up paging, posts a new one
    assert sum(1 for m, _p, _a in api.log if m == "GET") <= MAX_PAGES + 1
    api2 = hostile_api("posted_none")
    assert GitHub(TOKEN, api2.url, timeout_s=3).upsert("acme/train", 42, "body") == ("created", {})
    api3 = hostile_api("strings")  # a list of strings is no comment of ours: a new one is posted
    assert GitHub(TOKEN, api3.url, timeout_s=3).upsert("acme/train", 42, "body")[0] == "created"


@pytest.mark.parametrize(
    ("url", "repo", "pr", "expect"),
    [
        ("http://api.example.com", "acme/train", 42, "plain http"),  # D19
        ("ftp://127.0.0.1", "acme/train", 42, "https"),
        ("https://127.0.0.1:9", "../../user/x?a=", 42, "OWNER/NAME"),
        ("https://127.0.0.1:9", "acme/train", -5, "pull-request number"),
    ],
)
def test_d19_urls_repos_and_pr_numbers_are_validated(url: str, repo: str, pr: int, expect: str) -> None:
    from pytest_goblin.github_comment import CommentError, GitHub

    with pytest.raises(CommentError) as info:
        GitHub(TOKEN, url, timeout_s=1).upsert(repo, pr, "body")
    assert expect in str(info.value)


def test_d18_cli_warning_from_a_403_cannot_inject_a_command(
    hostile_api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    api = hostile_api("403inj")
    report = tmp_path / "r.json"
    main(["audit", str(BASE), "--runner", "projection", "--target", "mi300x", "--json", str(report)])
    capsys.readouterr()
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    assert main(["comment", "--report", str(report), "--repo", "acme/train", "--pr", "42", "--api-url", api.url]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("::warning") and "\n::error" not in out and TOKEN not in out


def test_d20_a_cut_comment_closes_its_code_block_and_keeps_the_run_link() -> None:
    from markdown_it import MarkdownIt

    from pytest_goblin.github_comment import MAX_BODY, body_for

    section = "<details><summary>x</summary>\n\n```diff\n" + "\n".join(f"+line {i}" for i in range(4000)) + "\n```\n</details>\n"
    body = body_for("## pytest-goblin\n" + section * 5, run_url="https://github.test/run/1")
    assert len(body) <= MAX_BODY
    html = MarkdownIt("commonmark").render(body)
    assert "the summary was cut" in html.split("</code></pre>")[-1]  # rendered as text, after the block
    assert body.rstrip().endswith("[workflow run](https://github.test/run/1)</sub>")
    assert body.count("<details>") == body.count("</details>")
