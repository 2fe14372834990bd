"""Secrets that are not one line, masked by value (red team round 6 on 0.2.0, issue 26).

The name patterns see one line at a time; a value may be a YAML block scalar, sit on the line below
its key, hold escapes, follow a comma, or be the list item after a `--hub_token` flag. Every value
read under a secret name is masked by value in every output (redact.learn), line by line as written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_goblin import redact
from pytest_goblin.cli import main

from .repo_files import write_tree
from .test_untrusted_outputs import ENV, _base, _config

# One secret per shape the round-6 red team used; each sits right below the edited
# micro_batch_size line, so the diff's context shows it.
SHAPES = {
    "literal block": "hf_token: |\n  S11BLOCKSECRETVALUE123456\n  S11SECONDLINEVALUE7890\n",
    "folded block": "hf_token: >-\n  S12FOLDEDSECRETVALUE1234\n  S12FOLDEDSECONDLINE5678\n",
    "next line": "wandb_api_key:\n  S13NEXTLINESECRET123456\n",
    "escaped double quotes": 'hub_token: "S14ESC\\"APED\\u0041SECRET"\n',
    "doubled single quote": "password: 'it''s S15QUOTEDSECRET99'\n",
    "after a comma": "api_key: abc,S16AFTERCOMMASECRET42\n",
    "flag and value as items": 'extra_args: ["--hub_token", "S17LISTITEMSECRET1234"]\n',
    "flag=value item": "extra_args:\n  - --hub-token=S18FLAGEQUALSSECRET99\n",
    "complex key": "? auth_token\n: S19COMPLEXKEYSECRET123\n",
    "long quoted": 'hub_token: "S20' + "LONGQUOTED" * 60 + '"\n',
    "nested mapping": "credentials:\n  user: someone\n  secret: S21NESTEDSECRETVALUE77\n",
}
MARKERS = {name: text.split("S", 1)[1][:2] for name, text in SHAPES.items()}


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    redact.forget_learned()
    yield
    redact.forget_learned()


def _leaks(text: str) -> list[str]:
    """The secret fragments (S11... S21...) that a text shows."""
    import re

    return sorted(set(re.findall(r"S(?:1[1-9]|2[01])[A-Z]{3,}", text)))


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_value_under_a_secret_name_reaches_no_output(shape: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = _base().replace("micro_batch_size: 1\n", "micro_batch_size: 1\n" + SHAPES[shape], 1)
    cfg = _config(tmp_path / "c" / "secret.yml", text)
    assert _leaks(cfg.read_text())  # the file does hold it
    files = {k: tmp_path / f"r.{k}" for k in ("md", "sarif", "junit", "json")}
    assert main(["audit", str(cfg), "--diff", "-v", "--runner", "projection", "--target", "mi300x", *(f"--{k}={v}" for k, v in files.items())]) == 1
    out = capsys.readouterr().out
    assert "micro_batch_size: 1" in out  # the diff and its context are shown
    outputs = {"terminal": out, **{k: v.read_text() for k, v in files.items()}}
    main(["audit", str(cfg), "--events", "--runner", "projection", "--target", "mi300x"])
    main(["parse", "--json", str(cfg)])
    main(["parse", str(cfg)])
    outputs["events and parse"] = capsys.readouterr().out
    assert {name: _leaks(t) for name, t in outputs.items() if _leaks(t)} == {}


def test_secrets_in_a_python_script_and_a_referenced_deepspeed_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = _config(
        tmp_path / "py" / "train.py",
        "import os\nfrom transformers import TrainingArguments\n"
        'HF_TOKEN = "S11PYTHONCONSTANT1234"\n'
        'os.environ["WANDB_API_KEY"] = "S12ENVIRONSECRET5678"\n'
        'os.environ.setdefault("OPENAI_API_KEY", "S13SETDEFAULT90AB")\n'
        "args = TrainingArguments(output_dir='o', per_device_train_batch_size=1, fp16=True,\n"
        '    hub_token="S14KW\\"ESCAPEDSECRET", run_name="x", report_to=["--hub_token", "S15LISTFLAGSECRET"])\n',
    )
    (tmp_path / "ds" / "ds.json").parent.mkdir()
    (tmp_path / "ds" / "ds.json").write_text('{"zero_optimization": {"stage": 2}, "comms_logger": {"api_key": "S16JSON\\"ESCAPEDSECRET"}}\n', encoding="utf-8")
    cfg = _config(tmp_path / "ds" / "cfg.yml", _base() + "deepspeed: ds.json\n")
    files = {k: tmp_path / f"r.{k}" for k in ("md", "junit", "json")}
    main(["audit", str(script), str(cfg), "--diff", "-v", "--runner", "projection", "--target", "mi300x", *(f"--{k}={v}" for k, v in files.items())])
    outputs = {"terminal": capsys.readouterr().out, **{k: v.read_text() for k, v in files.items()}}
    assert "train.py" in outputs["terminal"] and "cfg.yml" in outputs["terminal"]
    assert set(redact._LEARNED) >= {"S11PYTHONCONSTANT1234", 'S14KW\\"ESCAPEDSECRET', 'S14KW"ESCAPEDSECRET', 'S16JSON\\"ESCAPEDSECRET'}
    assert {name: _leaks(t) for name, t in outputs.items() if _leaks(t)} == {}


def test_an_unreadable_value_under_a_secret_name_is_not_quoted_in_the_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path / "t" / "tagged.yml", _base() + "hub_token: !!int S11TAGGEDSECRET99\nother: !!int notanumber\n")
    assert main(["audit", str(cfg), "--runner", "projection"]) != 0  # an ERROR item
    out = capsys.readouterr()
    assert "YAML value cannot be read" in out.out + out.err and "'...'" in out.out + out.err
    assert not _leaks(out.out + out.err)
    from pytest_goblin.errors import ConfigError
    from pytest_goblin.yamlio import load_yaml

    with pytest.raises(ConfigError, match="notanumber"):  # an ordinary value is still named
        load_yaml(tmp_path / "x.yml", "other: !!int notanumber\n")


def test_a_bare_key_name_masks_by_value_only_what_looks_like_a_credential() -> None:
    assert redact.masks_by_value("hub_token", "hunter22")
    assert redact.masks_by_value("password", "sunshine")
    assert not redact.masks_by_value("template_thinking_key", "thinking")  # LLaMA-Factory's key, a word
    assert not redact.masks_by_value("key", "deepspeed")
    assert redact.masks_by_value("key", "a1b2c3d4e5f6g7h8")  # looks like one: masked
    assert redact.masks_by_value("openai_key", "sk-abcdef0123456789")
    assert not redact.masks_by_value("tokens", "<|im_start|>")  # Axolotl's added tokens are text
    assert not redact.masks_by_value("pad_token", "<|endoftext|>")
    # review11b #26 grail-simulation training-knn.sh:530 `feature_token="unknown"`: a text token's word is not learned (it
    # masked "unknown" in every report: `blocker.keys_***_at_version`); an issued token under the same name is
    assert not redact.masks_by_value("feature_token", "unknown")
    assert redact.masks_by_value("feature_token", "hf_abcdefghij0123456789")
    assert redact.masks_by_value("HF_TOKEN", "unknown") and redact.masks_by_value("github_token", "placeholder")


def test_a_learned_value_that_is_one_of_goblins_words_costs_no_report(tmp_path: Path) -> None:
    """A value learned under a secret name that is also an enum value (`deepspeed`): the field keeps
    it, the report is written, the value is still masked in free text."""
    from pytest_goblin.outcome import ItemOutcome, SessionReport
    from pytest_goblin.reporting.outputs import write_outputs

    from .test_security import main_report

    report = main_report()
    workload = report.patch.new_workload.model_copy(update={"strategy": "deepspeed"})  # type: ignore[union-attr]
    report = report.model_copy(update={"reason": "runs deepspeed", "patch": report.patch.model_copy(update={"new_workload": workload})})  # type: ignore[union-attr]
    session = SessionReport(version="0", target="mi300x", items=[ItemOutcome(nodeid="a", path="a.yml", verdict="fail", message="m", report=report)])
    redact.learn(["deepspeed"])
    lines = write_outputs(session, json=str(tmp_path / "r.json"))
    assert lines and "written" in lines[0]
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["items"][0]["report"]["patch"]["new_workload"]["strategy"] == "deepspeed"
    assert data["items"][0]["report"]["reason"] == "runs ***"


def test_the_line_editor_adds_a_key_after_a_complex_key_value(tmp_path: Path) -> None:
    from pytest_goblin.formats import load_config

    cfg = _config(tmp_path / "k.yml", _base() + "? auth_token\n: S19COMPLEXKEYSECRET123\n")
    loaded = load_config(cfg)
    text, missed = loaded.adapter.apply(loaded.path, loaded.text, loaded.data, loaded.workload, {"torch_compile": True})
    lines = text.splitlines()
    assert not missed and lines.index("torch_compile: true") > lines.index(": S19COMPLEXKEYSECRET123")
    assert load_config(_config(tmp_path / "k2.yml", text)).workload.torch_compile is True


def test_an_edit_that_does_not_read_back_leaves_the_verdict_undecided(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The waste is found but goblin cannot write its edit into this layout: never a clean PASS."""
    from pytest_goblin import patching
    from pytest_goblin.service import audit_file
    from pytest_goblin.settings import Settings

    cfg = _config(tmp_path / "rb.yml", _base())
    real = patching._reread

    def drops_everything(loaded, new_text):  # type: ignore[no-untyped-def]
        return loaded.workload if new_text != loaded.text else real(loaded, new_text)

    monkeypatch.setattr(patching, "_reread", drops_everything)
    result = audit_file(cfg, Settings(runner="projection", target="mi300x"), shown_as="rb.yml")
    report = result.report
    assert report is not None and report.verdict == "warn" and report.inconclusive
    assert "did not read back" in report.inconclusive and "by hand" in report.inconclusive
    assert all(patching.NOT_READ_BACK in why for why in report.patch.skipped.values() if "read back" in why)  # type: ignore[union-attr]


def test_under_xdist_the_worker_masks_what_it_learned(tmp_path: Path) -> None:
    """The values are learned where the config is read (a worker); the controller writes the reports."""
    for i in range(2):
        _config(tmp_path / "x" / f"c{i}.yml", _base().replace("micro_batch_size: 1\n", "micro_batch_size: 1\n" + SHAPES["literal block"], 1))
    cmd = [sys.executable, "-m", "pytest", "--goblin", "x", "-n", "2", "-p", "no:cacheprovider", "--goblin-runner", "projection", "--goblin-target", "mi300x"]
    cmd += ["--goblin-json", "r.json", "--goblin-md", "r.md", "--junitxml", "j.xml", "--goblin-diff", "-v"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=ENV)
    assert "c0.yml" in proc.stdout and (tmp_path / "r.json").exists(), proc.stdout[-2000:] + proc.stderr[-2000:]
    outputs = {"pytest": proc.stdout + proc.stderr, **{n: (tmp_path / n).read_text() for n in ("r.json", "r.md", "j.xml")}}
    assert "hf_token: |" in outputs["r.json"]  # the diff context is there
    assert {name: _leaks(t) for name, t in outputs.items() if _leaks(t)} == {}


def test_parse_json_keeps_the_keys_of_its_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path / "p.yml", _base() + "hub_token: S11PARSEDSECRET1234\n")
    main(["parse", "--json", str(cfg)])
    record = json.loads(capsys.readouterr().out)
    assert record["sources"]["micro_batch_size"]["key"] == "micro_batch_size"
    assert "S11PARSED" not in json.dumps(record)


# ---- red team round 7: masks never run over rendered text; more names and shapes -------------------


def _r7_render_all(tmp_path: Path, cfg_dir: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """Every output of one audit of `cfg_dir`, the PR comment body included (rendered from the JSON
    report as `goblin comment` renders it, without the network)."""
    from pytest_goblin.baseline import read_report
    from pytest_goblin.github_comment import body_for
    from pytest_goblin.reporting.markdown import render

    files = {k: tmp_path / f"r7.{k}" for k in ("md", "sarif", "junit", "json")}
    main(["audit", str(cfg_dir), "--diff", "-v", "--runner", "projection", "--target", "mi300x", *(f"--{k}={v}" for k, v in files.items())])
    out = {"terminal": capsys.readouterr().out, **{k: v.read_text() for k, v in files.items()}}
    main(["audit", str(cfg_dir), "--events", "--runner", "projection", "--target", "mi300x"])
    out["events"] = capsys.readouterr().out
    out["comment"] = body_for(render(redact.redact_model(read_report(str(files["json"]))), untrusted=True))
    return out


def test_r7_h1_a_masked_file_name_cannot_open_markup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from .test_untrusted_outputs import _html

    folder = tmp_path / "repo" / "configs" / '<img src="https:' / "evil.example"
    folder.mkdir(parents=True)
    (folder / 'p.png"><b>APPROVED by security team<b>x_token=abc.yml').write_text(_base())
    out = _r7_render_all(tmp_path, tmp_path / "repo" / "configs", capsys)
    for name in ("md", "comment"):
        html = _html(out[name])
        assert "x_token=***" in out[name], name  # masked, inside its code span
        assert "<img" not in html and "<b>APPROVED" not in html, (name, html[:3000])


def test_r7_m2_m3_a_learned_value_cannot_break_a_fence_or_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from .test_untrusted_outputs import _html

    text = _base().replace("micro_batch_size: 1\n", "micro_batch_size: 1\n# ````` see notes\n# <h2>Approved</h2> <img src=x>\n", 1)
    text += 'hub_token: "``````"\nwandb_api_key: "zzzzz\\\\"\nenv:\n  AMD_LOG_LEVEL: \'zzzzz"}, "INJECTED": {"a": "\'\n'
    _config(tmp_path / "c" / "fence.yml", text)
    out = _r7_render_all(tmp_path, tmp_path / "c", capsys)
    html = _html(out["md"])
    assert "<h2>Approved" not in html and "<img" not in html
    assert isinstance(json.loads(out["sarif"]), dict) and isinstance(json.loads(out["json"]), dict)
    events = [line for line in out["events"].splitlines() if line.startswith("{")]
    assert events and all(isinstance(json.loads(line), dict) for line in events)


R7_SECRETS = {
    "read token": "env:\n  NPM_READ_TOKEN: S11READTOKENVALUE77\n",
    "env list": "env:\n  - name: HF_TOKEN\n    value: S12ENVLISTVALUE77\n",
    "continued flag": "launch: |\n  accelerate launch train.py \\\n    --hub_token \\\n    S13FLAGBLOCKVALUE77\n",
    "inline merge": "<<:\n  hub_token:\n    S14MERGEVALUE77abc\n",
    "provider key without digits": "wandb_api_key:\n  S15NODIGITSabcdefGhijk\n",
}


@pytest.mark.parametrize("shape", sorted(R7_SECRETS))
def test_r7_more_names_and_shapes_are_masked(shape: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _config(tmp_path / "c" / "s.yml", _base().replace("micro_batch_size: 1\n", "micro_batch_size: 1\n" + R7_SECRETS[shape], 1))
    out = _r7_render_all(tmp_path, tmp_path / "c", capsys)
    assert "micro_batch_size" in out["terminal"]
    assert {name: _leaks(t) for name, t in out.items() if _leaks(t)} == {}


def test_r7_l3_python_names_and_login_calls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _config(
        tmp_path / "py" / "train.py",
        "import wandb\nfrom huggingface_hub import login\nfrom transformers import TrainingArguments\n"
        'my_hub = "S11BOUNDNAMEVALUE77"\nlogin("S12LOGINVALUE7777")\nwandb.login("S13WANDBLOGIN777")\n'
        "args = TrainingArguments(output_dir='o', per_device_train_batch_size=1, fp16=True, hub_token=my_hub)\n",
    )
    out = _r7_render_all(tmp_path, tmp_path / "py", capsys)
    assert "train.py" in out["terminal"]
    assert {name: _leaks(t) for name, t in out.items() if _leaks(t)} == {}


def test_r7_h2_read_tokens_are_credentials_text_tokens_are_not() -> None:
    for name in ("NPM_READ_TOKEN", "HF_READ_TOKEN", "READ_TOKEN", "HF_TOKEN_ID"):
        assert redact.is_secret_name(name), name
    for name in ("pad_token_id", "token_type_ids", "tokens_per_s", "eos_token_id", "max_new_tokens"):
        assert not redact.is_secret_name(name), name


def test_tokenized_data_names_are_not_credentials_and_their_strings_stay_readable() -> None:
    """`tokenized_examples = tokenizer(..., padding="max_length")` in a Hugging Face example script made
    every string of the call a learned secret, and `max_length` then read `***` in every report."""
    import ast

    from pytest_goblin.formats.python import _secret_values

    for name in ("tokenized_examples", "tokenize_fn", "tokenization_kwargs", "tokenizers", "return_overflowing_tokens"):
        assert not redact.is_secret_name(name), name
    for name in ("hub_token", "my_token", "tokenizer_token", "HF_TOKEN"):
        assert redact.is_secret_name(name), name
    text = (
        'tokenized_examples = tokenizer(q, c, truncation="only_second", padding="max_length", return_overflowing_tokens=True)\nhub_token = "S99TOKENVALUE777"\n'
    )
    assert _secret_values(ast.parse(text), text) == ["S99TOKENVALUE777", "S99TOKENVALUE777"]


# ---- red team round 8 -------------------------------------------------------------------------------


def test_r8_pat_and_pwd_names_and_url_passwords_with_at_signs() -> None:
    for name in ("HF_PAT", "GH_PAT", "AZURE_DEVOPS_PAT", "MYSQL_PWD", "DB_PWD"):
        assert redact.is_secret_name(name), name
    for name in ("PWD", "PATH", "pattern", "patience", "OLDPWD_DIR"):
        assert not redact.is_secret_name(name), name
    assert redact.redact("uri: https://admin:Summer@2026x@mlflow.internal.example/x") == "uri: https://admin:***@mlflow.internal.example/x"
    assert redact.redact("see https://host:8080/path?user=a@b.com") == "see https://host:8080/path?user=a@b.com"  # a port, not a password
    assert redact.redact("postgres://u:pw@db:5432/x") == "postgres://u:***@db:5432/x"


def test_r8_m5_a_learned_word_never_blanks_a_rendered_summary_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Lines are rendered from masked strings, never masked after rendering: a learned `FAIL  configs/x.yml`
    cannot hide a verdict line."""
    _config(tmp_path / "c" / "a_victim.yml", _base())
    _config(tmp_path / "c" / "z.yml", "base_model: gpt2\nhub_token: |\n  FAIL  " + str(tmp_path / "c" / "a_victim.yml") + "\n")
    main(["audit", str(tmp_path / "c"), "--runner", "projection", "--target", "mi300x"])
    out = capsys.readouterr().out
    assert any(line.startswith("FAIL") and "a_victim.yml" in line for line in out.splitlines()), out


def test_r8_m4_merge_errors_cannot_start_a_workflow_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path / "m" / "a.yml", _base())
    main(["audit", str(cfg), "--runner", "projection", "--target", "mi300x", "--json", str(tmp_path / "r.json")])
    data = json.loads((tmp_path / "r.json").read_text())
    (tmp_path / "m1.json").write_text(json.dumps(data))
    (tmp_path / "m2.json").write_text(json.dumps({**data, "target": "x\n::error title=SECURITY::Approved\n##[error]pwn"}))
    capsys.readouterr()
    assert main(["merge", str(tmp_path / "m1.json"), str(tmp_path / "m2.json"), "--json", str(tmp_path / "o.json")]) == 2
    err = capsys.readouterr().err
    assert "different GPUs" in err and not any(line.lstrip().startswith("::") or "##[" in line for line in err.splitlines())


def test_r8_l7_an_unreadable_model_is_inconclusive_not_a_pass(tmp_path: Path) -> None:
    """A model goblin cannot size (a local path it may not read) leaves out the memory-bound rules: not decided."""
    from pytest_goblin.service import audit_file
    from pytest_goblin.settings import Settings

    cfg = _config(tmp_path / "l7" / "a.yml", _base().replace("base_model: meta-llama/Llama-3.1-8B-Instruct", "base_model: ./private-model"))
    assert "./private-model" in cfg.read_text()
    report = audit_file(cfg, Settings(runner="projection", target="mi300x"), shown_as="a.yml").report
    assert report is not None and report.verdict == "warn" and report.inconclusive
    assert "size unknown" in report.inconclusive and "batch.raise_micro_batch" in report.inconclusive


def test_the_failure_text_masks_what_it_shows_as_the_whole_report_would(tmp_path: Path) -> None:
    """masked_failure_text masks only what failure_text renders (not the patched workload's sources and notes):
    the same text as masking the whole report first, and no secret in it."""
    from pytest_goblin.redact import redact_model
    from pytest_goblin.reporting.text import failure_text, masked_failure_text
    from pytest_goblin.service import audit_file
    from pytest_goblin.settings import Settings

    text = _base().replace("micro_batch_size: 1\n", "micro_batch_size: 1\n" + SHAPES["next line"], 1)
    cfg = _config(tmp_path / "c" / "secret.yml", text)
    r = audit_file(cfg, Settings(runner="projection", target="mi300x"), shown_as="secret.yml").report
    assert r is not None and r.patch is not None and r.patch.diff and r.patch.new_workload.sources
    shown = masked_failure_text(r)
    assert shown == failure_text(redact_model(r)) and "micro_batch_size" in shown
    assert _leaks(shown) == [] and _leaks(r.patch.diff)  # the unmasked diff holds it; the text does not


def test_an_author_is_no_credential_but_auth_words_stay_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # review4 #16 uclaml/SPPO: setup.py's `author="uclaml"` was learned as a secret and masked the organisation out of the
    # config's own path (`recipes/***-sppo/config_full.yaml`)
    for name in ("author", "authors", "AUTHOR", "author_email", "co_author", "authority"):
        assert not redact.is_secret_name(name), name
    # must not fire: the credential words that start the same way stay secret
    for name in ("auth", "auth_token", "use_auth_token", "oauth", "authorization", "authentication", "AUTHOR_TOKEN"):
        assert redact.is_secret_name(name), name
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "setup.py").write_text('from setuptools import setup\nsetup(name="x", author="acmelab", install_requires=[])\n')
    (root / "recipes" / "acmelab-dpo").mkdir(parents=True)
    config = root / "recipes" / "acmelab-dpo" / "config.yaml"
    config.write_text("model_name_or_path: mistralai/Mistral-7B-v0.1\nbf16: true\nper_device_train_batch_size: 2\n")
    redact.forget_learned()
    main(["parse", str(config), "--json"])
    out = capsys.readouterr().out
    assert "acmelab-dpo" in out and "***" not in out.split('"sources"')[0]


# review6b #38 MeetKai/functionary: features_desc.md:11 shows `api_key="functionary"` in a client example; the launcher
# reader learned it and every path lost its package folder (`FAIL  ***/train/train.py`). #27 vistec-AI/WangchanX the same
# from deployment/RAG.md:54 `-e POSTGRES_PASSWORD=WangchanX`.
DOC_EXAMPLE = '# Client\n\n```python\nclient = OpenAI(base_url="http://localhost:8000/v1", api_key="{value}")\n```\n\n```bash\ndocker run -e POSTGRES_PASSWORD={value} postgres\n```\n'
TOKEN_SHAPED = "fk9Q2xLm7PzR4tVw8nB3"


def test_a_plain_word_documentation_assigns_to_a_secret_name_is_not_learned() -> None:
    from pytest_goblin.yamlio import learn_secrets

    learn_secrets(Path("repo/features_desc.md"), ["functionary", "WangchanX", "your-api-key"])
    assert redact.redact("FAIL  functionary/train/train.py (vistec-AI/WangchanX)") == "FAIL  functionary/train/train.py (vistec-AI/WangchanX)"
    # beside its secret name the word is masked all the same
    assert "functionary" not in redact.redact('client = OpenAI(api_key="functionary")')
    assert "WangchanX" not in redact.redact("docker run -e POSTGRES_PASSWORD=WangchanX postgres")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("repo/README.md", TOKEN_SHAPED),  # token-shaped in documentation: a credential
        ("repo/README.md", "functionary-v2"),  # a digit: not a plain word
        ("repo/README.md", "a" * 25),  # longer than a word
        ("repo/configs/a.yml", "functionary"),  # a config: every value under a secret name, as before
        ("repo/train.py", "functionary"),
        ("repo/notebook.ipynb", "functionary"),  # a notebook's code cells run with what they hold
    ],
)
def test_a_secret_is_still_learned_even_where_a_path_holds_it(path: str, value: str) -> None:
    from pytest_goblin.yamlio import learn_secrets

    learn_secrets(Path(path), [value])
    assert redact.redact(f"FAIL  {value}/train/train.py") == "FAIL  ***/train/train.py"


def _doc_repo(tmp_path: Path, value: str) -> Path:
    """No launch line names the config, so the launcher search reads every file of the tree, the example too."""
    files = {
        "features_desc.md": DOC_EXAMPLE.format(value=value),
        "functionary/configs/a.yml": "base_model: meta-llama/Meta-Llama-3-8B\nmicro_batch_size: 2\nsequence_len: 4096\nbf16: true\n",
    }
    return write_tree(tmp_path / "repo", files, git=True)


def test_a_documentation_example_keeps_the_package_folder_in_every_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _doc_repo(tmp_path, "functionary")
    monkeypatch.chdir(root)
    main(["audit", "functionary/configs/a.yml", "--target", "mi300x", "--runner", "projection", "--json", str(tmp_path / "r.json")])
    out = capsys.readouterr().out + (tmp_path / "r.json").read_text()
    assert "functionary/configs/a.yml" in out and "***" not in out


def test_a_token_shaped_documentation_value_stays_masked_in_paths_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _doc_repo(tmp_path, TOKEN_SHAPED)
    (root / "functionary").rename(root / TOKEN_SHAPED)
    monkeypatch.chdir(root)
    main(["audit", f"{TOKEN_SHAPED}/configs/a.yml", "--target", "mi300x", "--runner", "projection", "--json", str(tmp_path / "r.json")])
    out = capsys.readouterr().out + (tmp_path / "r.json").read_text()
    assert TOKEN_SHAPED not in out and "***/configs/a.yml" in out
