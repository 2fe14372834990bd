"""Python training scripts, read with `ast` only: nothing is imported or executed.

What is read: the keyword arguments of TrainingArguments and the TRL configs (SFTConfig,
DPOConfig, GRPOConfig, ...), `from_pretrained(model_id, torch_dtype=..., attn_implementation=...,
quantization_config=BitsAndBytesConfig(...))`, a PEFT `LoraConfig(...)`, `os.environ[...] = ...`,
and module-level literal assignments those calls refer to (`BATCH = 4` ... `per_device_train_batch_size=BATCH`).
A value that is not a literal (computed, read from argv) is left to the trainer's default and
noted. Patches are exact source edits at the positions `ast` reports: a literal is replaced
where it is written, and a missing keyword is added to the call in the call's own layout.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, NotATrainingConfig
from ..redact import flag_values, is_secret_name, masks_by_value
from ..schemas import FieldSource, ModelShape, WorkloadConfig
from ..yamlio import get_path, learn_secrets
from .base import Reader, ignored_rules, model_from, stamp_versions
from .hf_trainer import HFTrainerAdapter
from .hfstyle import TA_DOCS, hf_writes


def _trl_config_classes() -> frozenset[str]:
    """Every TRL trainer config class in the shipped table (SFTConfig ... AsyncGRPOConfig), plus PPOConfig of older TRL."""
    from ..frameworks.tables import shipped

    names = {c for c in shipped("trl").get("classes", {}) if c.endswith("Config") and c not in {"ModelConfig", "DatasetConfig", "DatasetMixtureConfig"}}
    return frozenset(names | {"PPOConfig"})


HF_ARGS = frozenset({"TrainingArguments", "Seq2SeqTrainingArguments"})
CONFIG_CLASSES = HF_ARGS | _trl_config_classes()
_MARKER = re.compile(r"\b(" + "|".join(sorted(CONFIG_CLASSES)) + r")\s*\(")
_MODEL_KEYS = {
    "torch_dtype": "torch_dtype",
    "dtype": "torch_dtype",
    "attn_implementation": "attn_implementation",
    "use_flash_attention_2": "use_flash_attention_2",  # transformers 4.x's flag (4.36.2 modeling_utils.py:1227, 1269)
    "quantization_config": "quantization_config",
}
_DTYPES = {"bfloat16": "bfloat16", "bf16": "bfloat16", "float16": "float16", "half": "float16", "float32": "float32", "float": "float32"}


@dataclass(frozen=True)
class Code:
    """Source text written as is (`torch.bfloat16`), not as a literal."""

    text: str


def _render(value: Any, quote: str) -> str:
    if isinstance(value, Code):
        return value.text
    if isinstance(value, str):
        body = value.replace("\\", "\\\\").replace(quote, "\\" + quote)
        return f"{quote}{body}{quote}"
    return repr(value)


def _quote_of(text: str) -> str:
    """The file's own string quote: double unless single quotes are the majority."""
    return "'" if text.count("'") > text.count('"') else '"'


@dataclass
class Location:
    node: ast.expr  # the literal to replace
    line: int


@dataclass
class Script:
    """What the reader found: HF-style keys with literal values, and where each lives."""

    values: dict[str, Any] = field(default_factory=dict)
    where: dict[str, Location] = field(default_factory=dict)
    args_call: ast.Call | None = None  # the TrainingArguments-like call, for new keywords
    model_call: ast.Call | None = None  # from_pretrained(...), for attention and dtype
    config_class: str | None = None  # TrainingArguments or the TRL config class the script builds
    env: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _literal(node: ast.expr, consts: dict[str, tuple[Any, ast.expr]]) -> tuple[bool, Any, ast.expr]:
    """(found, value, the node holding the literal), following module-level names."""
    if isinstance(node, ast.Name) and node.id in consts:
        value, where = consts[node.id]
        return True, value, where
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "torch" and node.attr in _DTYPES:
        return True, _DTYPES[node.attr], node  # torch.bfloat16
    # model_init_kwargs={"dtype": torch.bfloat16} or dict(dtype=torch.bfloat16): a mapping of literals
    pairs: list[tuple[Any, ast.expr]] | None = None
    if isinstance(node, ast.Dict) and all(k is not None for k in node.keys):
        pairs = [(k, v) for k, v in zip(node.keys, node.values, strict=True) if k is not None]
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args and all(k.arg for k in node.keywords):
        pairs = [(ast.Constant(k.arg), k.value) for k in node.keywords]
    if pairs is not None:
        out: dict[Any, Any] = {}
        for k, v in pairs:
            ok_k, key, _ = _literal(k, consts)
            ok_v, value, _ = _literal(v, consts)
            if not (ok_k and ok_v):
                return False, None, node
            out[key] = value
        return True, out, node
    try:
        return True, ast.literal_eval(node), node
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None, node


def _secret_values(tree: ast.Module, text: str) -> list[str]:
    """Every string literal under a secret name (`hub_token="hf_..."`, `HF_TOKEN = "..."`,
    `os.environ["WANDB_API_KEY"] = "..."`, `{"api_key": "..."}`, `["--hub_token", "..."]`), as read
    and as written, for redact.learn: a report that quotes the script's lines must not quote them."""
    values: list[tuple[str, ast.expr]] = []

    def named(target: ast.expr) -> str | None:
        if isinstance(target, ast.Name):
            return target.id
        if isinstance(target, ast.Attribute):
            return target.attr
        if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, str):
            return target.slice.value
        return None

    def text_of(node: ast.expr | None) -> str | None:
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    # `my_hub = "..."` then `hub_token=my_hub`: a name passed under a secret name is followed to its literals
    bound: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    bound.setdefault(t.id, []).append(node.value)

    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg and is_secret_name(node.arg):
            values.append((node.arg, node.value))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            values += [(n, node.value) for t in targets if (n := named(t)) and is_secret_name(n)][:1]
        elif isinstance(node, ast.Dict):
            values += [(k, v) for key, v in zip(node.keys, node.values, strict=True) if (k := text_of(key)) and is_secret_name(k)]
        elif isinstance(node, ast.Call) and len(node.args) >= 2 and (k := text_of(node.args[0])) and is_secret_name(k):
            values.append((k, node.args[1]))  # os.environ.setdefault("HF_TOKEN", "..."), os.putenv(...)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.func, (ast.Name, ast.Attribute)):
            func = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if func == "login":  # huggingface_hub.login("hf_..."), wandb.login("..."): the first argument is the key
                values.append(("token", node.args[0]))
        elif isinstance(node, (ast.List, ast.Tuple)):
            for i, item in enumerate(node.elts):
                flag = text_of(item)
                if flag and flag.startswith("-"):
                    name, eq, _ = flag.lstrip("-").partition("=")
                    if name and is_secret_name(name) and (eq or i + 1 < len(node.elts)):
                        values.append((name, item if eq else node.elts[i + 1]))
    out: list[str] = []
    seen: set[int] = set()
    while values:
        name, value = values.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, ast.Name):
            values += [(name, v) for v in bound.get(value.id, [])]
            continue
        for const in ast.walk(value):
            read = text_of(const) if isinstance(const, ast.expr) else None
            if read is None:
                continue
            if read.startswith("-") and "=" in read:
                read = read.partition("=")[2]
            if masks_by_value(name, read):
                raw = ast.get_source_segment(text, const) or ""
                out += [read, raw.lstrip("rbuRBUfF").strip("\"'")]
    return out


def read_script(path: Path, text: str) -> Script:
    if not _MARKER.search(text):
        raise NotATrainingConfig(str(path), "a Python file without a TrainingArguments or TRL config call")
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise ConfigError(
            str(path), f"Python syntax error: {exc.msg}", line=exc.lineno, hint="fix the script; goblin reads it with ast and never runs it"
        ) from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise ConfigError(str(path), f"cannot parse the script: {type(exc).__name__}", hint="simplify the file") from None
    learn_secrets(path, _secret_values(tree, text) + flag_values(text))
    consts: dict[str, tuple[Any, ast.expr]] = {}
    # Literal assignments at module level first, then inside functions (a `model_id = "..."` in main()).
    stmts = list(tree.body) + [n for n in ast.walk(tree) if isinstance(n, ast.Assign) and n not in tree.body]
    for stmt in stmts:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            ok, value, _node = _literal(stmt.value, {})
            if ok and stmt.targets[0].id not in consts:
                consts[stmt.targets[0].id] = (value, stmt.value)
    s = Script()
    bnb: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            if name in CONFIG_CLASSES and s.args_call is None:
                s.args_call = node
                s.config_class = name
                for kw in node.keywords:
                    if kw.arg is None:
                        s.notes.append(f"line {node.lineno}: `**` arguments of {name} are not read")
                        continue
                    ok, value, where = _literal(kw.value, consts)
                    if ok:
                        s.values[kw.arg] = value
                        s.where[kw.arg] = Location(where, where.lineno)
                    else:
                        s.notes.append(f"line {kw.value.lineno}: {kw.arg} is computed at run time; the trainer default is assumed")
            elif name == "from_pretrained" and s.model_call is None and (node.args or node.keywords):
                s.model_call = node
                first = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "pretrained_model_name_or_path"), None)
                if first is not None:
                    ok, value, where = _literal(first, consts)
                    if ok and isinstance(value, str):
                        s.values["model_name_or_path"] = value
                        s.where["model_name_or_path"] = Location(where, where.lineno)
                for kw in node.keywords:
                    if kw.arg in _MODEL_KEYS:
                        ok, value, where = _literal(kw.value, consts)
                        if ok:
                            s.values[_MODEL_KEYS[kw.arg]] = value
                            s.where[_MODEL_KEYS[kw.arg]] = Location(where, where.lineno)
            elif name.endswith("Trainer") and "model_name_or_path" not in s.values:
                # SFTTrainer(model="Qwen/...") or model=model_id: TRL loads the model from the id itself.
                arg = next((k.value for k in node.keywords if k.arg == "model"), node.args[0] if node.args else None)
                if arg is not None:
                    ok, value, where = _literal(arg, consts)
                    if ok and isinstance(value, str):
                        s.values["model_name_or_path"] = value
                        s.where["model_name_or_path"] = Location(where, where.lineno)
            elif name == "BitsAndBytesConfig":
                for kw in node.keywords:
                    if kw.arg in ("load_in_4bit", "load_in_8bit"):
                        ok, value, where = _literal(kw.value, consts)
                        if ok:
                            bnb[kw.arg] = value
                            s.where[kw.arg] = Location(where, where.lineno)
            elif name in ("LoraConfig", "get_peft_model"):
                s.values["use_peft"] = True
                s.where.setdefault("use_peft", Location(node, node.lineno))
            elif name == "setdefault" and isinstance(node.func, ast.Attribute) and _is_environ(node.func.value) and len(node.args) == 2:
                _env(s, node.args[0], node.args[1], consts)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript) and _is_environ(node.targets[0].value):
            _env(s, node.targets[0].slice, node.value, consts)
    s.values.update(bnb)
    if "use_peft" in s.values and bnb.get("load_in_4bit"):
        s.values.setdefault("load_in_4bit", True)
    if s.args_call is None:
        raise NotATrainingConfig(str(path), "a Python file without a TrainingArguments or TRL config call")
    return s


def _is_environ(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name) and node.value.id == "os"


def _env(s: Script, key: ast.expr, value: ast.expr, consts: dict[str, tuple[Any, ast.expr]]) -> None:
    ok_k, k, _ = _literal(key, consts)
    ok_v, v, _ = _literal(value, consts)
    if ok_k and ok_v and isinstance(k, str):
        s.env[k] = str(v)


class _ScriptReader(Reader):
    def __init__(self, path: str, script: Script):
        super().__init__(path, script.values)
        self.script = script

    def raw(self, *keys: str) -> tuple[str | None, Any, int | None]:
        for key in keys:
            value = self.script.values.get(key)
            if value is None and "." in key:  # model_init_kwargs.dtype: a key of a literal dict argument
                head, _, rest = key.partition(".")
                value = get_path(self.script.values.get(head), rest)[1]
                key_loc = self.script.where.get(head)
                if value is not None:
                    return key, value, key_loc.line if key_loc else None
            if value is not None:
                loc = self.script.where.get(key)
                return key, value, loc.line if loc else None
        return None, None, None


class PythonAdapter(HFTrainerAdapter):
    """A training script: the TrainingArguments / TRL keys, as the HF adapter reads them."""

    name = "python"
    docs = TA_DOCS
    suffixes = frozenset({".py"})

    def detect(self, data: Any) -> int:
        return 100 if isinstance(data, Script) else 0

    def model_shape(self, r: Reader) -> ModelShape:
        return model_from(r, "model_name_or_path")

    def parse(self, path: Path, data: Any, text: str) -> WorkloadConfig:
        script: Script = data
        r = _ScriptReader(str(path), script)
        r.text = text
        model = self.model_shape(r)
        if "model_name_or_path" not in script.values:
            r.notes.append("no literal model id in from_pretrained(...); a generic model shape is assumed")
        self.read(r)
        stamp_versions(r)
        return WorkloadConfig(
            path=str(path),
            format=self.name,
            framework=r.framework,
            model=model,
            env=script.env,
            ignored_rules=ignored_rules(text),
            sources={k: v for k, v in r.sources.items() if isinstance(v, FieldSource)},
            notes=[*script.notes, *r.notes],
            **r.values,
        )

    def writes(self, field: str, value: Any, workload: WorkloadConfig, data: Any) -> dict[str, Any] | None:
        script: Script = data
        if field == "attention":
            return (
                {"attn_implementation": {"flash": "flash_attention_2", "flex": "flex_attention"}.get(value, value)} if script.model_call is not None else None
            )
        if field == "precision":
            out: dict[str, Any] = {}
            if value == "bf16":
                out = {"bf16": True, **({"fp16": False} if "fp16" in script.values else {})}
            elif value == "fp16":
                out = {"fp16": True, **({"bf16": False} if "bf16" in script.values else {})}
            dtype = script.where.get("torch_dtype")
            if out and dtype is not None:  # load the weights in the same dtype the trainer computes in
                name = {"bf16": "bfloat16", "fp16": "float16"}[value]
                out["torch_dtype"] = Code(f"torch.{name}") if isinstance(dtype.node, ast.Attribute) else name
            return out or None
        if field in ("quantization", "method", "fused_kernels", "activation_offloading", "cpu_offload", "sample_packing"):
            if field == "sample_packing":
                return {"packing": value}
            if field == "fused_kernels":
                return {"use_liger_kernel": value}
            return None  # quantization and PEFT are code, not arguments
        return hf_writes(field, value, workload, script.values, batch_key="per_device_train_batch_size", liger_key="use_liger_kernel")

    def apply(self, path: Path, text: str, data: Any, workload: WorkloadConfig, fields: dict[str, Any]) -> tuple[str, dict[str, str]]:
        script: Script = data
        skipped: dict[str, str] = {}
        edits: list[tuple[int, int, str]] = []  # (start offset, end offset, replacement)
        offsets = _line_offsets(text)
        inserts: dict[int, list[tuple[str, str]]] = {}  # call id -> keywords to add
        calls: dict[int, ast.Call] = {}
        for f, value in fields.items():
            w = self.writes(f, value, workload, data)
            if w is None:
                skipped[f] = self.unwritable_reason(f)
                continue
            for key, new in w.items():
                loc = script.where.get(key)
                if loc is not None and isinstance(loc.node, (ast.Constant, ast.Attribute)) and loc.node.end_lineno is not None:
                    start = _char(text, offsets, loc.node.lineno, loc.node.col_offset)
                    end = _char(text, offsets, loc.node.end_lineno, loc.node.end_col_offset or 0)
                    quote = text[start] if text[start] in "'\"" else _quote_of(text)
                    edits.append((start, end, _render(new, quote)))
                    continue
                call = script.model_call if key in ("attn_implementation", "torch_dtype") else script.args_call
                if call is None or any(k.arg == key for k in call.keywords):
                    skipped[f] = f"{key} is computed in the script; edit it by hand"
                    continue
                calls[id(call)] = call
                inserts.setdefault(id(call), []).append((key, _render(new, _quote_of(text))))
        for cid, pairs in inserts.items():
            edits.append(_insertion(text, offsets, calls[cid], pairs))
        for start, end, new in sorted(edits, reverse=True):
            text = text[:start] + new + text[end:]
        return text, skipped

    def apply_keys(self, text: str, data: Any, writes: dict[str, Any]) -> tuple[str, list[str]]:
        """Replace the literal of each keyword the script passes (`tf32=True`); a key it computes or
        does not pass is left for the user (a blocker's fix is one literal, never new code)."""
        script: Script = data
        offsets = _line_offsets(text)
        edits: list[tuple[int, int, str]] = []
        missed: list[str] = []
        for key, new in writes.items():
            loc = script.where.get(key)
            if loc is None or not isinstance(loc.node, (ast.Constant, ast.Attribute)) or loc.node.end_lineno is None:
                missed.append(key)
                continue
            start = _char(text, offsets, loc.node.lineno, loc.node.col_offset)
            end = _char(text, offsets, loc.node.end_lineno, loc.node.end_col_offset or 0)
            quote = text[start] if text[start] in "'\"" else _quote_of(text)
            edits.append((start, end, _render(new, quote)))
        for start, end, new in sorted(edits, reverse=True):
            text = text[:start] + new + text[end:]
        return text, missed

    def unwritable_reason(self, field: str) -> str:
        if field in ("quantization", "method"):
            return "quantization and PEFT are set up in code (BitsAndBytesConfig, LoraConfig); change them by hand"
        return super().unwritable_reason(field)


def _line_offsets(text: str) -> list[int]:
    """Start of each line as ast counts lines: split at "\n" only (the text's line endings are
    normalized on reading); str.splitlines() would also split at form feeds and U+2028 (D11)."""
    offsets, total = [], 0
    for line in text.split("\n"):
        offsets.append(total)
        total += len(line) + 1
    offsets.append(len(text))
    return offsets


def _char(text: str, offsets: list[int], lineno: int, col_bytes: int) -> int:
    """The character index of an ast position: ast's col_offset counts UTF-8 bytes, not
    characters, so `output_dir="café"` before a literal shifted every edit after it (D11)."""
    start = offsets[lineno - 1]
    end = offsets[lineno] if lineno < len(offsets) else len(text)
    return start + len(text[start:end].encode("utf-8")[:col_bytes].decode("utf-8", "ignore"))


def _insertion(text: str, offsets: list[int], call: ast.Call, pairs: list[tuple[str, str]]) -> tuple[int, int, str]:
    """Add keywords after the call's last argument, one per line when the call is laid out so."""
    last = (call.keywords[-1].value if call.keywords else call.args[-1]) if (call.keywords or call.args) else None
    if last is None or last.end_lineno is None:
        pos = _char(text, offsets, call.end_lineno or call.lineno, call.end_col_offset or 1) - 1  # before ")"
        return pos, pos, ", ".join(f"{k}={v}" for k, v in pairs)
    end = _char(text, offsets, last.end_lineno, last.end_col_offset or 0)
    multiline = (call.end_lineno or call.lineno) > call.lineno and call.keywords and call.keywords[-1].value.lineno != call.lineno
    if multiline:
        kw_line_start = offsets[call.keywords[-1].value.lineno - 1]
        indent = re.match(r"[ \t]*", text[kw_line_start:]).group(0)  # type: ignore[union-attr]
        trailing_comma = text[end:].lstrip(" \t").startswith(",")
        if trailing_comma:
            end = end + text[end:].index(",") + 1
            return end, end, "".join(f"\n{indent}{k}={v}," for k, v in pairs)
        return end, end, "".join(f",\n{indent}{k}={v}" for k, v in pairs)
    return end, end, "".join(f", {k}={v}" for k, v in pairs)
