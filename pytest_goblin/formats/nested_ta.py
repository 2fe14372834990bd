"""A YAML file whose TrainingArguments sit in one nested block (`training_args:`), the rest being the
repository's own settings (data, LoRA): THUDM GLM-4 finetune/configs/*.yaml and ChatGLM3
finetune_demo/configs/*.yaml, which their finetune scripts read with
`Seq2SeqTrainingArguments(**training_args)` (GLM-4@3f79b54 finetune/finetune.py:141-145, ChatGLM3@732294f
finetune_demo/finetune_hf.py:194). The block is read as the hf-trainer format reads a flat file;
every key it reports and every edit it offers is under `training_args.`."""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..pysource import parse as parse_source
from ..schemas import FieldSource, ModelShape, WorkloadConfig
from .base import IN_LAUNCH_LINE, Reader, model_from
from .checkpoint_call import checkpointing_call
from .hf_trainer import MIN_TA_HITS, TA_BATCH_KEYS, TA_ONLY_KEYS, HFTrainerAdapter

BLOCK = "training_args"
# the names the block goes by: `training_args:` (GLM-4, ChatGLM3) and `train_args:` (review8b #37
# xiatingyu/SFT-DataSelection-at-scale diverse/configs/*.yml, read as `TrainingArguments(**train_args)`)
BLOCKS = (BLOCK, "train_args")
# word-anchored and bounded: a megabyte run of letters is one start, not one per character (tests/test_security.py census)
_READS = {name: re.compile(r"\b(\w{0,64}TrainingArguments)\(\s{0,64}\*\*\s{0,64}(?:\w{1,64}\.)?" + name + r"\b") for name in BLOCKS}
MAX_SCRIPT_BYTES = 256_000


def block_name(data: Any) -> str:
    """The key of the file's TrainingArguments block: the first of BLOCKS it holds as a mapping (BLOCK when none)."""
    if isinstance(data, dict):
        for name in BLOCKS:
            if isinstance(data.get(name), dict):
                return name
    return BLOCK


def _block(data: Any) -> Any:
    return data.get(block_name(data)) if isinstance(data, dict) else None


def reader_script(config: Path, name: str = BLOCK) -> tuple[str, int, str, str, Path] | None:
    """(script as shown, line, class, text, path) of the first Python file in the config's folders, its parents
    and their script folders that builds a TrainingArguments class from the file's `training_args` mapping."""
    from .launch_walk import folder_scripts

    for script, text, root in folder_scripts(config, MAX_SCRIPT_BYTES):
        m = _READS[name].search(text)
        if m:
            return os.path.relpath(script, root), text.count("\n", 0, m.start()) + 1, m.group(1), text, Path(script)
    return None


class NestedTrainingArgsAdapter(HFTrainerAdapter):
    """hf-trainer keys read from the `training_args:` (or `train_args:`) block of a repository's own config file."""

    _top: Any = None
    _script: tuple[str, int, str, str, Path] | None = None
    _name: str = BLOCK  # the block's key in the file being read (BLOCKS)
    _model: Any = None  # positional.LaunchModel: the model the launch line that passes this file gives the script
    _family_note: str | None = None  # positional.family_model: the folder's launch lines pass two models, none named

    def detect(self, data: Any) -> int:
        block = _block(data)
        if not isinstance(block, dict) or TA_ONLY_KEYS & set(data):
            return 0
        keys = set(block)
        hits = len(TA_ONLY_KEYS & keys)
        # below a flat TrainingArguments file of as many keys (2 + hits): the flat reading wins a tie
        return 1 + hits if hits >= MIN_TA_HITS and keys & TA_BATCH_KEYS else 0

    def parse(self, path: Path, data: Any, text: str) -> WorkloadConfig:
        self._top = data  # read() needs the repository's own keys (peft_config) beside the block
        self._name = block_name(data)
        self._script = reader_script(path, self._name)
        self._model = None
        self._family_note = None
        if self._script is not None and not (isinstance(_block(data), dict) and _block(data).get("model_name_or_path")):
            from .positional import launch_model

            self._model = launch_model(self._script[4], self._script[3], path)
            if self._model is None:
                from .launchers import script_launches

                if not script_launches(self._script[4], naming=Path(os.path.realpath(path))):
                    # no launch line names this file: the one model its folder's configs' lines pass (review13b #34)
                    from .positional import family_model

                    self._model, self._family_note = family_model(self._script[4], self._script[3], path)
        return super().parse(path, _block(data), text)

    def model_shape(self, r: Reader) -> ModelShape:
        found = self._model
        if self._family_note is not None:
            r.notes.append(self._family_note)
        if found is None or self._script is None:
            return super().model_shape(r)
        # the script's model argument as the launch line that passes this config fills it (formats/positional.py)
        words = Reader(r.path, {"model": found.model})
        try:
            shape = model_from(words, "model")
        except ConfigError:  # a launch word naming no plausible model: this file has no key to blame, nothing taken
            return super().model_shape(r)
        r.notes.extend(words.notes)
        assumed = "assumed:" in found.how  # a line of another config of the folder (positional.family_model)
        change = f"pass the model on the line that runs {r.path.rsplit('/', 1)[-1]}" if assumed else f"change it {IN_LAUNCH_LINE}"
        note = (
            f"`{found.model}` is the {found.param} argument the launch line at {found.shown} passes to {self._script[0]}"
            f" ({found.how}), which loads it with from_pretrained at line {found.load_line}; {change}"
        )
        r.sources["model"] = FieldSource(file=found.file, key=found.param, line=found.line, explicit=not assumed, note=note)
        r.notes.append(note)
        return shape

    def read(self, r: Reader) -> None:
        if self._script is not None:
            # the class the script builds decides the defaults (hf_trainer reads `r.script.config_class`): a
            # Seq2SeqTrainingArguments run takes transformers' defaults, never TRL's, whatever the file is named
            r.script = _Declared(self._script[2])  # type: ignore[attr-defined]
        super().read(r)
        for name, src in list(r.sources.items()):
            if src.key and src.file == r.path and not src.key.startswith(f"{self._name}."):
                r.sources[name] = src.model_copy(update={"key": f"{self._name}.{src.key}"})
        top, found = self._top, self._script
        _read_peft(r, top)
        line = _line(top, self._name)
        at = f" (line {line})" if line else ""
        if found is None:
            r.notes.append(
                f"the TrainingArguments are the `{self._name}:` block{at}; no Python file in its folders was found building TrainingArguments from it"
            )
            return
        script, sline, cls, script_text, _path = found
        r.notes.append(
            f"the TrainingArguments are the `{self._name}:` block{at}; {script}:{sline} builds {cls} from it; its other keys are the repository's own settings"
        )
        on = checkpointing_call(script_text)
        if on is not None and not (r.values.get("gradient_checkpointing") and r.sources["gradient_checkpointing"].explicit):
            r.default("gradient_checkpointing", True, f"{script}:{on} calls gradient_checkpointing_enable() on every run, whatever the block says")
        if r.sources.get("precision") is not None and r.sources["precision"].explicit:
            return
        dtype = _load_dtype(script_text)
        if dtype is not None:
            half, dline = dtype
            # no bf16/fp16 in the block and a model loaded in half precision: Trainer runs no autocast and the
            # parameters stay in that dtype (what the GLM-4 script says at finetune.py:333, "Must use BFloat 16")
            note = f"{script}:{dline} loads the model with torch_dtype {half} and the block sets no bf16/fp16: it trains in {half} without autocast"
            r.default("precision", half, note)
            r.default("weight_dtype", half, note)

    def writes(self, field: str, value: Any, workload: WorkloadConfig, data: Any) -> dict[str, Any] | None:
        found = super().writes(field, value, workload, _block(data))
        return {f"{block_name(data)}.{k}": v for k, v in found.items()} if found else found


def _line(data: Any, name: str) -> int | None:
    from ..yamlio import key_line

    return key_line(data, name)


@dataclass(frozen=True)
class _Declared:
    config_class: str


_DTYPES = {"bfloat16": "bf16", "float16": "fp16", "half": "fp16"}


def _load_dtype(text: str) -> tuple[str, int] | None:
    """(bf16/fp16, line) when every `AutoModel*.from_pretrained(...)` of the script passes the same literal
    `torch_dtype=torch.bfloat16` / `torch.float16` (or `dtype=`); None when one passes none or another value."""
    try:
        tree = parse_source(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    found: list[tuple[str | None, int]] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "from_pretrained"):
            continue
        owner = node.func.value
        if not (isinstance(owner, ast.Name) and owner.id.startswith("AutoModel")):
            continue
        kw = next((k.value for k in node.keywords if k.arg in ("torch_dtype", "dtype")), None)
        half = _DTYPES.get(kw.attr) if isinstance(kw, ast.Attribute) and isinstance(kw.value, ast.Name) and kw.value.id == "torch" else None
        found.append((half, node.lineno))
    if not found or any(h is None for h, _ in found) or len({h for h, _ in found}) != 1:
        return None
    half, line = min(found, key=lambda t: t[1])
    return (half, line) if half else None


def _read_peft(r: Reader, top: Any) -> None:
    """A top-level `peft_config:` with `peft_type: LORA`, which the script hands to PEFT's get_peft_config
    (GLM-4 finetune.py:151-153, ChatGLM3 finetune_hf.py): LoRA, its dropout and adapted modules."""
    peft = top.get("peft_config") if isinstance(top, dict) else None
    if not isinstance(peft, dict) or str(peft.get("peft_type", "")).upper() != "LORA":
        return
    from ..yamlio import key_line
    from .hfstyle import lora_targets_of

    r.explicit("method", "lora", "peft_config.peft_type", key_line(peft, "peft_type"))
    if "lora_dropout" in peft:
        try:
            r.explicit("lora_dropout", min(max(float(peft["lora_dropout"]), 0.0), 0.99), "peft_config.lora_dropout", key_line(peft, "lora_dropout"))
        except (TypeError, ValueError):
            pass
    if peft.get("target_modules"):
        r.explicit("lora_targets", lora_targets_of(peft["target_modules"]), "peft_config.target_modules", key_line(peft, "target_modules"))
