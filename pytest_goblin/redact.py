"""Secrets out of everything goblin writes: events, logs, reports, comments.

Configs in pull requests carry tokens by accident (`hub_token: hf_...`, an `env:` entry with a
W&B key); a diff's context lines or a report's workload would repeat them into CI logs and PR
comments. One rule, everywhere: a value whose name is a secret's (`is_secret_name`) is masked,
whether it is an environment entry read from a config, a key of a JSON object, or a `name: value`
or `NAME=value` on a line of text (a diff line, an env dump, an event); and known secret shapes
are masked in any text whatever their name (provider tokens, URL passwords, PEM private keys,
signed-URL signatures).

Patterns see one line at a time, and a value need not be one line: a YAML block scalar under
`hf_token: |`, a value on the line below its key, a quoted value with escapes, a flag and its value
as two list items. So every value read under a secret name when a config is read (`learn`, called
by the YAML reader, the Python reader and the referenced-file reader) is masked by value too, in
every text this process writes afterwards, line by line as it was written.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

MASK = "***"
# `AUTH` is a credential's word (`auth_token`, `authorization`, `oauth`) but not in `author`, `authors`,
# `author_email` or `authority` (setup.py's `author="uclaml"` masked the organisation out of every path, review4 #16)
SECRET_NAME = re.compile(
    r"(TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|(?:^|_)PASS(?:$|_)|(?:^|_)PAT(?:$|_)|_PWD$|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|ACCOUNT_?KEY|CREDENTIAL|AUTH(?!ORS?(?:$|_)|ORITY)"
    r"|(?:^|_)KEY$|CONNECTION_?STRING|_DSN$)",
    re.I,
)
# Parts of names that say TOKEN and mean a text token, not a credential (`pad_token`, `tokenizer`, `tokenized_examples`,
# `max_new_tokens`, `tokens_per_s`, Axolotl's `tokens:` list of added tokens; `token_ids` only at the
# start of a name, and never `read_token`, which is Hugging Face's read-access credential): removed before SECRET_NAME is asked, so that a config's
# tokenizer settings stay readable and its patches applicable, while `hub_token` or
# `auth_tokens` stay secret. At most four words before `token`, each start tried once: linear.
_TEXT_TOKEN = re.compile(
    r"(?<![a-z])(?:(?:max|min|num|new|total|input|output|prompt|completion|generated|special|eot|stop|creation|pad|eos|bos|unk|sep|cls|mask"
    r"|concat|start|end|image|audio|video|chat|think|append|add|resize|overflowing)_){1,4}tokens?(?![a-z])|tokeni[sz](?:ers?|ed|es?|ing|ation)|^tokens?_(?:ids?|per|type|embeddings?|capacity|across)|^tokens$",
    re.I,
)
# Every pattern here runs over untrusted text (diff context, file names, API bodies): no nested or
# adjacent unbounded quantifiers over one character class, so each is linear in the input
# (tests/test_security.py feeds megabyte runs to every regex in the package).
# user:password@ in any URL (postgres://, redis://, https://): the password goes, the rest stays.
# The password runs to the last `@` of the authority (`admin:P@ss@host`); a `/` ends the authority.
_URL_PASSWORD = re.compile(r"(?<=://)(?P<user>[^\s:/@]{0,256}):(?P<pw>[^\s/]{1,256}?)@(?=[^\s/@?#]{0,256}(?:[/?#\s\"'<>`]|$))")
# `name: value` or `NAME=value` where the name is a credential's (YAML lines in diffs, env dumps,
# connection strings). Narrow on purpose: `pad_token`, `max_tokens` or `tokens_per_s` are not secrets.
_SECRET_KEY = (
    r"(?:hub|hf|auth|access|api|github|gh|bearer|refresh|bot|personal|wandb|slack|openai|anthropic|sas|session|id)_?token"
    r"|secret(?:_?(?:access_?)?key)?|password|passwd|pwd|api_?key|access_?key|private_?key|account_?key|credentials?"
    r"|(?:openai|anthropic|wandb|hf|azure|aws|gcp|google|cohere|mistral|groq|together|replicate|comet|neptune|storage)_?key"
    r"|sharedaccesssignature|client_?secret"
)
_ASSIGNMENT = re.compile(
    rf"(?<![A-Za-z])(?:{_SECRET_KEY})(?![A-Za-z])(?P<sep>[\"']?[ \t]*[:=][ \t]*)(?P<value>\"[^\"\n\\]{{1,512}}\"|'[^'\n\\]{{1,512}}'|[^\s\"'\\,}}|>][^\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029\"\\,}}]{{2,}})",
    re.I,
)
# An environment name ending in _KEY (OPENAI_KEY=..., MY_SERVICE_KEY: ...), upper case as env names are.
_ENV_KEY = re.compile(
    r"(?<![A-Za-z0-9_])[A-Z][A-Z0-9_]{0,63}_KEY(?P<sep>[\"']?[ \t]*[:=][ \t]*)(?P<value>\"[^\"\n\\]{1,512}\"|'[^'\n\\]{1,512}'|[^\s\"'\\,}|>][^\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029\"\\,}]{2,})"
)


_LITERALS = frozenset({"null", "none", "true", "false", "~"})


def _masked_value(m: re.Match[str]) -> str:
    """The match with its value masked; quotes around the value are kept (JSON stays JSON). An
    unquoted null or boolean is no secret and stays (`"experts_per_token": null` stays JSON)."""
    value = m.group("value")
    if value.rstrip().lower() in _LITERALS:
        return m.group(0)
    lead = value[0] if value[:1] in ("'", '"') else ""
    tail = value[-1] if len(value) > 1 and value[-1] in ("'", '"') else ""
    return m.group(0)[: m.start("value") - m.start(0)] + lead + MASK + tail


# `name: value` / `NAME=value` / `"name": "value"` with any name: masked when is_secret_name(name)
# says so (the same rule as env entries and JSON keys). A name starts after a character that
# cannot be in one, so each start is tried once and each try reads at most 64 characters.
_NAMED_VALUE = re.compile(
    r"(?<![A-Za-z0-9_.-])(?P<key>[A-Za-z_][A-Za-z0-9_.-]{0,63})(?P<sep>[\"']?[ \t]*[:=][ \t]*)(?P<value>\"[^\"\n\\]{1,512}\"|'[^'\n\\]{1,512}'|[^\s\"'\\,}|>][^\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029\"\\,}]{2,})"
)


def _masked_if_secret(m: re.Match[str]) -> str:
    return _masked_value(m) if is_secret_name(m.group("key")) else m.group(0)


# A value under a secret name: quoted whole (a quoted secret may hold spaces, `#`, `;` or `,`), or
# unquoted to the end of the line (a YAML plain scalar may hold spaces, `#`, `;`), stopping at a
# double quote, a backslash, `,` or `}` so that JSON and flow mappings around it stay whole; a
# block scalar's `|` / `>` is left for the lines below it (the PEM pattern). A flag's value ends
# at the next space (the next flag follows it).
# A command-line flag and its value (`--hub_token X`, `--hub-token=X`, `-api-key X`), as launcher
# and comment lines carry them: masked when the flag's name is a secret's. The value may not start
# with `-` (the next flag); one try per `-`, each reading at most 64 characters of name.
_FLAG_VALUE = re.compile(
    r"(?<![A-Za-z0-9_-])--?(?P<key>[A-Za-z_][A-Za-z0-9_-]{0,63})(?P<sep>[ \t]+|=)(?P<value>\"[^\"\n\\]{1,512}\"|'[^'\n\\]{1,512}'|[^\s\"'\\-][^\s\"'\\]{5,})"
)


def _masked_flag_if_secret(m: re.Match[str]) -> str:
    return _masked_value(m) if is_secret_name(m.group("key").replace("-", "_")) else m.group(0)


# Query parameters that sign a URL (Azure SAS `sig=`, S3 / GCS signatures, STS session tokens).
_URL_SIGNATURE = re.compile(r"(?i)(?<=[?&;])(?P<name>sig|signature|x-amz-signature|x-goog-signature|x-amz-security-token)=[^&\s\"'#<>]+")
# A PEM key block: the BEGIN line stays, the base64 after it (on that line, written with `\n`
# escapes, or on the lines below it as a YAML block or a diff shows them) is masked. Runs before
# the per-line search, as the only pattern that spans lines.
_PEM = re.compile(
    r"(?P<head>-----BEGIN [A-Z0-9 ]{0,40}KEY(?: BLOCK)?-----)(?P<body>(?:[A-Za-z0-9+/= \t]|\\n)*(?:\n[ +]?[ \t]*[A-Za-z0-9+/=]{16,}[ \t]*(?=\n|$))*)"
)
_PEM_INDENT = re.compile(r"[ +]?[ \t]*")


def _masked_pem(m: re.Match[str]) -> str:
    first, *rest = m.group("body").split("\n")
    indents = [i.group(0) if (i := _PEM_INDENT.match(line)) else "" for line in rest]  # always matches (may be empty)
    return m.group("head") + (MASK if first.strip() else first) + "".join(f"\n{indent}{MASK}" for indent in indents)


# Each pattern, its replacement and the lower-case substrings every match of it contains (for
# ASCII text, where re.I folds as str.lower does), in the order they are applied.
_PATTERNS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str], tuple[str, ...]]] = [
    (re.compile(r"sk-ant-[A-Za-z0-9_\-]{16,}"), MASK, ("sk-",)),  # Anthropic
    (re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{20,}"), MASK, ("sk-",)),  # OpenAI-style
    (re.compile(r"hf_[A-Za-z0-9]{20,}"), MASK, ("hf_",)),  # Hugging Face
    (re.compile(r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}"), MASK, tuple(f"gh{c}_" for c in "pousr")),  # GitHub
    (re.compile(r"github_pat_[A-Za-z0-9_]{20,}"), MASK, ("github_pat_",)),
    (re.compile(r"(?:AKIA|ASIA)[0-9A-Z]{16}"), MASK, ("akia", "asia")),  # AWS access key id
    (re.compile(r"xox[abprs]-[A-Za-z0-9\-]{10,}"), MASK, tuple(f"xox{c}-" for c in "abprs")),  # Slack
    (re.compile(r"AIza[0-9A-Za-z_\-]{35}"), MASK, ("aiza",)),  # Google API key
    (re.compile(r"glpat-[A-Za-z0-9_\-]{20,}"), MASK, ("glpat-",)),  # GitLab
    (re.compile(r"(?<=[Bb]earer )[A-Za-z0-9_.~+/\-]{8,}=*"), MASK, ("bearer",)),  # an Authorization header echoed back
    (_URL_PASSWORD, lambda m: f"{m.group('user')}:{MASK}@", ("://",)),
    (_ENV_KEY, _masked_value, ("_key",)),
    (_ASSIGNMENT, _masked_value, ("token", "secret", "passw", "pwd", "key", "credential", "sharedaccesssignature")),
    (_URL_SIGNATURE, lambda m: f"{m.group('name')}={MASK}", ("sig=", "signature=", "security-token=")),
    # Matches any `name: value`; only a secret name changes it, and every secret name holds one of these.
    # every word SECRET_NAME can match must be a hint, or the gate skips a line the full pass masks (`_pat_`, `_pwd`)
    (_NAMED_VALUE, _masked_if_secret, ("token", "secret", "pass", "key", "credential", "auth", "connection", "_dsn", "pat", "pwd")),
    (_FLAG_VALUE, _masked_flag_if_secret, ("token", "secret", "pass", "key", "credential", "auth", "connection", "_dsn", "pat", "pwd")),
]
# Every string a pattern can match contains one of these: most text goes out after one search
# instead of a dozen substitutions (a report has tens of thousands of strings). A test keeps
# redact() equal to _patterns() over generated text. A substring that holds another one adds
# nothing to the test (`passw` after `pass`) and is left out: each one costs every string a scan.
_ALL_HINTS = tuple(dict.fromkeys(h for _pattern, _repl, hints in _PATTERNS for h in hints))
_HINTS = tuple(h for h in _ALL_HINTS if not any(other != h and other in h for other in _ALL_HINTS))
_MAY_HOLD_A_SECRET = re.compile("|".join(map(re.escape, _HINTS)), re.I)
_HINT_IN_LOWER = re.compile("|".join(map(re.escape, _HINTS)))  # the same, on lower-cased ASCII
_SHORT = 2048


def _may_hold_a_secret(text: str) -> bool:
    """`_MAY_HOLD_A_SECRET.search`, on lower-cased text where it is ASCII (equal there): one
    case-sensitive alternation for a short string (most of a report's strings), substring tests
    for a long one (an alternation scans it position by position); re.I's Unicode folds otherwise."""
    if text.isascii():
        low = text.lower()
        return _HINT_IN_LOWER.search(low) is not None if len(low) < _SHORT else any(h in low for h in _HINTS)
    return _MAY_HOLD_A_SECRET.search(text) is not None


def is_secret_name(name: str) -> bool:
    """The one rule for names: environment entries, JSON keys and `name: value` lines alike; a
    `-` reads as `_` (`x-api-key`, `--hub-token`)."""
    name = name.replace("-", "_")
    return _secret_name(name) if len(name) <= 256 else bool(SECRET_NAME.search(_TEXT_TOKEN.sub("", name)))


@lru_cache(maxsize=4096)
def _secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(_TEXT_TOKEN.sub("", name)))


def redact_env(env: dict[str, str]) -> dict[str, str]:
    return {k: (MASK if is_secret_name(k) and v else v) for k, v in env.items()}


RUNTIME_SECRETS = ("ANTHROPIC_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "GITHUB_TOKEN", "OPENAI_API_KEY")


def redact(text: str) -> str:
    return _redact(text, _runtime_values())


def redactor() -> Callable[[str], str]:
    """redact() with this process's keys read once, for a loop that masks many short texts (an
    audit's thoughts): reading five environment variables per text cost more than the masking."""
    runtime = _runtime_values()
    return lambda text: _redact(text, runtime)


def _runtime_values() -> list[str]:
    """The keys this process holds, whatever their shape, and the values learned from configs
    (read once per call of redact/redact_obj), longest first so that no value is left half masked."""
    held = [v for name in RUNTIME_SECRETS if (v := os.environ.get(name)) and len(v) >= 8]
    return sorted({*held, *_LEARNED}, key=len, reverse=True) if _LEARNED else held


# Values learned from configs, as `learn` split them. A piece shorter than this is left to the
# patterns (a one-line value of 3+ characters is masked by name): masking a short word everywhere
# would garble every report of the session.
MIN_LEARNED = 6
# Each text is searched once per learned value; a session holds a few (a token or two per config).
MAX_LEARNED = 2048
_LEARNED: dict[str, None] = {}


class TooManySecrets(ValueError):
    """More values under secret names than goblin will mask by value in one session."""


def secret_pieces(value: str) -> list[str]:
    """What to mask for one value as written: each of its lines, stripped, of MIN_LEARNED or more
    characters and not a YAML literal (`null`, `true`), also as JSON and repr() escape it. A block
    scalar shows in a diff line by line, so each line is masked on its own."""
    pieces = []
    for line in value.splitlines() or [value]:
        piece = line.strip()
        if len(piece) >= MIN_LEARNED and piece.lower() not in _LITERALS:
            pieces.append(piece)
            # as JSON and Python's repr write it too: an event or `goblin parse` quotes it so
            pieces += {json.dumps(piece)[1:-1], repr(piece)[1:-1]} - {piece}
    return pieces


# A name whose only secret word is a bare `key` (`key`, `sort_key`, `template_thinking_key`) names
# a credential less often than a lookup key: a value under it is masked everywhere only when it
# looks like a credential (a run of letters and digits, no spaces), or `deepspeed` and
# `base_model` would vanish from every report. One-line values are masked by name regardless.
_BARE_KEY = re.compile(r"(?:^|_)key$", re.I)
# Likewise a name whose only secret word is a trailing `token(s)` (`hub_token`, `feature_token`): masked by value only
# in the credential shape (masks_by_value); beside its name it is masked whatever it holds.
_BARE_TOKEN = re.compile(r"(?:^|_)tokens?$", re.I)
# ... unless the word before `key` says whose credential it is (`api_key`, `wandb_api_key`, `openai_key`).
_CREDENTIAL_KEY_WORDS = (
    "api",
    "access",
    "private",
    "account",
    "secret",
    "signing",
    "encryption",
    "master",
    "license",
    "ssh",
    "gpg",
    "pgp",
    "auth",
    "openai",
    "anthropic",
    "wandb",
    "hf",
    "azure",
    "aws",
    "gcp",
    "google",
    "cohere",
    "mistral",
    "groq",
    "together",
    "replicate",
    "comet",
    "neptune",
    "storage",
    "deepseek",
    "fireworks",
    "huggingface",
    "github",
    "gitlab",
    "slack",
    "stripe",
)


def _credential_key(name: str) -> bool:
    """`<word>_key` / `<word>key` where the word names whose credential it is (no regex: names only)."""
    low = name.lower()
    return low.endswith("key") and low[:-3].rstrip("_").endswith(_CREDENTIAL_KEY_WORDS)


# the words before `token` that say whose credential it is, beside _CREDENTIAL_KEY_WORDS (`hub_token`, `bearer_token`)
_CREDENTIAL_TOKEN_WORDS = (*_CREDENTIAL_KEY_WORDS, "hub", "bearer", "refresh", "session", "bot", "oauth", "client", "personal", "id", "read", "write", "gh")


def _credential_token(name: str) -> bool:
    """`<word>_token(s)` where the word names whose credential it is (`hub_token`, `HF_TOKEN`, `github_token`), or a bare
    `token`: a value under it is masked everywhere whatever its shape."""
    low = name.lower().rstrip("s")
    head = low[: -len("token")].rstrip("_") if low.endswith("token") else low
    return not head or head.endswith(_CREDENTIAL_TOKEN_WORDS)


def _credential_shape(piece: str) -> bool:
    return len(piece) >= 12 and not any(c.isspace() for c in piece) and any(c.isdigit() for c in piece) and any(c.isalpha() for c in piece)


def masks_by_value(name: str, value: str) -> bool:
    """Whether `value`, read under `name`, is masked everywhere (`learn`), not only where `name`
    is written beside it."""
    if not is_secret_name(name):
        return False
    name = name.replace("-", "_")
    if _BARE_KEY.search(name) and not is_secret_name(_BARE_KEY.sub("", name)) and not _credential_key(name):
        return any(_credential_shape(piece) for piece in secret_pieces(value))
    if _BARE_TOKEN.search(name) and not is_secret_name(_BARE_TOKEN.sub("", name)) and not _credential_token(name):
        # review11b #26 liv-daliberti/grail-simulation training-knn.sh:530 `feature_token="unknown"`: learned by value,
        # "unknown" vanished from every report of the session (`blocker.keys_***_at_version`). An issued token (hf_...,
        # ghp_..., a JWT) has the credential shape (a folded block joins its lines with spaces: each word is tried); a
        # word under a `*_token` name is a text token or a placeholder
        return any(_credential_shape(word) for piece in secret_pieces(value) for word in piece.split())
    return True


# A secret flag and its value anywhere in a file's text, also across a shell line continuation
# (`--hub_token \` then the value on the next line, in a launch block): the per-line patterns
# cannot see that value, so it is learned. One try per `-`, the name at most 64 characters.
_FLAG_ACROSS_LINES = re.compile(
    r"(?<![A-Za-z0-9_-])--?(?P<key>[A-Za-z_][A-Za-z0-9_-]{0,63})(?:[ \t]{0,64}\\\r?\n[ \t]{0,256}|[ \t]{0,64}=|[ \t]{1,64})"
    r"(?P<value>\"[^\"\n]{1,512}\"|'[^'\n]{1,512}'|[^\s\"'\\-][^\s\"'\\]{2,511})"
)


def flag_values(text: str) -> list[str]:
    """The values of secret-named flags in a file's text (`--hub_token X`, across a `\\` newline too)."""
    if "-" not in text or not _may_hold_a_secret(text):
        return []
    out = []
    for m in _FLAG_ACROSS_LINES.finditer(text):
        value = m.group("value")
        value = value[1:-1] if value[:1] in "\"'" and len(value) > 1 else value
        if masks_by_value(m.group("key"), value):
            out.append(value)
    return out


# `NAME=value` in a shell script (`export WANDB_API_KEY=...`, `HF_TOKEN=... torchrun`, `-e NAME=...`,
# `--export=ALL,NAME=...`): a launch line may pass `$WANDB_API_KEY` where no secret name is written.
_SHELL_ASSIGNMENT = re.compile(r"(?<![A-Za-z0-9_])(?P<key>[A-Za-z_][A-Za-z0-9_]{0,63})=(?P<value>\"[^\"\n]{1,512}\"|'[^'\n]{1,512}'|[^\s\"';,&|)]{1,512})")


def shell_secret_values(text: str) -> list[str]:
    """Values a shell script assigns to secret names, and its secret flags' values (flag_values)."""
    if not _may_hold_a_secret(text):
        return []
    out = flag_values(text)
    for m in _SHELL_ASSIGNMENT.finditer(text):
        value = m.group("value")
        value = value[1:-1] if value[:1] in "\"'" and len(value) > 1 else value
        if not value.startswith("$") and masks_by_value(m.group("key"), value):
            out.append(value)
    return out


# Documentation a launcher reader searches for launch lines (a README's fenced `bash` block). Its
# `NAME=value` examples are for a reader to copy: `api_key="functionary"` for a local server
# (review6b #38 MeetKai/functionary features_desc.md:11), `POSTGRES_PASSWORD=WangchanX` for a docker
# example (review6b #27 vistec-AI/WangchanX deployment/RAG.md:54). A notebook is not here: its code
# cells run, with the credentials they hold.
DOC_SUFFIXES = (".md", ".markdown", ".rst")
# A plain word: letters only, words joined by `-` or `_`, short. No provider token, key or generated
# password has this shape (each holds digits or runs longer); a placeholder or a project's own name does.
_PLAIN_WORD = re.compile(r"[A-Za-z]{1,24}(?:[-_][A-Za-z]{1,24}){0,3}")
MAX_PLAIN_WORD = 24


def documented_example(value: str) -> bool:
    """Whether a value that documentation assigns to a secret name is an example rather than a
    credential: one plain word (`functionary`, `WangchanX`, `changeme`). Learned by value it would
    mask that word in every path and verdict line of the session (the package folder it names);
    beside its secret name it is masked by the name patterns all the same."""
    piece = value.strip()
    return len(piece) <= MAX_PLAIN_WORD and _PLAIN_WORD.fullmatch(piece) is not None


def learn(values: Iterable[str]) -> None:
    """Mask these values (found under secret names in a config: `masks_by_value`) in every text
    this process writes from now on. Raises TooManySecrets past MAX_LEARNED pieces: the caller
    refuses that config rather than leave a value unmasked."""
    new = [p for v in values for p in secret_pieces(v) if p not in _LEARNED]
    if len(_LEARNED) + len(new) > MAX_LEARNED:
        raise TooManySecrets(f"more than {MAX_LEARNED:,} values under secret names (tokens, keys, passwords)")
    _LEARNED.update(dict.fromkeys(new))


def forget_learned() -> None:
    """For tests: a process that audits one config after another keeps every value it learned."""
    _LEARNED.clear()


def _redact(text: str, runtime: list[str]) -> str:
    for value in runtime:
        if value in text:
            text = text.replace(value, MASK)
    if "-----BEGIN " in text:
        text = _PEM.sub(_masked_pem, text)
    if not _may_hold_a_secret(text):
        return text
    if "\n" not in text:
        return _gated(text)
    # No pattern matches across a line break, so only the lines that may hold a secret are
    # searched: a failure report's diff and findings are mostly lines without one.
    # Split at "\n" only: str.splitlines also breaks at \r, \x0b, \x85, \u2028..., which a quoted value may
    # hold (`hub_token: "\r"`, found by the property test), so a line cut there escaped the mask.
    return "\n".join(_gated(line) if _may_hold_a_secret(line) else line for line in text.split("\n"))


def _patterns(text: str) -> str:
    """Every secret pattern applied, without the fast path."""
    text = _PEM.sub(_masked_pem, text)
    for pattern, repl, _hints in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def _gated(text: str) -> str:
    """_patterns(), running only the patterns whose substrings the (ASCII) text holds: a line
    that says `tokenizer` needs the one pattern about `token`, not all thirteen."""
    if not text.isascii():
        return _patterns(text)
    low = text.lower()
    for pattern, repl, hints in _PATTERNS:
        if any(h in low for h in hints):
            new = pattern.sub(repl, text)
            if new != text:
                text, low = new, new.lower()
    return text


# Field names of goblin's own schemas that look secret and are not: `FieldSource.key` and
# `Finding.key` hold a config key's name (`bf16`, `optim`), which a report must keep.
_SCHEMA_FIELDS = frozenset({"key"})


def redact_obj(value: Any) -> Any:
    """Every string inside a JSON-able structure redacted; secret-named keys masked whole."""
    return _redact_obj(value, _runtime_values())


def _redact_obj(value: Any, runtime: list[str]) -> Any:
    if isinstance(value, str):
        return _redact(value, runtime)
    if isinstance(value, list):
        return [_redact_obj(v, runtime) for v in value]
    if isinstance(value, dict):
        return {k: (MASK if _masks(k) and isinstance(v, str) and v else _redact_obj(v, runtime)) for k, v in value.items()}
    return value


def _masks(name: object) -> bool:
    return isinstance(name, str) and _secret_field(name)


@lru_cache(maxsize=4096)
def _secret_field(name: str) -> bool:
    """Per field name, once: a report repeats the same few hundred names in every item."""
    return name not in _SCHEMA_FIELDS and is_secret_name(name)


Model = TypeVar("Model", bound=BaseModel)


def redact_model(model: Model) -> Model:
    """The model with every string redacted (`redact_obj` over its JSON form). A field masking made
    invalid (a value learned under a secret name that is also one of goblin's own words, such as
    `deepspeed` in `strategy`) gets its value back: goblin's vocabulary is no secret, and a lost
    report costs more than the word."""
    plain = model.model_dump(mode="json")
    data = redact_obj(plain)
    while True:
        try:
            return type(model).model_validate(data)
        except ValidationError as exc:
            if not any([_restore(data, plain, err["loc"]) for err in exc.errors()]):
                raise


def _restore(data: Any, plain: Any, loc: tuple[int | str, ...]) -> bool:
    """Put back the unmasked value at `loc`; whether anything changed."""
    for part in loc[:-1]:
        try:
            data, plain = data[part], plain[part]
        except (KeyError, IndexError, TypeError):
            return False
    try:
        if not loc or data[loc[-1]] == plain[loc[-1]]:
            return False
        data[loc[-1]] = plain[loc[-1]]
    except (KeyError, IndexError, TypeError):
        return False
    return True
