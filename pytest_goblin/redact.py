"""Secrets out of everything goblin writes: events, logs, reports, comments.

Configs in pull requests carry tokens by accident (`hub_token: hf_...`, an `env:` entry with a
W&B key); a diff's context lines or a report's workload would repeat them into CI logs and PR
comments. Values of environment entries whose names say they are secret are masked when the
config is read; known token shapes are masked in any text on the way out.
"""

from __future__ import annotations

import os
import re
from typing import Any

MASK = "***"
SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH)", re.I)
_TOKENS = [
    re.compile(r"sk-ant-[A-Za-z0-9_\-]{16,}"),  # Anthropic
    re.compile(r"sk-[A-Za-z0-9_\-]{20,}"),  # OpenAI-style
    re.compile(r"hf_[A-Za-z0-9]{20,}"),  # Hugging Face
    re.compile(r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}"),  # GitHub
    re.compile(r"github_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"AKIA[0-9A-Z]{16}"),  # AWS access key id
    re.compile(r"xox[abprs]-[A-Za-z0-9\-]{10,}"),  # Slack
]
# `name: value` or `NAME=value` where the name is a credential's (YAML lines in diffs, env dumps).
# Narrow on purpose: `pad_token`, `max_tokens` or `tokens_per_s` are not secrets.
_SECRET_KEY = (
    r"(?:hub|hf|auth|access|api|github|gh|bearer|refresh|bot|personal|wandb|slack|openai|anthropic)_?token"
    r"|secret(?:_?key)?|password|passwd|api_?key|access_?key|private_?key|credentials?"
)
_ASSIGNMENT = re.compile(
    rf"(?P<key>[\"']?[A-Za-z0-9_.\-]*?(?<![A-Za-z])(?:[A-Za-z0-9]*_)?(?:{_SECRET_KEY})(?![A-Za-z])[\"']?\s*[:=]\s*)"
    r"(?P<value>[\"']?[^\s\"',}#]{6,}[\"']?)",
    re.I,
)


# Every string a pattern above can match contains one of these: most text goes out after one
# search instead of eight substitutions (a report has tens of thousands of strings).
_MAY_HOLD_A_SECRET = re.compile(r"sk-|hf_|gh[pousr]_|github_pat_|AKIA|xox[abprs]-|token|secret|passw|api_?key|access_?key|private_?key|credential", re.I)


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def redact_env(env: dict[str, str]) -> dict[str, str]:
    return {k: (MASK if is_secret_name(k) and v else v) for k, v in env.items()}


RUNTIME_SECRETS = ("ANTHROPIC_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "GITHUB_TOKEN", "OPENAI_API_KEY")


def redact(text: str) -> str:
    for name in RUNTIME_SECRETS:  # the keys this process holds, whatever their shape
        value = os.environ.get(name)
        if value and len(value) >= 8 and value in text:
            text = text.replace(value, MASK)
    if not _MAY_HOLD_A_SECRET.search(text):
        return text
    for pattern in _TOKENS:
        text = pattern.sub(MASK, text)
    return _ASSIGNMENT.sub(lambda m: m.group("key") + MASK, text)


def redact_obj(value: Any) -> Any:
    """Every string inside a JSON-able structure redacted; secret-named keys masked whole."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_obj(v) for v in value]
    if isinstance(value, dict):
        return {k: (MASK if isinstance(k, str) and is_secret_name(k) and isinstance(v, str) and v else redact_obj(v)) for k, v in value.items()}
    return value
