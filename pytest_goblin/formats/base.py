"""What every format adapter shares: reading fields with provenance, writing edits back."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal

from ..errors import ConfigError
from ..modelzoo import implausible_size, infer_with_family, lookup_model_noted, placeholder, shape_basis, unmodelled_architecture
from ..redact import redact_env
from ..schemas import FieldSource, ModelShape, WorkloadConfig
from ..yamlio import get_path, parse_yaml
from .textedit import RENAME, apply_yaml_edits, rename_yaml_keys

_IGNORE = re.compile(r"#\s*goblin:\s*ignore\[([a-z0-9_.,\s]+)\]")

# A second switch that also turns recompute on: FSDP's own activation checkpointing
# (`fsdp_config.activation_checkpointing`, inline or in a referenced FSDP/accelerate file). Kept in
# `WorkloadConfig.sources` under this name, so an edit turning checkpointing off can reach it.
FSDP_AC = "fsdp_activation_checkpointing"

# Where host offload is switched on when that is in a referenced DeepSpeed / FSDP file rather than in
# the config: `<name>.<n>` -> the file, its dotted key and line, kept in `WorkloadConfig.sources` so an
# edit turning offload off can say where to change it.
OFFLOAD_AT = "cpu_offload_in"
# `WorkloadConfig.sources` key of the DeepSpeed JSON a config runs with (its resolved path, and the key
# and line that name it), for advice about keys that live in that file (rules.hierarchical_phrase)
DEEPSPEED_FILE = "deepspeed_file"
# `WorkloadConfig.sources` keys of a DeepSpeed file's own "optimizer" / "scheduler" block (file and line): the
# Trainer then hands DeepSpeed a DummyOptim / DummyScheduler and DeepSpeed builds its own, so TrainingArguments'
# `optim` / `lr_scheduler_type` do nothing (transformers 4.34.0 integrations/deepspeed.py:294-300, 315;
# 5.25.0 :578-579, 594-595): no edit of those is offered (rules.facts derived.deepspeed_owns_*)
DEEPSPEED_OWN = {"optimizer": "deepspeed_own_optimizer", "scheduler": "deepspeed_own_scheduler"}
DEEPSPEED_OWN_SOURCE = "transformers integrations/deepspeed.py:294-300,315@4.34.0 (:578-579,594-595@5.25.0)"


def record_deepspeed_own(sources: dict[str, Any], notes: list[str], found: dict[str, Any], key: str, values: dict[str, Any] | None = None) -> None:
    """Record a read DeepSpeed file's own optimizer / scheduler block (DEEPSPEED_OWN), with a note saying
    which of the Trainer's settings it overrides; `found` is formats.deepspeed.read's result. With `values`, the
    optimizer its block's `type` builds and the state it keeps (formats.deepspeed.own_optimizer) replace the
    Trainer's `optim` in the workload, so the memory and step are priced by what runs."""
    from ..schemas import FieldSource
    from .deepspeed import own_optimizer

    path = found.get("path")
    if not isinstance(path, str):
        return
    said = []
    for block, name in DEEPSPEED_OWN.items():
        if f"own_{block}" not in found:
            continue
        at = found[f"own_{block}"] or None
        sources[name] = FieldSource(file=path, key=block, line=at, explicit=True, note=f"`{block}` block in {Path(path).name}, named by `{key}`")
        said.append(f'"{block}"' + (f" (line {at})" if at else ""))
    if said:
        which = " and ".join(said)
        over = "`optim`" if len(said) == 1 and "optimizer" in said[0] else "`lr_scheduler_type`" if len(said) == 1 else "`optim` and `lr_scheduler_type`"
        two = len(said) > 1
        notes.append(
            f"{Path(path).name} defines its own {which} block{'s' if two else ''}: DeepSpeed builds {'them' if two else 'it'} and the Trainer's "
            f"{over} {'are' if two else 'is'} not used ({DEEPSPEED_OWN_SOURCE}), so goblin offers no edit of {over}"
        )
    built = own_optimizer(found) if "own_optimizer" in found else None
    if built is not None and values is not None:
        name, per, said_as = built
        values["optimizer"], values["optimizer_state_bytes"] = name, per
        at = found.get("own_optimizer") or None
        sources["optimizer"] = FieldSource(file=path, key="optimizer.type", line=at, explicit=True, note=f"DeepSpeed builds {said_as}")
        sources["optimizer_state_bytes"] = sources["optimizer"]
        notes.append(f"{Path(path).name} `optimizer.type: {found['own_optimizer_type']}`: DeepSpeed builds {said_as}; the optimizer state is priced by it")


class Reader:
    """Reads fields out of a parsed YAML mapping and remembers where each came from."""

    def __init__(self, path: str, data: Any):
        self.path = path
        self.data = data
        self.values: dict[str, Any] = {}
        self.sources: dict[str, FieldSource] = {}
        self.notes: list[str] = []
        self.text = ""  # the file's text, for comments (launcher lines, "needs 8 GPUs")
        self.framework: str | None = None  # the framework and version whose defaults the adapter applied
        # key -> (value, note): a default the repository itself declares for a key the file leaves out
        # (its own argument class the launched script parses the file into; formats/launched.py)
        self.fallback: dict[str, tuple[Any, str]] = {}
        # key -> "the repository's X (file:line), which script.py parses this file into (...)," for a key that class
        # declares with default None: the trainer's own handling of None decides (hf_trainer._old_dpo_seq_len)
        self.unset_by_repo: dict[str, str] = {}
        self.own_trainer = ""  # "the repository's DPOTrainer (scripts/trainer.py:120)": the launched script builds its own
        # goblin's key -> the older name the file sets for it, which the release the file runs on reads
        # (frameworks.history.older_names: trl 0.15's `use_liger` for use_liger_kernel)
        self.aliases: dict[str, str] = {}
        # key -> (value, where): a launch-line word the script's parser sets over the file's own value
        # (hf_trainer._launch_words); read before the file, with the launcher as the field's source
        self.over: dict[str, tuple[Any, FieldSource]] = {}
        # key -> (value, script file, line, how): a field the script a launch line runs on this file sets in code on the
        # parsed object, over the file's own value (formats/codeset.py); key -> why for one set where goblin cannot tell
        # whether or to what (the fields read from it are not judged: `mark_code_unread`)
        self.code: dict[str, tuple[Any, str, int, str]] = {}
        self.code_unread: dict[str, str] = {}
        # why the sharding the run uses cannot be read though the file that sets it is known (the repository's own torchtune
        # recipe shows none goblin reads): several processes are then DDP, said assumed (`semantics._ddp_if_launched`)
        self.strategy_unread = ""
        self.code_read: set[str] = set()  # the keys of `code` a reader asked for (said in a note: `mark_code_unread`)
        # (launcher real path, line) of the launch line whose model word a placeholder model was taken from (`_launch_named`)
        self.model_taken: tuple[str, int] | None = None
        # a pinned LLaMA-Factory before 0.9.3 merges no `key=value` launch word over the file (llamafactory.model_shape sets it)
        self.words_unmerged = False

    def raw(self, *keys: str) -> tuple[str | None, Any, int | None]:
        """First present key of `keys` (or of its older name in `aliases`): (key, value, line); value None when all are
        absent. A launch-line word over the file (`over`) wins, with no line of this file."""
        for key in keys:
            if key in self.code:  # the script sets it in code (None: unset there, as an absent key)
                self.code_read.add(key)
                if self.code[key][0] is None:
                    continue
                return key, self.code[key][0], None
            for name in (key, self.aliases[key]) if key in self.aliases else (key,):
                if name in self.over:
                    return name, self.over[name][0], None
                found, value, line = get_path(self.data, name)
                if found and value is not None:
                    return name, value, line
        return None, None, None

    def take(
        self,
        field: str,
        keys: tuple[str, ...],
        *,
        default: Any,
        note: str,
        convert: Callable[[Any], Any] = lambda v: v,
    ) -> Any:
        key, value, line = self.raw(*keys)
        if key is None:
            declared = next((k for k in keys if k in self.fallback), None)
            if declared is not None:
                value, said = self.fallback[declared]
                try:
                    return self.default(field, convert(value), said)
                except (TypeError, ValueError):
                    pass
            return self.default(field, default, note)
        try:
            converted = convert(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(self.path, f"`{key}`: {exc}", line=line, hint=f"give `{key}` a valid value") from None
        return self.explicit(field, converted, key, line)

    def explicit(self, field: str, value: Any, key: str, line: int | None) -> Any:
        self.values[field] = value
        if key in self.code:  # set in the script's code: an edit of this file would change nothing
            _v, file, at, how = self.code[key]
            self.sources[field] = FieldSource(file=file, key=key, line=at, explicit=True, note=f"{how}: change it {IN_CODE}")
            return value
        over = self.over.get(key)  # the code runs after the parser, so it wins over a launch-line word
        self.sources[field] = over[1] if over is not None else FieldSource(file=self.path, key=key, line=line, explicit=True)
        return value

    def default(self, field: str, value: Any, note: str) -> Any:
        self.values[field] = value
        self.sources[field] = FieldSource(file=self.path, explicit=False, note=note)
        return value


def as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected an integer, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if isinstance(value, int):
        return value
    raise ValueError(f"expected an integer, got {value!r}")


MAX_COUNT = 2**24  # above any real batch, accumulation, sequence length or worker count


def _count(value: Any, minimum: int) -> int:
    n = as_int(value)
    if n < minimum:
        raise ValueError(f"must be {'at least 1' if minimum == 1 else '0 or more'}, got {n}")
    if n > MAX_COUNT:
        raise ValueError(f"{n} is implausibly large (the limit is {MAX_COUNT:,})")
    return n


def positive(value: Any) -> int:
    return _count(value, 1)


def non_negative(value: Any) -> int:
    return _count(value, 0)


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false", "yes", "no", "1", "0"}:
        return value.lower() in {"true", "yes", "1"}
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError(f"expected true or false, got {value!r}")


ATTENTION_NAMES = {
    "eager": "eager",
    "sdpa": "sdpa",
    "flash_attention_2": "flash",
    "flash_attention_3": "flash",
    "flash_attention": "flash",
    "flash": "flash",
    "fa2": "flash",
    "flex_attention": "flex",  # torch flex_attention: fused, and its own switch in transformers (_supports_flex_attn)
    "flex": "flex",
    "xformers": "sdpa",  # memory-efficient kernels: same class as SDPA for the audit
    "sage": "sdpa",
}


# A Hub kernel named as the attention implementation ("kernels-community/flash-attn2",
# "kernels-community/vllm-flash-attn3@v1", "org/kernel:function"): transformers 5.24.0
# integrations/hub_kernels.py:811-816 (is_kernel) loads it in place of the built-in attention.
_HUB_KERNEL = re.compile(r"^[^/:]+/[^/:]+(?:@[^/:]+)?(?::[^/:]+)?$")


def attention_from(value: Any) -> str:
    name = str(value).strip().lower()
    if name in ATTENTION_NAMES:
        return ATTENTION_NAMES[name]
    if "flash" in name:
        return "flash"
    if _HUB_KERNEL.match(name):
        return "sdpa"  # a fused Hub kernel (paged-attention, sage-attention): never the eager path
    raise ValueError(f"unknown attention implementation {value!r} (expected eager, sdpa, flash_attention_2, flex_attention or xformers)")


class Adapter:
    """A config format: detect it, read a WorkloadConfig from it, write edits back into it."""

    name: ClassVar[str]
    docs: ClassVar[str]  # where this format's defaults are documented
    suffixes: ClassVar[frozenset[str]] = frozenset({".yaml", ".yml"})  # the files this format can be
    # A key written twice, as the framework's own loader treats it: the citation of a loader that keeps
    # the last value (PyYAML's safe_load), read the same way and said in a note; None: the loader refuses
    # the file (OmegaConf), so goblin does too, with `repeats_refused` as the reason.
    repeated_keys: ClassVar[str | None] = None
    repeats_refused: ClassVar[str] = "goblin's own config format refuses a key written twice"

    def detect(self, data: Any) -> int:
        """0 when the mapping is not this format; higher is more certain."""
        raise NotImplementedError

    def not_training(self, data: Any) -> str | None:
        """Why a file of this format is not a training config (inference, merge...), else None."""
        return None

    def read(self, r: Reader) -> None:
        raise NotImplementedError

    def model_shape(self, r: Reader) -> ModelShape:
        raise NotImplementedError

    def writes(self, field: str, value: Any, workload: WorkloadConfig, data: Any) -> dict[str, Any] | None:
        """Key path -> raw value that express `field = value` in this format; None if it cannot."""
        raise NotImplementedError

    def parse(self, path: Path, data: Any, text: str) -> WorkloadConfig:
        r = Reader(str(path), data)
        r.text = text
        model = self.model_shape(r)
        self.read(r)
        env = redact_env({str(k): str(v) for k, v in (self.env(data) or {}).items()})
        stamp_versions(r)
        stamp_framework(r)
        ignored_param_offload(r)
        return WorkloadConfig(
            path=str(path),
            format=self.name,
            framework=r.framework,
            model=model,
            env=env,
            ignored_rules=ignored_rules(text),
            sources=r.sources,
            notes=r.notes,
            **r.values,
        )

    def framework_data(self, data: Any) -> Any:
        """The mapping the framework itself reads: the file's data, or a wrapper file's block (formats/nested_block.py,
        formats/embedded.py), whose keys the key checks judge and whose lines are the file's."""
        return data

    def framework_key(self, key: str) -> str:
        """A key of `writes` as the framework names it (a wrapper block's `<block>.` prefix removed)."""
        return key

    def unwritable_reason(self, field: str) -> str:
        return f"{self.name} configs have no setting for {field}"

    def env(self, data: Any) -> dict[str, Any] | None:
        value = data.get("env") if isinstance(data, dict) else None
        return value if isinstance(value, dict) else None

    def apply_keys(self, text: str, data: Any, writes: dict[str, Any]) -> tuple[str, list[str]]:
        """New file text with raw key writes (a blocker's fix: `tf32: false`; `{key: {"rename_to": new}}`
        renames a key in place), and the keys it could not write."""
        renames = {k: v[RENAME] for k, v in writes.items() if isinstance(v, dict) and set(v) == {RENAME}}
        if renames:
            text = rename_yaml_keys(text, data, renames)
            writes = {k: v for k, v in writes.items() if k not in renames}
            if not writes:
                return text, []
            data = parse_yaml(text)
        return apply_yaml_edits(text, data, writes), []

    def apply(self, path: Path, text: str, data: Any, workload: WorkloadConfig, fields: dict[str, Any]) -> tuple[str, dict[str, str]]:
        """New file text with the field edits, and the fields this format cannot express (why)."""
        writes: dict[str, Any] = {}
        skipped: dict[str, str] = {}
        for field, value in fields.items():
            if (elsewhere := set_elsewhere(workload, field)) is not None:
                skipped[field] = elsewhere  # the launch line or the script's code sets it over the file's own value
                continue
            w = self.writes(field, value, workload, data)
            if w is None:
                skipped[field] = elsewhere_reason(field, value, workload) or self.unwritable_reason(field)
            else:
                writes.update(w)
        return apply_yaml_edits(text, data, writes), skipped


def checkpoint_off_writes(workload: WorkloadConfig, trainer: dict[str, Any]) -> dict[str, Any] | None:
    """The writes that turn recompute off: the trainer's flag, and FSDP's own activation checkpointing
    when it is on too (Axolotl exports FSDP_ACTIVATION_CHECKPOINTING, axolotl 0.18.0
    src/axolotl/utils/trainer.py:597-598, and its FSDP2 path wraps every layer in a checkpoint wrapper,
    src/axolotl/monkeypatch/accelerate/fsdp2.py:587-595; transformers 5.24.0 hands
    fsdp_config['activation_checkpointing'] to accelerate's FSDP plugin, training_args.py:2855-2858).
    None when that switch is in another file, which goblin does not edit."""
    src = workload.sources.get(FSDP_AC)
    if src is None:
        return trainer
    if src.file != workload.path or not src.key:
        return None
    gc = workload.sources.get("gradient_checkpointing")
    out = {} if gc is not None and gc.key == src.key else dict(trainer)  # the trainer's own flag is off: leave it
    out[src.key] = False
    return out


# An edit that belongs in the launch line that passes the value (a Python script's `--flag value`):
# the adapter's skip reason says so with these words, and the audit counts what such edits would gain.
IN_LAUNCH_LINE = "in the launch line"


# the model keys a launch word over a file may set (formats/launch_model.py reads their values for a placeholder model)
_MODEL_KEYS = ("model_name_or_path", "base_model", "model")


def model_word_taken(r: Reader, key: str, file: str, line: int) -> bool:
    """True for the launch line's model word a placeholder model was taken from (`_launch_named`, `Reader.model_taken`)."""
    return key in _MODEL_KEYS and r.model_taken == (file, line)


def apply_overrides(r: Reader, overrides: list[tuple[str, str, str, int, str]], table: dict[str, tuple[str, Any]], cite: str, own: str) -> list[str]:
    """Set the launch line's `key value` words (launch_line.Launch.overrides) over the file's values where `table` maps the
    key to a field and its converter, sourced at the launch line (`cite`: who merges them over the file; `own`: what the
    note calls the file). Returns how each word `table` has no field for was given (not read)."""
    unread: list[str] = []
    for key, value, file, line, how in overrides:
        if model_word_taken(r, key, file, line):
            continue  # read: the placeholder model's note says it
        if key not in table:
            unread.append(how)
            continue
        field, convert = table[key]
        try:
            converted = convert(value)
        except (TypeError, ValueError):
            r.notes.append(f"{how}: `{value}` is not a value goblin reads for {key}; the {own}'s own value is kept")
            continue
        was = r.sources.get(field)
        kept = f"; the {own}'s own {key} (line {was.line}) is overridden" if was is not None and was.file == r.path and was.line else ""
        r.values[field] = converted
        r.sources[field] = FieldSource(file=file, key=key, line=line, explicit=True, note=f"{how}: {cite}{kept}; change it {IN_LAUNCH_LINE}")
    return unread


IN_CODE = "in the script's code by hand"
# A value the script's own code sets, read with certainty (a `from_pretrained(load_in_8bit=True)`, a
# `gradient_checkpointing_enable()` call, a packing dataset): goblin does not rewrite code, so the change is the
# user's, and a projected verdict counts it as it counts the launch line's (tools/audit_tools._hand_edit_gain)
IN_CODE_BY_HAND = "in the code by hand"
# An edit whose switch lives in another file of the run (the DeepSpeed/FSDP/accelerate file that sets host offload or
# checkpointing, `elsewhere_reason`): goblin writes the audited file only, so the change is the user's, and a projected
# verdict counts it as it counts the launch line's (tools/audit_tools._hand_edit_gain; review11a #3: ZeRO-3 offload_param
# in Axolotl's copy of the file, left out of a WARN 1.12x)
IN_OTHER_FILE = "goblin edits only the audited file"
# ... unless the setting was read from that file's name only (the file itself unread): then its gain is not counted,
# and a verdict it could change is not decided (tools/audit_tools._unread_elsewhere)
FROM_NAME_ONLY = "read from the name of the file"


def set_elsewhere(workload: WorkloadConfig, field: str) -> str | None:
    """Why an edit of this file would change nothing: the launch line passes the field, or the script the launch line
    runs sets it in code after parsing the file (the source's note, which says where); None otherwise."""
    src = workload.sources.get(field)
    if src is not None and src.file != workload.path and src.note and (IN_LAUNCH_LINE in src.note or IN_CODE in src.note):
        return src.note
    return None


# The workload fields read from a TrainingArguments key, for a key the script sets where goblin cannot tell whether or
# to what (Reader.code_unread): the topology keys are semantics._ddp_if_launched's
CODE_FIELDS: dict[str, tuple[str, ...]] = {
    "bf16": ("precision",),
    "fp16": ("precision",),
    "half_precision_backend": ("precision",),
    "per_device_train_batch_size": ("micro_batch_size",),
    "gradient_accumulation_steps": ("gradient_accumulation",),
    "gradient_checkpointing": ("gradient_checkpointing", "recompute_share"),
    "optim": ("optimizer",),
    "torch_compile": ("torch_compile",),
    "dataloader_num_workers": ("dataloader_workers",),
    "max_seq_length": ("seq_len",),
    "max_length": ("seq_len",),
    "packing": ("sample_packing",),
    "deepspeed": ("zero_stage", "cpu_offload"),
    "fsdp": ("sharding",),
    "fsdp_config": ("sharding",),
}
# the keys that choose the strategy: one set in code goblin cannot read makes a DDP guess unread (semantics._ddp_if_launched)
CODE_STRATEGY_KEYS = ("deepspeed", "fsdp", "fsdp_config")


def mark_code_unread(r: Reader) -> None:
    """A key the script sets under an `if` goblin cannot evaluate, or to a value it cannot read: the fields read from it
    keep the value assumed for the projection, no rule judges them (FieldSource.unread), and a note says why. A key set
    in code that a reader asked for is said in a note too."""
    r.notes.extend(r.code[key][3] for key in r.code if key in r.code_read)
    for key, why in r.code_unread.items():
        fields = {f for f, src in r.sources.items() if src.key == key} | set(CODE_FIELDS.get(key, ()))
        mark_unread(r, [name for name in sorted(fields) if name in r.values and name in r.sources], why)


def mark_unread(r: Reader, names: list[str], why: str) -> None:
    """Each of `names` (fields with a source) kept for the projection and judged by no rule (FieldSource.unread), its
    source saying why; one note names them all."""
    for name in names:
        src = r.sources[name]
        src.unread = True
        src.note = f"{src.note + '; ' if src.note else ''}{why}: not judged"
    if names:
        r.notes.append(f"{why}: {', '.join(names)} assumed for the projection, not judged")


def shown_file(file: str, config: str) -> str:
    """A file other than the config as a reader names it: relative to the config's repository root (else its folder)."""
    import os
    from pathlib import Path

    from ..safepath import repository_root

    repo = repository_root(Path(os.path.abspath(config)).parent)
    base = os.path.realpath(repo) if repo is not None else os.path.dirname(os.path.realpath(config))
    real = os.path.realpath(file)
    return os.path.relpath(real, base) if Path(real).is_relative_to(base) else file


def elsewhere(file: str | None, config: str) -> bool:
    """Whether a value's file is another than the config (a launcher, a README), compared as real paths."""
    import os

    return bool(file) and os.path.realpath(str(file)) != os.path.realpath(config)


def source_place(src: FieldSource, w: WorkloadConfig) -> str:
    """Where a topology value was read: 'line 3' in the config, 'scripts/train.sh line 12' in another
    file (relative to the config's repository), or the source's note."""
    if src.file and src.file != w.path and src.line:
        return f"{shown_file(src.file, w.path)} line {src.line}"
    if src.line:
        return f"line {src.line}"
    return src.note or "stated"


def offload_elsewhere(workload: WorkloadConfig) -> str | None:
    """Why turning host offload off cannot be written in this file: the switch is in the DeepSpeed or
    FSDP file the config names (`deepspeed: ds_z3_offload.json`), or only in that file's name.
    DeepSpeed's offload devices are "none", "cpu" and "nvme" (deepspeed/runtime/zero/offload_config.py,
    OffloadDeviceEnum; "none" is the default)."""
    main = workload.sources.get("cpu_offload")
    # the key's line, in the file it is in (the DeepSpeed JSON's own line is said with that file's name)
    names = f"`{main.key}`" + (f" ({source_place(main, workload)})" if main.line else "") if main is not None and main.key else "its DeepSpeed/FSDP key"
    at = [s for k, s in workload.sources.items() if k.startswith(OFFLOAD_AT + ".")]
    if at and at[0].note and "passed by" in at[0].note:  # an accelerate config the repository's launcher passes
        where = "; ".join(f"`{s.key}`" + (f" at line {s.line}" if s.line else "") for s in at)
        change = 'set each to "none" there' if (at[0].key or "").endswith("_device") else f"set `{at[0].key}` to false there"
        launcher = at[0].note.split("passed by ", 1)[1]
        shown = source_place(at[0].model_copy(update={"line": 1}), workload).removesuffix(" line 1")
        return f"CPU offload is set in {shown} ({where}), the accelerate config {launcher} passes; {IN_OTHER_FILE}: {change}"
    if at:
        where = "; ".join(f"`{s.key}`" + (f" at line {s.line}" if s.line else "") for s in at)
        ds = (at[0].key or "").startswith("zero_optimization.")
        change = (
            'set each `device` to "none" there (or remove those blocks)'
            + (f", or point {names} at a ZeRO-{workload.zero_stage} file without offload" if workload.zero_stage is not None else "")
            if ds
            else f"set `{at[0].key}` to false there"
        )
        file = os.path.relpath(at[0].file, Path(workload.path).parent) if Path(at[0].file).is_relative_to(Path(workload.path).parent) else at[0].file
        if ds and Path(at[0].file).suffix.lower() not in (".json", ".yaml", ".yml"):
            # the script that writes the DeepSpeed file above its launch line (formats/heredoc.py)
            return (
                f"CPU offload is set in the DeepSpeed file this config names in {names}, which {file} writes before it launches "
                f"({where}); {IN_OTHER_FILE}: {change.replace(' there', ' in that text', 1)}"
            )
        return f"CPU offload is set in {file} ({where}), the {'DeepSpeed' if ds else 'FSDP'} file this config names in {names}; {IN_OTHER_FILE}: {change}"
    shipped_prefix = "host offload set in the framework's copy, "  # hfstyle.SHIPPED_OFFLOAD
    if main is not None and main.key and (main.note or "").startswith(shipped_prefix):
        # a file the framework ships and the repository has not (review6a #14): goblin read the framework's copy
        copy, _, other = (main.note or "").removeprefix(shipped_prefix).partition(" (without offload: ")
        other = other.removesuffix(")")
        point = (
            f"point {names} at {other!r}, which the framework ships without offload"
            if other
            else f"point {names} at a ZeRO-{workload.zero_stage} file without offload"
        )
        return (
            f"CPU offload is set in {copy}, the framework's copy of the file "
            f"this config names in {names}; the repository has none, and {IN_OTHER_FILE}: {point}, or add the file "
            "to the repository without those blocks"
        )
    if main is not None and main.key and main.key.split(".")[-1] in ("deepspeed", "fsdp_config"):
        # why it was not read, as the reader noted it ("outside the audited tree; ...", "not found ...")
        why = next((n.split(" was not read: ", 1)[1].split(";", 1)[0] for n in workload.notes if " was not read: " in n), None)
        return (
            f"CPU offload is {FROM_NAME_ONLY} this config names in {names}, which goblin could not read"
            + (f" ({why}: goblin neither reads nor edits it)" if why else "")
            + f"; {IN_OTHER_FILE}: turn off `offload_optimizer` / `offload_param` in that file, or point the key at a file without offload"
        )
    return None


def elsewhere_reason(field: str, value: Any, workload: WorkloadConfig) -> str | None:
    """Why an edit cannot be written in this file because the switch that matters lives in another."""
    if field == "cpu_offload" and value is False:
        return offload_elsewhere(workload)
    src = workload.sources.get(FSDP_AC)
    if field == "gradient_checkpointing" and value is False and src is not None and src.file != workload.path:
        return (
            f"activation checkpointing is also on in the FSDP config {src.file} (`{src.key}`), which keeps recompute on whatever this file says; "
            f"{IN_OTHER_FILE}: set it false there"
        )
    return None


def _kind(value: Any) -> str:
    return "a list" if isinstance(value, list) else "a mapping" if isinstance(value, dict) else type(value).__name__


# LLaMA-Factory chat templates that name one model generation (LLaMA-Factory
# src/llamafactory/data/template.py@0.9.2.dev0: :727 `llama2`, :743 `llama3`, :1050 `qwen25`, whose
# default system prompt is Qwen2.5's "You are Qwen, created by Alibaba Cloud"); `qwen`, `gemma`,
# `mistral`, `chatml` serve several generations of different shapes and name none.
_TEMPLATE_FAMILY = {"llama2": "llama-2", "llama3": "llama-3", "qwen25": "qwen2.5"}


def _family_from_template(r: Reader, name: str) -> ModelShape | None:
    """A fine-tune the table does not know, trained with a chat template of one generation: its
    shape is that generation's at the size the name states (Sky-T1-32B-Preview, `template: qwen25`)."""
    key, template, _ = r.raw("template")
    family = _TEMPLATE_FAMILY.get(template) if isinstance(template, str) else None
    return infer_with_family(name, family, f"`{key}: {template}`") if family else None


def _launch_named(r: Reader, value: str) -> ModelShape | None:
    """A placeholder's model where what launches this config passes one: a README code block that names it
    (formats/readme_model.py) or the launch lines that run it (formats/launch_model.py). One model over all of them
    counts; two name none, said in a note."""
    from .launch_model import launch_models
    from .readme_model import readme_model

    named: dict[str, tuple[str, int, str]] = {}
    readme = readme_model(Path(r.path))
    if readme is not None:
        named[readme[0]] = (readme[1], readme[2], "")
    places: dict[str, tuple[str, int]] = {}
    for passed in launch_models(r.path):
        if passed.merge_word and r.words_unmerged:
            continue  # the YAML's own value stands, which formats/llamafactory._launch_overrides says
        named.setdefault(passed.model, (passed.shown, passed.line, f", {passed.via}" if passed.via else ""))
        places.setdefault(passed.model, (passed.file, passed.line))
    if len(named) > 1:
        said = ", ".join(f"{model} ({where}:{line})" for model, (where, line, _via) in named.items())
        r.notes.append(f"model {value}: what launches this config passes {len(named)} different models, {said}: none is taken as the one it runs")
        return None
    if not named:
        return None
    model, (where, line, via) = next(iter(named.items()))
    shape, _unread = lookup_model_noted(model, Path(r.path).parent)
    if not shape.known:
        return None
    label = f"shape of {model} (the model {where}:{line} launches this config with{via}; the config names the placeholder {value})"
    label += f"; {shape.inferred}" if shape.inferred else ""
    r.model_taken = places.get(model)
    return shape.model_copy(update={"name": value, "inferred": label})


_SHOWN_AT = re.compile(r" on (\S+) line (\d+)$")  # where a launch word was given (launch_line._keep's `how`)


def _launch_model_word(r: Reader, launch_key: str, cite: str) -> tuple[str, str, int, str, str] | None:
    """The launch line's `launch_key` word the framework writes over the file's model (LLaMA-Factory's
    `model_name_or_path=X`, Axolotl's `--base_model X`), as (value, launcher file, line, `shown:line`, how it was given); the last one
    of the line (the command line is read in order: the last value is the one kept). None where the line passes none."""
    from .launchers import find_launch

    launch = find_launch(r.path)
    if launch is None or launch.commented:
        return None
    words = [w for w in launch.overrides if w[0] == launch_key]
    if not words:
        return None
    _key, value, file, line, how = words[-1]
    m = _SHOWN_AT.search(how)
    return value, file, line, (f"{m.group(1)}:{m.group(2)}" if m else f"{file}:{line}"), f"{how}: {cite}"


def model_from(r: Reader, *keys: str, launch: tuple[str, str] | None = None) -> ModelShape:
    """The model the config's first present `keys` names, sized. `launch`: (the key the framework lets the launch line
    set over the file, who merges it, cited); a launch line that sets it names the model that runs."""
    key, value, line = r.raw(*keys)
    if key is not None:
        r.sources["model"] = FieldSource(file=r.path, key=key, line=line, explicit=True)
    at = r.path  # the file the model is named in
    word = _launch_model_word(r, *launch) if launch is not None and not (isinstance(value, str) and placeholder(value)) else None
    if launch is not None and word is not None and word[0] != value:
        # a placeholder's model word is read by _launch_named, over every launcher; here the line that runs the config
        over, at, over_line, shown, how = word
        own = f"; the config's own `{key}: {value}` (line {line}) is overridden" if key is not None else ""
        r.notes.append(f"model from {shown}: {how}{own}; that model is the one sized and priced")
        r.sources["model"] = FieldSource(file=at, key=launch[0], line=over_line, explicit=True, note=f"{how}{own}; change it {IN_LAUNCH_LINE}")
        r.model_taken = (at, over_line)
        key, value, line = launch[0], over, over_line
    if key is not None and not isinstance(value, str):
        raise ConfigError(at, f"`{key}`: expected a model id such as meta-llama/Meta-Llama-3-8B, got {_kind(value)}", line=line, hint="give a model id")
    shape, unread = lookup_model_noted(str(value) if value is not None else None, Path(r.path).parent)
    if unread:
        r.notes.append(unread)  # a model folder outside the tree, or not a regular file: named, not read
    if not shape.known and isinstance(value, str) and unmodelled_architecture(shape) is None:
        shape = _family_from_template(r, value) or shape
    if not shape.known and isinstance(value, str) and placeholder(value):
        shape = _launch_named(r, value) or shape
    elif not shape.known and isinstance(value, str) and unmodelled_architecture(shape) is None:
        from .built_model import built_model  # a folder another config of the repository writes

        shape = built_model(value, Path(r.path), r.notes) or shape
        if not shape.known:
            from .doc_base import doc_base  # the base model the repository's Markdown names for the folder

            shape = doc_base(value, Path(r.path), r.notes) or shape
    if (basis := shape_basis(shape)) is not None:
        r.notes.append(f"{basis}: that model's layers, widths and vocabulary are used for memory and time")
    if shape.params_b is None and key is not None and implausible_size(str(value)):
        raise ConfigError(at, f"`{key}`: {value!r} names a model far larger than any that exists", line=line, hint="check the model id")
    if shape.params_b is None and (why := unmodelled_architecture(shape)) is not None:
        r.notes.append(f"model {value}: size unknown: {why}, which the cost model cannot express; the projection assumes 7B parameters")
    elif shape.params_b is None and placeholder(str(value)):
        r.notes.append(f"model {value}: the config names a placeholder, not a model: the model is unknown; the projection assumes 7B parameters")
    elif shape.params_b is None:
        r.notes.append(
            f"model {value or '(none given)'}: size unknown (not in the shape table, no config.json in a local folder or the HF cache); "
            "the projection assumes 7B parameters"
        )
    return shape


def ignored_rules(text: str) -> list[str]:
    out: list[str] = []
    for m in _IGNORE.finditer(text):
        out.extend(part.strip() for part in m.group(1).split(",") if part.strip())
    return out


CONTEXT_LINES = 3  # difflib's default, as git's


class _Middle(difflib.SequenceMatcher):
    """difflib's matcher run on the lines between the files' common head and tail only: a
    patch changes a few lines, and matching whole files cost more than reading the patched file
    back. The head and tail are left equal, as GNU diff leaves them."""

    def __init__(self, a: list[str], b: list[str]):
        same = min(len(a), len(b))
        head = 0
        while head < same and a[head] == b[head]:
            head += 1
        tail = 0
        while tail < same - head and a[-1 - tail] == b[-1 - tail]:
            tail += 1
        self.head, self.tail, self.sizes = head, tail, (len(a), len(b))
        super().__init__(None, a[head : len(a) - tail], b[head : len(b) - tail], autojunk=False)

    def get_opcodes(self) -> list[tuple[Literal["replace", "delete", "insert", "equal"], int, int, int, int]]:
        h, (n, m) = self.head, self.sizes
        ops = [(tag, i1 + h, i2 + h, j1 + h, j2 + h) for tag, i1, i2, j1, j2 in super().get_opcodes()]
        if h:
            ops.insert(0, ("equal", 0, h, 0, h))
        if self.tail:
            ops.append(("equal", n - self.tail, n, m - self.tail, m))
        return ops


def _range(start: int, stop: int) -> str:
    """A hunk's line range as difflib writes it (`3`, `3,2`, or `2,0` for none)."""
    length = stop - start
    return f"{start + 1}" if length == 1 else f"{start + (1 if length else 0)},{length}"


def unified_diff(path: str, before: str, after: str) -> str:
    """A diff `git apply` accepts, including for files without a final newline: difflib's
    grouping of the changed lines with three lines of context, in its unified format."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    out: list[str] = []
    for group in _Middle(a, b).get_grouped_opcodes(CONTEXT_LINES):
        if not out:
            out += [f"--- a/{path}\n", f"+++ b/{path}\n"]
        out.append(f"@@ -{_range(group[0][1], group[-1][2])} +{_range(group[0][3], group[-1][4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [" " + line for line in a[i1:i2]]
                continue
            out += ["-" + line for line in a[i1:i2]]
            out += ["+" + line for line in b[j1:j2]]
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in out)


_VERSIONED = re.compile(r"\b\d+\.\d+(\.\d+)?\b")


def stamp_versions(r: Reader) -> None:
    """Every framework default names the framework version it was read for: notes that cite only a
    documentation page get the version of the framework whose defaults the adapter applied."""
    if not r.framework:
        return
    for src in r.sources.values():
        if not src.explicit and src.note and not _VERSIONED.search(src.note):
            src.note = f"{src.note} [{r.framework}]"


# DeepSpeed offloads parameters at ZeRO-3 only. Below it the engine hands the ZeRO-1/2 optimizer the
# `offload_optimizer` block alone (DeepSpeed v0.19.5 deepspeed/runtime/engine.py:2338-2371, no offload_param_config
# passed), whose host offload is that block's device (runtime/zero/stage_1_and_2.py:184-189); `offload_param` reaches
# only the ZeRO-3 optimizer (engine.py:2409, :2457). So `offload_param` at stage 0-2 moves nothing: the parameters,
# their copies and the memory they take stay on the GPU.
PARAM_OFFLOAD_IGNORED = "offload_param is read at ZeRO-3 only (DeepSpeed engine.py:2338-2371@v0.19.5)"


def ignored_param_offload(r: Reader) -> None:
    """Clears DeepSpeed `offload_param` at an explicit ZeRO stage below 3 (the engine ignores it there), and the host
    offload itself when no `offload_optimizer` block is among the offloads read; says so in a note."""
    v = r.values
    stage = v.get("zero_stage")
    if v.get("strategy") != "deepspeed" or not v.get("offload_params") or not isinstance(stage, int) or stage >= 3:
        return
    v["offload_params"] = False
    at = [src for key, src in r.sources.items() if key.startswith(f"{OFFLOAD_AT}.")]
    where = next((f"{Path(s.file).name}:{s.line}" for s in at if "offload_param" in (s.key or "") and s.line), None)
    optimizer = not at or any("offload_optimizer" in (s.key or "") for s in at)
    if not optimizer:
        v["cpu_offload"] = False
    kept = "the optimizer offload is priced alone" if optimizer else "nothing is offloaded"
    said = f" ({where})" if where else ""
    r.notes.append(f"`offload_param`{said} at ZeRO stage {stage} is ignored: {PARAM_OFFLOAD_IGNORED}; the parameters stay on the GPU and {kept}")


def stamp_framework(r: Reader) -> None:
    """`sources["framework"]`: the framework release the config is read as and where that came from
    (the config's own pin line, a pin file, a vendored copy; else goblin's tables, assumed: history.reading)."""
    from ..frameworks.history import reading, run_readings, said_at_run
    from ..frameworks.pins import dropped_variants

    got = reading(r.framework, r.path, r.text)
    if got is None:
        return
    r.sources["framework"] = FieldSource(
        file=got.file or r.path, key=got.spec or None, line=got.line or None, explicit=bool(got.spec) and not got.assumed, note=got.note()
    )
    # every note that names a framework at goblin's tables' release says the run's release (review2 #12, #30)
    runs = run_readings(r.framework, r.path, r.text)
    r.notes[:] = [said_at_run(n, runs) for n in r.notes]
    for key, src in r.sources.items():
        if key != "framework" and src.note:
            src.note = said_at_run(src.note, runs)
    if got.spec and not got.assumed and got.version != got.tables:
        r.notes.append(
            f"the repository runs {got.name} {got.version} ({got.spec}, {got.source}); goblin's defaults for this format are those of its "
            f"{got.name} tables, read at {got.tables}, so a default that changed between the two releases may be read wrong"
        )
    r.notes.extend(n for n in dropped_variants(r.path) if n not in r.notes)  # said, not dropped silently
