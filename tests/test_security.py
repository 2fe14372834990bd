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
from .repo_files import write_tree

BASE = EXAMPLES / "axolotl-llama3-8b-lora.yml"
PACKAGE = Path(pytest_goblin.__file__).parent
ENV = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}


def _tree(tmp_path: Path) -> Path:
    """A repository with one good config, like a pull request's checkout."""
    return write_tree(tmp_path / "repo", {"configs/base.yml": BASE.read_bytes()}, git=True)


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
    write_tree(repo, {f"configs/{name}.yaml": text for name, text in HOSTILE_SCALARS.items()})
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
RUNS += ["<tool_call>{", "{"]  # N9: LLM text
RUNS += ["${A:-", "--f "]  # round 9: unclosed shell defaults and long flag lists in launch scripts
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


_CENSUS = _package_regexes()


@pytest.mark.parametrize("name, pattern", _CENSUS, ids=[name for name, _ in _CENSUS])
def test_d2_every_regex_is_linear_on_megabyte_runs(name: str, pattern: re.Pattern[str]) -> None:
    """One item per pattern, so that xdist spreads the census over its workers."""
    slow = []
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


def test_n9_recovering_tool_calls_from_megabyte_llm_text_is_linear() -> None:
    """N9: text tool calls are recovered by a str.find scan, not lazy regexes that rescanned to the
    end for every unclosed `<tool_call>{` or `{` inside `<think>`; the text is cut first. The
    scanner also gets the census's runs, uncut."""
    from pytest_goblin.backends import llm

    assert not [name for name, _ in _package_regexes() if name.startswith("backends/llm.py")]  # no regex left there
    units = [*RUNS, "<think>{", "<tool_call>", "</tool_call>", "<tool_call>{}</tool_call>", '<think>{"a": 1} ']
    slow = []
    for unit in units:
        text = unit * (MEGABYTE // len(unit))
        for limit in (llm.RECOVER_LIMIT, 2 * MEGABYTE):  # as shipped, and with no cut
            start = time.perf_counter()
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(llm, "RECOVER_LIMIT", limit)
                llm.recover_tool_calls(text, {"parse_config"})
            elapsed = time.perf_counter() - start
            if elapsed > BUDGET_S:
                slow.append((unit, limit, round(elapsed, 1)))
    assert not slow, slow
    clean, calls = llm.recover_tool_calls("<tool_call>{" * 100_000 + '<tool_call>{"name": "parse_config"}</tool_call>', {"parse_config"})
    assert calls == [] and clean.endswith("more characters not read]")  # past the cut: not read
    clean, calls = llm.recover_tool_calls('see <tool_call> then <tool_call>{"name": "parse_config"}</tool_call> done', {"parse_config"})
    assert [c.name for c in calls] == ["parse_config"] and clean == "see <tool_call> then  done"


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


# ---- D7 / D27: file names ----------------------------------------------------------------------


def test_d7_d27_names_with_line_breaks_or_controls_are_not_collected_and_nothing_is_injected(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    for name in ("nl\n::error file=x,line=1::INJECTED\n.yml", "cr\r::warning::X.yml", "esc\x1b[31m.yml", "vt\x0b.yml"):
        shutil.copy(BASE, repo / "configs" / name)
    env = {**ENV, "GITHUB_ACTIONS": "true"}
    cmd = [sys.executable, "-m", "pytest", "--goblin", "configs", "--goblin-runner", "projection", "--goblin-target", "mi300x", "-p", "no:cacheprovider"]
    proc = subprocess.run([*cmd, "-v", "--junitxml", "p.xml", "--goblin-json", "r.json"], cwd=repo, capture_output=True, text=True, timeout=120, env=env)
    assert "INJECTED" not in proc.stdout.replace("\\n::error", "") or all(not line.lstrip().startswith("::error file=x") for line in proc.stdout.splitlines())
    assert not any(line.lstrip().startswith(("::error file=x", "::warning::X")) for line in proc.stdout.splitlines())
    import json
    import xml.dom.minidom

    xml.dom.minidom.parse(str(repo / "p.xml"))  # pytest's own JUnit stays well-formed
    report = json.loads((repo / "r.json").read_text())
    assert [i["path"] for i in report["items"]] == ["configs/base.yml"]
    assert sum("control characters" in why for why in report["not_collected"].values()) == 4


def test_d7_terminal_and_annotation_escaping() -> None:
    from pytest_goblin.reporting.escape import one_line, terminal
    from pytest_goblin.reporting.github import _escape_data

    text = terminal("context\n   ::stop-commands::goblinoff\n##[error]x and a ##[warning]y\r::error::z")
    assert not any(line.lstrip().startswith("::") for line in text.splitlines()) and "##[" not in text and "\r" not in text
    assert "\n" not in one_line("a\nb\rc\x1b") and "##[" not in _escape_data("DeepSpeed file 'x ##[error]FAILED'")


def test_d27_sarif_uris_are_percent_encoded() -> None:
    import json

    from pytest_goblin.outcome import ItemOutcome, SessionReport
    from pytest_goblin.reporting.sarif import sarif
    from pytest_goblin.schemas import Finding

    report = main_report()
    finding = report.findings[0] if report.findings else Finding(rule_id="r", title="t", category="batch", line=1, key="k", message="m", citation="c")
    item = ItemOutcome(nodeid="x", path="configs/%0A::error::pct a.yml", verdict="fail", message="m", report=report.model_copy(update={"findings": [finding]}))
    doc = json.loads(sarif(SessionReport(version="0", target="mi300x", items=[item])))
    uri = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "configs/%250A%3A%3Aerror%3A%3Apct%20a.yml"


def main_report() -> Any:
    from pytest_goblin.backends import make_backend_or_planner
    from pytest_goblin.loop import audit_sync, final_report
    from pytest_goblin.settings import Settings

    backend, notes = make_backend_or_planner("planner")
    report = final_report(audit_sync(BASE, backend=backend, settings=Settings(runner="projection", target="mi300x"), notes=notes))
    assert report is not None
    return report


# ---- D8 / D21: Markdown ------------------------------------------------------------------------


def test_d8_file_names_notes_and_errors_cannot_inject_markdown() -> None:
    from markdown_it import MarkdownIt

    from pytest_goblin.outcome import ItemOutcome, SessionReport
    from pytest_goblin.reporting.markdown import render

    report = main_report()
    hostile = report.model_copy(update={"notes": ["DeepSpeed file 'x</sub><img src=https://evil.example/p.png> @acme/team [l](http://e)' was not found"]})
    items = [
        ItemOutcome(nodeid="a", path="configs/a\n<!--.yml", verdict="fail", message="m", report=hostile),
        ItemOutcome(nodeid="b", path="configs/b`<script>x</script>|.yml", verdict="error", message="`micro_batch_size`: got '@acme/security-team LGTM <b>'"),
        ItemOutcome(nodeid="c", path="configs/z_real_problem.yml", verdict="fail", message="m", report=report),
    ]
    md = render(SessionReport(version="0", target="mi300x", items=items))
    html = MarkdownIt("commonmark").enable("table").render(md)

    assert "<img" not in html and "<script" not in html and "LGTM <b>" not in html and "<!--" not in html
    assert "@acme/" not in html  # mentions broken with a zero-width space
    assert html.count("<details>") == 2 * len(report.findings)  # every section of both fail items visible
    assert "z_real_problem.yml" in html


def test_d8_fences_are_longer_than_any_backtick_run() -> None:
    from pytest_goblin.reporting.escape import md_code, md_fence

    lines = md_fence("a\n````\n```diff\nb", "diff")
    assert lines[0] == "`````diff" and lines[-1] == "`````"
    assert md_code("a``b") == "``` a``b ```"


def test_d21_step_summary_is_capped_at_one_mebibyte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_goblin.reporting.github import MAX_STEP_SUMMARY, append_step_summary

    summary = tmp_path / "s.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    block = "<details><summary>x</summary>\n\n```diff\n" + "+x\n" * 2000 + "```\n</details>\n"
    append_step_summary(block * 400)  # about 2.5 MB
    text = summary.read_text()
    assert len(text.encode()) <= MAX_STEP_SUMMARY and "cut to GitHub's 1 MiB" in text
    assert text.count("```") % 2 == 0 and text.count("<details>") == text.count("</details>")


# ---- D12 / D15 / D26: files goblin writes --------------------------------------------------------


def _fixable(repo: Path, name: str, text: str | bytes | None = None) -> Path:
    path = repo / "configs" / name
    data = text if text is not None else BASE.read_text()
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def _fix(path: Path, audited: Any = None) -> str | None:
    from pytest_goblin.patching import fix_note

    report = main_report()
    assert report.patch is not None
    return fix_note(path, report.patch, audited)


def test_d12_fix_keeps_mode_line_endings_and_bom(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    lf = _fixable(repo, "lf.yml")
    lf.chmod(0o775)
    crlf = _fixable(repo, "crlf.yml", BASE.read_text().replace("\n", "\r\n"))
    cr = _fixable(repo, "cr.yml", BASE.read_text().replace("\n", "\r"))
    bom = _fixable(repo, "bom.yml", b"\xef\xbb\xbf" + BASE.read_bytes())
    for path in (lf, crlf, cr, bom):
        note = _fix(path)
        assert note and note.startswith("--goblin-fix wrote"), (path.name, note)
    assert oct(lf.stat().st_mode & 0o777) == oct(0o775)
    body = crlf.read_bytes()
    assert body.count(b"\r\n") == body.count(b"\n") and body.count(b"\r\n") >= BASE.read_text().count("\n")
    body = cr.read_bytes()
    assert b"\n" not in body and body.count(b"\r") >= BASE.read_text().count("\n")
    assert bom.read_bytes().startswith(b"\xef\xbb\xbf") and load_config(bom).workload.micro_batch_size > 1


def test_d12_fix_refuses_symlinks_read_only_files_and_outside_files(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    ro = _fixable(repo, "ro.yml")
    ro.chmod(0o444)
    target = _fixable(repo, "target.yml")
    (repo / "configs" / "link.yml").symlink_to(target)
    outside = tmp_path / "outside.yml"
    outside.write_text(BASE.read_text())
    (repo / "configs" / "ext").symlink_to(tmp_path)
    before = {p: p.read_bytes() for p in (ro, target, outside)}
    assert "read-only" in str(_fix(ro))
    assert "a symlink" in str(_fix(repo / "configs" / "link.yml"))
    assert "outside the audited tree" in str(_fix(repo / "configs" / "ext" / "outside.yml"))
    assert {p: p.read_bytes() for p in before} == before and (repo / "configs" / "link.yml").is_symlink()


def test_d26_a_file_changed_since_the_audit_is_not_overwritten(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    path = _fixable(repo, "c.yml")
    audited = load_config(path)  # the parse the audit ran on, handed to --goblin-fix
    stat = path.stat()
    changed = BASE.read_text().replace("learning_rate: 0.0002", "learning_rate: 0.0003")
    assert changed != BASE.read_text() and len(changed) == len(BASE.read_text())
    path.write_text(changed)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # cp -p / rsync -t keep the mtime
    assert "changed since it was audited" in str(_fix(path, audited))
    assert path.read_text() == changed


def test_d15_command_runner_never_writes_through_a_planted_symlink(tmp_path: Path) -> None:
    from pytest_goblin.runners.command import variant_file

    configs = tmp_path / "c"
    configs.mkdir()
    config = configs / "base.yml"
    config.write_text("a: 1\n")
    victim = tmp_path / "victim.txt"
    victim.write_text("ORIGINAL")
    (configs / ".base.goblin-p1.yml").symlink_to(victim)
    with variant_file(config, "a: 2\n", "p1") as copy:
        assert copy.read_text() == "a: 2\n" and not copy.is_symlink() and copy.parent == configs
    assert victim.read_text() == "ORIGINAL" and (configs / ".base.goblin-p1.yml").is_symlink() and not copy.exists()


# ---- D14 / D22 / D23 / D24 / D25 ----------------------------------------------------------------


def test_d14_d24_a_config_error_is_one_redacted_line_in_the_terminal_and_junit(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    token = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    (repo / "configs" / "tok.yml").write_text(f'base_model: meta-llama/Llama-3.1-8B-Instruct\ndatasets:\n  - path: x\nmicro_batch_size: "{token}"\n')
    proc = _pytest(repo, "configs/tok.yml", "--junitxml", "p.xml")
    assert proc.returncode == 1 and token not in proc.stdout + proc.stderr and token not in (repo / "p.xml").read_text()
    assert "tok.yml" in proc.stdout and len(proc.stdout.splitlines()) < 60, proc.stdout  # not 520 lines of traceback
    assert "_pytest/" not in proc.stdout and "pluggy/" not in proc.stdout


def test_d22_merge_and_baseline_refuse_other_schemas_nan_and_bad_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    good = tmp_path / "good.json"
    main(["audit", str(BASE), "--runner", "projection", "--target", "mi300x", "--json", str(good)])
    data = json.loads(good.read_text())
    bad_schema, nan, binary = tmp_path / "v999.json", tmp_path / "nan.json", tmp_path / "bin.json"
    bad_schema.write_text(json.dumps({**data, "schema_version": 999}))
    data["items"][0]["report"]["speedup"]["point"] = float("nan")
    nan.write_text(json.dumps(data))
    binary.write_bytes(b"\xff\xfe")
    for path, expect in ((bad_schema, "schema version 1"), (nan, "NaN or infinite"), (binary, "not valid UTF-8")):
        capsys.readouterr()
        assert main(["merge", str(good), str(path)]) == 2
        assert expect in capsys.readouterr().err
    repo = _tree(tmp_path)
    proc = _pytest(repo, "configs", "--goblin-baseline", str(nan))
    assert proc.returncode == 4 and "NaN or infinite" in proc.stderr and "INTERNALERROR" not in proc.stdout + proc.stderr


def test_d23_a_report_path_that_cannot_be_written_is_a_line_and_json_still_lands(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    (repo / "r.md").mkdir()
    step = repo / "summary-dir"
    step.mkdir()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--goblin",
            "configs",
            "--goblin-runner",
            "projection",
            "--goblin-md",
            "r.md",
            "--goblin-json",
            "r.json",
            "-p",
            "no:cacheprovider",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        env={**ENV, "GITHUB_STEP_SUMMARY": str(step)},
    )
    assert "Traceback" not in proc.stdout + proc.stderr and "INTERNALERROR" not in proc.stdout + proc.stderr
    assert "could not write the Markdown summary to r.md" in proc.stdout and "could not append to $GITHUB_STEP_SUMMARY" in proc.stdout
    assert (repo / "r.json").is_file()


@pytest.mark.parametrize("option", ["goblin_command_steps=nan", "goblin_command_steps=inf", "goblin_fail_at=nan", "goblin_warn_at=-inf"])
def test_d25_non_finite_ini_numbers_are_usage_errors_naming_the_option(tmp_path: Path, option: str) -> None:
    repo = _tree(tmp_path)
    proc = _pytest(repo, "configs", "-o", option)
    assert proc.returncode == 4 and option.split("=")[0] in proc.stderr and "INTERNALERROR" not in proc.stdout + proc.stderr


def test_d29_a_130k_key_file_is_refused_fast(tmp_path: Path) -> None:
    path = tmp_path / "big.yml"
    path.write_text("base_model: x\n" + "".join(f"k{i}: {i}\n" for i in range(130_000)))
    start = time.perf_counter()
    with pytest.raises(ConfigError, match="far more than any training config"):
        load_config(path)
    assert time.perf_counter() - start < 5


# ---- fuzzing the loader and the writer with the red-team inputs ----------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FRAGMENTS = [
    *HOSTILE_SCALARS.values(),
    "deepspeed: ../../../etc/passwd\n",
    "fsdp_config: /proc/self/status\n",
    "description: |\n  ```\n  ::stop-commands::x\n  ##[error]y\n",
    "{a: 1, b: [1, 2]}\n",
    "x: &a [1]\ny: *a\n",
    "k: '" + "A" * 200 + "'\n",
    "\ufeff",
    "\r",
    "\r\n",
    "\x0c",
    "\u2028",
    "key: café\n",
    "api_key: plainsecretvalue\n",
    "DATABASE_URL: postgres://u:p4ssw0rd@h/db\n",
]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(parts=st.lists(st.sampled_from(FRAGMENTS), max_size=6), mbs=st.integers(1, 64))
def test_fuzz_loader_and_writer_with_red_team_fragments(tmp_path: Path, parts: list[str], mbs: int) -> None:
    """Any mix of the red-team fragments with a real config: load_config reads it or raises
    ConfigError / NotATrainingConfig naming the file; an edit either writes a file that reads
    back with the edit or leaves it untouched; no content from outside the tree is quoted."""
    from pytest_goblin.errors import NotATrainingConfig
    from pytest_goblin.formats.textedit import apply_yaml_edits

    repo = tmp_path / f"r{abs(hash((tuple(parts), mbs)))}"
    (repo / ".git").mkdir(parents=True, exist_ok=True)
    path = repo / "c.yml"
    path.write_text(BASE.read_text() + "".join(parts), encoding="utf-8")
    try:
        loaded = load_config(path)
    except (ConfigError, NotATrainingConfig) as exc:
        assert str(path) in str(exc)
        return
    assert "root:" not in " ".join(loaded.workload.notes) and "Name:" not in " ".join(loaded.workload.notes)
    new = apply_yaml_edits(loaded.text, loaded.data, {"micro_batch_size": mbs})
    if new != loaded.text:
        path.write_text(new, encoding="utf-8")
        assert load_config(path).workload.micro_batch_size == mbs


def test_d5_a_checkout_cannot_replace_any_part_of_goblin(tmp_path: Path) -> None:
    """`python -m pytest` puts the checkout first on sys.path: its `runner/`, `kb/` packages are
    not goblin's (goblin lives under pytest_goblin only), so no trap runs and the KB is not
    replaced; with `python -P` (as the composite action runs pytest) even a `pytest_goblin/`
    package in the checkout is ignored."""
    import json

    repo = _tree(tmp_path)
    pwned = tmp_path / "PWNED"
    trap = f"open({str(pwned)!r}, 'a').write(__file__ + '\\n')\n"
    for pkg in ("runner", "kb"):
        (repo / pkg).mkdir()
        (repo / pkg / "__init__.py").write_text(trap)
    (repo / "runner" / "worker.py").write_text(trap)
    (repo / "kb" / "hardware.yaml").write_text("[]\n")
    proc = _pytest(repo, "configs", "--goblin-json", "r.json")
    assert proc.returncode == 1 and not pwned.exists()
    assert json.loads((repo / "r.json").read_text())["items"][0]["verdict"] == "fail"  # the KB was not swapped out
    (repo / "pytest_goblin").mkdir()
    (repo / "pytest_goblin" / "__init__.py").write_text(trap)
    cmd = [sys.executable, "-P", "-m", "pytest", "--goblin", "configs", "--goblin-runner", "projection", "-p", "no:cacheprovider", "--noconftest"]
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, timeout=120, env=ENV)
    assert proc.returncode == 1 and not pwned.exists(), proc.stdout[-2000:]
