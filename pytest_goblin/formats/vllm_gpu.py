"""The GPU a TRL GRPO run's vLLM takes apart from its training processes, said in the topology (review10b #21).

From trl 0.14.0 to 0.15.x GRPOTrainer's main process starts vLLM itself, on `vllm_device` (trl v0.15.0
trl/trainer/grpo_trainer.py:373-406; v0.14.0 :288-315): "auto", the default (grpo_config.py:172-173@v0.15.0,
:130-131@v0.14.0), is the GPU after the training processes', `cuda:<num_processes>` (:379@v0.15.0, :290@v0.14.0); a
device past the visible GPUs raises (:381-387@v0.15.0), one among the training GPUs is shared with a warning
(:389-395@v0.15.0). From v0.16.0 `vllm_device` is deprecated and unused (grpo_config.py:331-337@v0.16.0: vLLM runs in a
`trl vllm-serve` server, grpo_trainer.py:457@v0.16.0). So at those releases a `use_vllm: true` run on `--num_processes 3`
with `vllm_device: cuda:3` holds 4 GPUs: the world size stays the 3 training processes the cost model prices, and the
topology note and the world size's source say the fourth.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from packaging.version import InvalidVersion, Version

from .base import Reader

DEVICE_FROM = "0.14.0"
DEVICE_UNTIL = "0.16.0"  # vllm_device deprecated and unused from here
DEVICE_CITE = "trl v0.15.0 trl/trainer/grpo_trainer.py:373-406, v0.14.0 :288-315"
AUTO_CITE = "`auto` is the GPU after the training processes', trl v0.15.0 grpo_trainer.py:375-379 (GRPOConfig's default, grpo_config.py:172-173)"
SHARED_CITE = "trl v0.15.0 trl/trainer/grpo_trainer.py:389-395 (a training GPU: TRL warns and shares it)"
_CUDA = re.compile(r"^cuda:(\d{1,3})$")
TOPOLOGY = "topology from the repository: "


def _on(value: object) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "yes")


def vllm_device_gpu(r: Reader) -> None:
    """Add the vLLM GPU to the topology note of a GRPOConfig run with `use_vllm: true` at a TRL release that places vLLM
    on `vllm_device` itself, on one node, where the world size was read from the repository or the file (explicit)."""
    src = r.sources.get("world_size")
    world = r.values.get("world_size")
    if src is None or not src.explicit or not isinstance(world, int) or r.values.get("nodes", 1) != 1:
        return  # a guessed world, or several nodes (vLLM runs on the main process's node only): not said

    def raw(key: str) -> tuple[bool, Any, int | str | None]:
        got_key, value, line = r.raw(key)
        return got_key is not None, value, line

    got = placement(r.framework, r.path, r.text, raw, world)
    if got is None:
        return
    index, how, at = got
    seen = launch_visible(r.path)
    if index >= world and seen is not None and index >= seen[0]:
        # the launch line's explicit list bounds the GPUs the job has (blind review 14b #32 cppo-fnd
        # scripts/CPPO_fnd_vllm_server.sh:3 `CUDA_VISIBLE_DEVICES=0,1,2` with --num_processes=3)
        said = (
            f"{seen[1]} makes {seen[0]} GPUs visible, the {world} training processes': vLLM's cuda:{index} ({how}) is past them, "
            f"where the release's GRPOTrainer raises ('The requested device for vllm ... is not available', {RAISE_CITE}); a vLLM "
            "server the job reaches outside these GPUs is not counted"
        )
    elif index >= world:
        said = f"the job uses {world + 1} GPUs: {world} training processes + 1 vLLM GPU ({how}); {at}"
    else:
        said = f"vLLM shares training GPU cuda:{index} with that GPU's training process ({how}; {SHARED_CITE}); {at}"
    r.notes[:] = [f"{n}; {said}" if n.startswith(TOPOLOGY) else n for n in r.notes]
    if not any(n.startswith(TOPOLOGY) for n in r.notes):
        r.notes.append(said)
    src.note = f"{src.note}; {said}" if src.note else said


RAISE_CITE = "trl v0.15.0 trl/trainer/grpo_trainer.py:381-387 (a vLLM device index at or past torch.cuda.device_count())"


def launch_visible(path: str) -> tuple[int, str] | None:
    """The GPUs the config's launch line makes visible by an explicit list (`CUDA_VISIBLE_DEVICES=0,1,2`, or HIP/ROCR, as
    `launch_line.visible_devices` reads them), with the assignment and where it is set; None where it sets none."""
    from .launch_line import visible_devices
    from .launchers import find_launch

    launched = find_launch(path)
    if launched is None:
        return None
    env = {name: value for name, value, _, _, known in launched.env if known}
    got = visible_devices(env)
    if got is None:
        return None
    name = got[1].partition("=")[0]
    at = next((f"{launched.shown if f == launched.file else f} line {n}" for var, _, f, n, _ in launched.env if var == name), launched.where())
    return got[0], f"{got[1]} ({at})"


def placement(framework: str | None, path: str, text: str, raw: Callable[[str], tuple[bool, Any, int | str | None]], world: int) -> tuple[int, str, str] | None:
    """The GPU index a GRPOConfig run with `use_vllm: true` at trl 0.14-0.15 starts vLLM on (`raw(key)`: whether the key
    is written, its value and line), how it was read and the release's words; None at
    another release, with vLLM off, a device goblin cannot read, or `auto` on one process. An index at or past `world`
    is a GPU of its own (audit_tools._training_step_only reads the training step's memory only then)."""
    from ..frameworks.history import reading

    if re.search(r"\bGRPOConfig\b", framework or "") is None:
        return None
    use_set, use_value, _line = raw("use_vllm")
    if not use_set or not _on(use_value):
        return None
    got = reading(framework, path, text)
    if got is None or got.name != "trl":
        return None
    try:
        version = Version(got.version)
    except InvalidVersion:
        return None
    if not Version(DEVICE_FROM) <= version < Version(DEVICE_UNTIL):
        return None
    dev_set, dev_value, dev_line = raw("vllm_device")
    device = str(dev_value).strip() if dev_set else "auto"
    if device == "auto":
        if world < 2:
            return None  # one process: trl 0.15 shares cuda:0 when the machine has one GPU, which goblin cannot see
        index = world
        how = f"vllm_device {'auto' if dev_set else 'unset'}: cuda:{world}, {AUTO_CITE}"
        if dev_set and dev_line:
            how = f"vllm_device auto, config line {dev_line}: cuda:{world}, {AUTO_CITE}"
    else:
        m = _CUDA.match(device)
        if m is None:
            return None
        index = int(m.group(1))
        how = f"vllm_device {device}" + (f", config line {dev_line}" if dev_line else "")
    at = f"trl {got.version} ({got.source}) starts vLLM on it beside the training processes, {DEVICE_CITE}"
    return index, how, at
