"""DeepSpeed JSON referenced from a config: read as data (json.loads), never executed.

Trainers resolve the path against the working directory, usually the repository root, so it is
looked up next to the config and then in each parent folder up to the repository root. Only a
regular file whose real path lies inside the config's tree is read (see safepath); an absolute or
`../` path out of it is refused by name, and no line of a refused or unparsable file is quoted. A file
that cannot be found is not an error (CI checkouts often hold configs without their DeepSpeed
files): the ZeRO stage is then taken from the file name when it says one, and a note says so.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..redact import is_secret_name, masks_by_value
from ..safepath import UnsafePath, read_text, repository_root, tree_of
from ..yamlio import key_line, learn_secrets

if TYPE_CHECKING:
    from .heredoc import Written

MAX_BYTES = 1_000_000


def find(config_path: Path, ref: str) -> Path | None:
    """The referenced file, looked up next to the config and in each parent folder up to the
    repository root; only candidates whose real path stays inside the config's tree count."""
    p = Path(ref)
    roots = tree_of(config_path)
    if p.is_absolute():
        return p  # read() refuses it unless it lies inside the tree, whether it exists or not
    folder = Path(os.path.realpath(os.path.abspath(config_path))).parent
    for parent in (folder, *folder.parents):
        if not any(parent.is_relative_to(r) for r in roots):
            break
        candidate = Path(os.path.normpath(parent / p))
        if not any(candidate.is_relative_to(r) for r in roots) or candidate.exists() or candidate.is_symlink():
            return candidate  # leaving the tree is refused by name, not probed
        if (parent / ".git").exists():
            break
    return None


# Referenced files as a patch would leave them (real path -> text): a patch that edits the DeepSpeed file
# a config names is read back with that text in place of the file's, in memory (patching._reread).
_IN_PLACE: ContextVar[dict[str, str] | None] = ContextVar("goblin_referenced_in_place", default=None)


@contextmanager
def files_in_place(texts: dict[str, str]) -> Iterator[None]:
    """Read the referenced files named here (by real path) as these texts, not as on disk."""
    token = _IN_PLACE.set({os.path.realpath(k): v for k, v in texts.items()})
    try:
        yield
    finally:
        _IN_PLACE.reset(token)


def in_place_key() -> tuple[tuple[str, int], ...]:
    """The files held in place now (real path, hash of the text), for a cache that must not serve a
    read made with other contents (launchers.find_launch during a patch's read-back)."""
    placed = _IN_PLACE.get() or {}
    return tuple(sorted((k, hash(v)) for k, v in placed.items()))


def _text(config_path: Path, path: Path) -> str:
    """A referenced file's text: as a patch being read back leaves it, else through safepath (inside
    the config's tree, a regular file, at most MAX_BYTES)."""
    placed = _IN_PLACE.get()
    if placed:
        real = os.path.realpath(path)
        if real in placed:
            return placed[real]
    return read_text(path, roots=tree_of(config_path), limit=MAX_BYTES)


def _load(config_path: Path, path: Path) -> Any:
    """A referenced file as data: JSON by its suffix, else safe YAML; raises on anything unreadable.

    Read through safepath: inside the config's tree, a regular file, at most MAX_BYTES.
    """
    text = _text(config_path, path)
    if path.suffix.lower() == ".json":
        data = json.loads(text)
    else:
        from ruamel.yaml import YAML

        data = YAML(typ="safe", pure=True).load(text)
    learn_secrets(path, _secret_values(data))
    return data


def _secret_values(data: Any) -> list[str]:
    """Every scalar under a secret name in a referenced file, as read and as JSON writes it (a
    quoted value with escapes), for redact.learn: a note or diff quoting the file must not quote them."""
    out: list[str] = []
    stack: list[tuple[Any, str | None]] = [(data, None)]
    while stack:
        node, name = stack.pop()
        if isinstance(node, dict):
            stack += [(v, k if isinstance(k, str) and is_secret_name(k) else name) for k, v in node.items()]
        elif isinstance(node, list):
            stack += [(v, name) for v in node]
        elif name and node is not None and not isinstance(node, bool) and masks_by_value(name, str(node)):
            out += [str(node), json.dumps(str(node))[1:-1]]
    return out


def _unreadable(kind: str, ref: str, exc: Exception) -> str:
    """A note that names the path and why it was refused, never a line of its content."""
    if isinstance(exc, UnsafePath):
        return f"{kind} {ref!r} was not read: {exc.reason}"
    return f"{kind} {ref!r} could not be parsed ({type(exc).__name__})"


# A ZeRO stage in a file name: zero2, zero_3, zero-stage3, stage2, z3, ds_z2 (not part of a word:
# "gpt2z3" is not a stage). The file's own `zero_optimization.stage` always wins over its name.
_STAGE_IN_NAME = re.compile(r"(?:zero|stage|(?<![a-z0-9])z)[_-]?(?:stage[_-]?)?([0-3])(?![0-9])")

OFFLOAD_BLOCKS = ("offload_optimizer", "offload_param")


def stage_from_name(ref: str) -> int | None:
    """The ZeRO stage a DeepSpeed file's name states (`zero2.json`, `ds_z3_offload.json`,
    `stage2.json`), or None when the name says none."""
    m = _STAGE_IN_NAME.search(Path(ref).name.lower())
    return int(m.group(1)) if m else None


def _from_name(ref: str, why: str) -> tuple[dict[str, Any], str]:
    """Settings taken from the file's name when its content cannot be read: the stage, and offload."""
    stage = stage_from_name(ref)
    found: dict[str, Any] = {"zero_stage": stage, "stage_from": "name"} if stage is not None else {}
    if "offload" in ref.lower():
        found["cpu_offload"] = True
    said = (
        f"; ZeRO stage {stage} read from the file name"
        if stage is not None
        else "; ZeRO stage unknown (not in the file name either): the projection assumes ZeRO-3"
    )
    return found, why + said


# What DeepSpeed builds for its own "optimizer" block's `type` and the state it keeps per trainable parameter (DeepSpeed
# v0.19.5). The type is lowercased when it names one of DeepSpeed's optimizers (runtime/config.py:71-86, :827-829), any
# other is `getattr(torch.optim, type)` (runtime/engine.py:2193-2194). The optimizer steps fp32 master partitions (ZeRO-1/2
# runtime/zero/stage_1_and_2.py:506, ZeRO-3 stage3.py:1074, bf16 without ZeRO bf16_optimizer.py:170), so each state is
# fp32 (4 bytes). With host offload the state is on the host (memory_gb leaves it out of the GPU). Type -> (what
# DeepSpeed builds, bytes per trainable parameter, where).
DS_OPTIMIZERS: dict[str, tuple[str, float, str]] = {
    "adam": ("FusedAdam (DeepSpeedCPUAdam with offload)", 8.0, "engine.py:2051-2095; exp_avg, exp_avg_sq: ops/adam/fused_adam.py:155-157"),
    "adamw": ("FusedAdam in AdamW mode (DeepSpeedCPUAdam with offload)", 8.0, "engine.py:2051-2095; exp_avg, exp_avg_sq: ops/adam/fused_adam.py:155-157"),
    "lamb": ("FusedLamb", 8.0, "engine.py:2103-2106; exp_avg, exp_avg_sq: ops/lamb/fused_lamb.py:153-155"),
    "lion": ("FusedLion (DeepSpeedCPULion with offload)", 4.0, "engine.py:2128-2134; exp_avg: ops/lion/fused_lion.py:99"),
    "adagrad": ("torch.optim.Adagrad (DeepSpeedCPUAdagrad with offload)", 4.0, "engine.py:2097-2102; sum: torch 2.13.0 optim/adagrad.py:96"),
    # 1-bit optimizers (no ZeRO: engine.py:2108,2115,2122 assert it): the moments plus the compression error buffers
    # (worker_error the whole padded parameter, server_error its 1/world share; counted as one more state here)
    "onebitadam": ("OnebitAdam", 12.0, "engine.py:2107-2113; exp_avg, exp_avg_sq, worker_error, server_error: runtime/fp16/onebit/adam.py:168-182"),
    "zerooneadam": (
        "ZeroOneAdam",
        16.0,
        "engine.py:2114-2120; exp_avg, exp_avg_sq, worker_error, server_error, momentum_accumulator: runtime/fp16/onebit/zoadam.py:176-198",
    ),
    "onebitlamb": (
        "OnebitLamb",
        16.0,
        "engine.py:2121-2127; exp_avg, exp_avg_sq, exp_avg_sq_fresh: runtime/fp16/onebit/lamb.py:214-217, and the error buffers (at least)",
    ),
    "muadam": ("mup MuAdam", 8.0, "engine.py:2135-2140 (torch Adam's exp_avg, exp_avg_sq)"),
    "muadamw": ("mup MuAdamW", 8.0, "engine.py:2141-2146 (torch AdamW's exp_avg, exp_avg_sq)"),
}
# Optimizers whose only state is a momentum buffer, kept when `momentum` is set and not 0 (torch 2.13.0 optim/sgd.py:33
# default 0, :150): DeepSpeed's MuSGD (engine.py:2147-2152) and torch.optim.SGD (engine.py:2193-2194)
DS_MOMENTUM_ONLY = {"musgd": "mup MuSGD (engine.py:2147-2152)", "SGD": "torch.optim.SGD (engine.py:2193-2194)"}
DS_OPTIMIZER_RELEASE = "DeepSpeed v0.19.5 deepspeed/runtime"


def own_optimizer(found: dict[str, Any]) -> tuple[str, float, str] | None:
    """(name for WorkloadConfig.optimizer, state bytes per trainable parameter, what is said) for a read DeepSpeed file's
    own "optimizer" block with a `type` (DS_OPTIMIZERS, DS_MOMENTUM_ONLY; any other type, such as Muon's mix of momentum
    and Adam states or another torch.optim class, is counted as AdamW's and said to be); None without a `type`."""
    kind = found.get("own_optimizer_type")
    if not isinstance(kind, str):
        return None
    lowered = kind.lower()
    if lowered in DS_OPTIMIZERS:
        built, per, where = DS_OPTIMIZERS[lowered]
        stage = found.get("zero_stage")
        # the 1-bit optimizers assert ZeRO off (stage > 0: runtime/config.py:804)
        refused = (
            f" (DeepSpeed asserts it is not compatible with ZeRO, here stage {stage})"
            if lowered.startswith(("onebit", "zeroone")) and isinstance(stage, int) and stage > 0
            else ""
        )
        return (
            f"deepspeed:{built.split(' ', 1)[0].lower()}",
            per,
            f"{built}{refused}, {per:g} bytes of fp32 state per trainable parameter ({DS_OPTIMIZER_RELEASE}/{where})",
        )
    key = lowered if lowered == "musgd" else kind
    params = found.get("own_optimizer_params") or {}
    momentum = params.get("momentum", 0)
    if key in DS_MOMENTUM_ONLY and isinstance(momentum, (int, float)) and not isinstance(momentum, bool):
        per = 4.0 if momentum != 0 else 0.0
        what = f"a momentum buffer (momentum {momentum:g})" if momentum != 0 else "no state (momentum 0)"
        return f"deepspeed:{key.lower()}", per, f"{DS_MOMENTUM_ONLY[key]}, {what}: {per:g} bytes per trainable parameter ({DS_OPTIMIZER_RELEASE})"
    return (
        f"deepspeed:{lowered}",
        8.0,
        f"{kind}, a type goblin does not price: its state is counted as AdamW's two fp32 states, 8 bytes per trainable parameter (assumed)",
    )


def _line_of(text: str, key: str) -> int | None:
    """1-based line of the first `"key"` in a JSON text (json.loads keeps no positions)."""
    at = text.find(f'"{key}"')
    return text.count("\n", 0, at) + 1 if at >= 0 else None


def _offloads(zero: Any) -> list[str]:
    """The offload blocks of a `zero_optimization` mapping that move something to the host (cpu or nvme)."""
    if not isinstance(zero, dict):
        return []
    return [k for k in OFFLOAD_BLOCKS if isinstance(zero.get(k), dict) and zero[k].get("device") in ("cpu", "nvme")]


_WALK_CAP = 200_000  # entries: a larger tree is not searched, and a missing file is not concluded

# DeepSpeed files a framework ships in its own checkout: a run started from that checkout (a launcher that
# `cd`s into it, LLaMA-Factory's `llamafactory-cli train` from its root, `accelerate launch -m axolotl.cli.train`
# from an Axolotl clone) finds them though the config's repository has none. The union over every release tag
# (git ls-tree of each tag of the frameworks' repositories, read 2026-12-06): LLaMA-Factory v0.0.9-v0.9.5
# examples/deepspeed/ (ds_z0, ds_z2, ds_z2_autotp, ds_z2_offload, ds_z3, ds_z3_fp8, ds_z3_offload _config.json);
# Axolotl v0.3.0 deepspeed/ (zero2, zero3 .json; review5 #3 Medilora names deepspeed/zero3.json) and v0.4.0 on
# deepspeed_configs/ (zero1, zero2, zero3, zero3_bf16, zero1/zero2_torch_compile, zero3_bf16_cpuoffload_all/_params).
_LF_SHIPPED = ("ds_z0_config", "ds_z2_autotp_config", "ds_z2_config", "ds_z2_offload_config", "ds_z3_config", "ds_z3_fp8_config", "ds_z3_offload_config")
_AXOLOTL_SHIPPED = (
    "zero1",
    "zero2",
    "zero3",
    "zero3_bf16",
    "zero1_torch_compile",
    "zero2_torch_compile",
    "zero3_bf16_cpuoffload_all",
    "zero3_bf16_cpuoffload_params",
)
FRAMEWORK_SHIPPED = (
    *(f"examples/deepspeed/{n}.json" for n in _LF_SHIPPED),
    *(f"deepspeed_configs/{n}.json" for n in _AXOLOTL_SHIPPED),
    "deepspeed/zero2.json",
    "deepspeed/zero3.json",
)


def shipped_by_framework(ref: str) -> bool:
    """Whether a relative DeepSpeed path is one a framework ships in its own checkout (FRAMEWORK_SHIPPED)."""
    parts = [p for p in Path(ref).parts if p != "."]
    if len(parts) == 1:
        # a bare file name of a shipped file (review4 #1 NexusAI: `deepspeed: zero3_bf16_cpuoffload_params.json`, run from an
        # Axolotl clone the README makes): the user copies it beside where they launch, as `axolotl fetch` does
        return parts[0] in {Path(f).name for f in FRAMEWORK_SHIPPED}
    return "/".join(parts) in FRAMEWORK_SHIPPED


def absent_from_repository(config_path: Path, ref: str) -> bool:
    """Whether a relative DeepSpeed path exists from no folder of the config's git repository: no file in it
    ends with that path (`train_configs/zero3_bf16.json` is absent where only `train_config/zero3_bf16.json`
    exists), so no working directory in the repository the launcher could start or `cd` in has it. A path
    with `..` is judged by its file name only. Not concluded for an absolute path, a shell variable or glob,
    a path a framework ships in its own checkout (the run may start there), outside a git repository, or in
    a tree larger than the cap: the run may then find a file goblin cannot see."""
    if not ref.endswith(".json") or Path(ref).is_absolute() or any(c in ref for c in "$`{}*?~"):
        return False
    if shipped_by_framework(ref):
        return False
    return _in_repository(config_path, ref) is False


def absent_path(config_path: Path, ref: str) -> bool:
    """absent_from_repository for a value that can only be a path (an `accelerate launch --deepspeed_config_file` word,
    which accelerate opens as a file whatever its suffix: review10b #34 `configs/ds_stage2.conf`)."""
    if Path(ref).is_absolute() or any(c in ref for c in "$`{}*?~") or shipped_by_framework(ref):
        return False
    return _in_repository(config_path, ref) is False


def _in_repository(config_path: Path, ref: str) -> bool | None:
    """Whether some folder of the config's git repository has a file ending with the relative path `ref` (by file
    name only for a path with `..`); None when there is no repository or it is larger than the walk's cap."""
    folder = Path(os.path.realpath(os.path.abspath(config_path))).parent
    repo = repository_root(folder)
    if repo is None:
        return None
    parts = [p for p in Path(ref).parts if p != "."]
    tail = tuple(parts) if ".." not in parts else (Path(ref).name,)
    seen = 0
    for root, dirs, files in os.walk(repo):
        seen += len(dirs) + len(files)
        if seen > _WALK_CAP:
            return None
        if tail[-1] in files and Path(root, tail[-1]).parts[-len(tail) :] == tail:
            return True
    return False


def _shipped_read(config_path: Path, ref: str, framework: str | None) -> tuple[dict[str, Any], str] | None:
    """Settings of the framework's own copy of a file it ships (frameworks/shipped_files.json, generated from its
    release tags), where the config's repository has no file of that name anywhere: its own file wins (review6a #14:
    LLaMA-Factory's examples/deepspeed/ds_z3_offload_config.json offloads parameters too, v0.9.4-v0.9.5)."""
    if not shipped_by_framework(ref) or _in_repository(config_path, ref) is not False:
        return None
    from ..frameworks.shipped import lookup

    got = lookup(ref, framework)
    if got is None:
        return None
    st = got.settings
    where = got.where()
    said = f"the framework's copy: the repository has no {Path(ref).name}; same settings in {got.span()}"
    if not got.matched:
        run = framework or "the run's framework release"
        said += f"; the release the run uses ({run.split(' (')[0]}) was not among those read"
    out: dict[str, Any] = {"content": True, "shipped": where}
    stage = st.get("zero_stage")
    if isinstance(stage, int) and not isinstance(stage, bool) and 0 <= stage <= 3:
        out["zero_stage"] = stage
    if out.get("zero_stage") == 3 and st.get("overlap_comm") is False:
        out["overlap_comm"] = False  # see read(): DeepSpeed v0.19.5 parameter_offload.py:189-190, stage3.py:335-336
        out["overlap_comm_line"] = got.lines.get("overlap_comm")
    blocks = [b for b in OFFLOAD_BLOCKS if st.get(b) in ("cpu", "nvme")]
    if blocks:
        from ..frameworks.shipped import without_offload

        out["cpu_offload"] = True
        out["offload_params"] = "offload_param" in blocks
        other = without_offload(got)
        if other is not None:  # named as the config would: a bare name stays bare
            out["shipped_without_offload"] = other if len(Path(ref).parts) > 1 else Path(other).name
    devices = ", ".join(f"{b}.device {st[b]}" for b in blocks) or "no offload"
    stage_said = f"ZeRO stage {stage}" if "zero_stage" in out else "no ZeRO stage"
    return out, f"DeepSpeed settings read from {where} ({stage_said}, {devices}; {said})"


# heredoc.written_before_launch, registered by formats/__init__ (it finds the launch line through launchers, which
# imports this module)
WRITTEN_BY_LAUNCHER: list[Callable[[Path, str], Written | None]] = []
_BARE_PLACEHOLDER = re.compile(r"(?<=[:\[,])(\s*)(__goblin_unexpanded_\d+__)(?=\s*[,}\]\n])")


def _unliteral(data: Any, words: list[str], at: str = "") -> list[str]:
    """`key (`$X`)` for each value of `data` that holds an expansion bash makes at run time (heredoc.PLACEHOLDER)."""
    if isinstance(data, dict):
        return [u for k, v in data.items() for u in _unliteral(v, words, f"{at}.{k}" if at else str(k))]
    if isinstance(data, list):
        return [u for i, v in enumerate(data) for u in _unliteral(v, words, f"{at}[{i}]")]
    if isinstance(data, str) and "__goblin_unexpanded_" in data:
        shown = re.sub(r"__goblin_unexpanded_(\d+)__", lambda m: words[int(m.group(1))], data)
        return [f"`{at}` ({shown})"]
    return []


def _written_read(config_path: Path, ref: str, *, over: bool = False) -> tuple[dict[str, Any], str] | None:
    """Settings of the DeepSpeed JSON the script that launches the config writes to `ref` before its launch line
    (formats/heredoc.py; review6a #8: run_training_axolotl.sh writes deepspeed_configs/zero3.json with a heredoc just
    above `accelerate launch`), where the tree has no such file; `over`: the tree has one, which a write outside any
    `if` replaces before the launch. Only its literal text is read: a value bash expands at run time is named, never
    guessed."""
    w = next((got for finder in WRITTEN_BY_LAUNCHER if (got := finder(config_path, ref)) is not None), None)
    if w is None or (over and w.conditional):
        return None
    said = f"written by {w.where()}, before its launch line {w.launch_line}" + (", only where the file does not exist" if w.conditional else "")
    if over:
        said += f", over the repository's own {Path(ref).name}"
    try:
        data = json.loads(_BARE_PLACEHOLDER.sub(lambda m: f'{m.group(1)}"{m.group(2)}"', w.text))
    except Exception as exc:
        return _from_name(ref, f"DeepSpeed file {ref!r} is {said}, but that text could not be parsed as JSON ({type(exc).__name__})")
    if not isinstance(data, dict):
        return _from_name(ref, f"DeepSpeed file {ref!r} is {said}, but that text is not a JSON object")
    unread = _unliteral(data, w.unexpanded)
    zero = data.get("zero_optimization")
    unknown = {
        k: zero[k]["device"]
        for k in OFFLOAD_BLOCKS
        if isinstance(zero, dict) and isinstance(zero.get(k), dict) and "__goblin_unexpanded_" in str(zero[k].get("device"))
    }
    out, note = _settings(data, ref, w.text, w.file, w.first - 1)
    if unknown and not out.get("cpu_offload"):
        out.pop("content", None)  # an offload device set at run time: whether it offloads is not read from the text
    lead = f"DeepSpeed settings read from the text {said}"
    note = note.replace(f"DeepSpeed settings read from {ref}", lead, 1) if note.startswith("DeepSpeed settings read from") else f"{note} ({said})"
    if unread:
        note += "; not literal, set when the script runs, so not read: " + ", ".join(unread)
    return out, note


def read(config_path: Path, ref: str, framework: str | None = None) -> tuple[dict[str, Any], str]:
    """Settings from the DeepSpeed file: `zero_stage`, `cpu_offload`, `offload_params` (parameters on
    the host too), `offload_at` (file, dotted key, line of each offload device), and a note. A file the
    framework ships (and the repository has not) is read from the framework's copy at the release in
    `framework` (a Reader's framework text, `llamafactory 0.9.5 (stage dpo)`), said as such."""
    path = find(config_path, ref)
    if path is None and (written := _written_read(config_path, ref)) is not None:
        return written
    if path is not None and (written := _written_read(config_path, ref, over=True)) is not None:
        return written  # the script overwrites the repository's file before it launches: the run reads the script's text
    if path is None and (shipped := _shipped_read(config_path, ref, framework)) is not None:
        return shipped
    if path is None:
        found, why = _from_name(ref, f"DeepSpeed file {ref!r} was not found next to the config or in its parent folders")
        if absent_from_repository(config_path, ref):
            found["missing"] = True
        return found, why
    try:
        data = _load(config_path, path)
    except Exception as exc:  # unreadable or refused: say so, audit the rest
        return _from_name(ref, _unreadable("DeepSpeed file", ref, exc))
    if not isinstance(data, dict):
        return _from_name(ref, f"DeepSpeed file {ref!r} is not a JSON object")
    text = _text(config_path, path) if path.suffix.lower() == ".json" else None
    out, note = _settings(data, ref, text, str(path), 0)
    out["path"] = str(path)
    return out, note


def _settings(data: dict[str, Any], ref: str, text: str | None, file: str, base: int) -> tuple[dict[str, Any], str]:
    """Settings of a DeepSpeed config's data (see read); `text` the JSON it was parsed from, whose line n is
    line base + n of `file` (for the offload keys' lines), None when lines cannot be told."""
    out: dict[str, Any] = {"content": True}  # read: the content, not the name, says whether it offloads
    note = f"DeepSpeed settings read from {ref}"
    # the bf16 block as the Trainer's caller sees it (formats/hfstyle.ds_bf16_note): absent, "auto", or set
    block = data.get("bf16", data.get("bfloat16"))
    out["bf16_block"] = "absent" if block is None else "auto" if isinstance(block, dict) and block.get("enabled") == "auto" else "set"
    zero = data.get("zero_optimization")
    stage = zero.get("stage") if isinstance(zero, dict) else None
    if isinstance(stage, int) and not isinstance(stage, bool) and 0 <= stage <= 3:
        out["zero_stage"] = stage
    elif not isinstance(zero, dict) or "stage" not in zero:
        # no `zero_optimization` block, or one without `stage`: DeepSpeed's own default, stage 0 (ZeRO off)
        # (DeepSpeed v0.19.5 deepspeed/runtime/zero/config.py:71-78 builds the block from {} when it is absent,
        # :95 `stage: ZeroStageEnum = 0`; the same at v0.9.4 :81)
        out["zero_stage"] = 0
        where = "its zero_optimization block sets no stage" if isinstance(zero, dict) else "it has no zero_optimization block"
        note = f"DeepSpeed settings read from {ref}; {where}, so DeepSpeed's default, stage 0 (ZeRO off), applies (deepspeed/runtime/zero/config.py:95@v0.19.5)"
    else:
        named, said = _from_name(ref, f"DeepSpeed file {ref!r} sets a ZeRO stage goblin cannot read ({stage!r} is not 0-3)")
        out.update({k: v for k, v in named.items() if k != "cpu_offload"})
        note = said
    out.update(zero_sharding(zero))
    for block in ("optimizer", "scheduler"):  # the Trainer checks `"optimizer" in config` (see base.DEEPSPEED_OWN)
        if block in data:
            at = _line_of(text, block) if text is not None else None
            out[f"own_{block}"] = at + base if at is not None else 0
    opt = data.get("optimizer")
    if isinstance(opt, dict) and isinstance(opt.get("type"), str):
        out["own_optimizer_type"] = opt["type"]
        params = opt.get("params")
        out["own_optimizer_params"] = params if isinstance(params, dict) else {}
    if out.get("zero_stage") == 3 and isinstance(zero, dict) and zero.get("overlap_comm") is False:
        # ZeRO-3's all-gathers and reduce-scatters on the compute stream: DeepSpeed v0.19.5
        # deepspeed/runtime/zero/parameter_offload.py:189-190 (all-gather stream) and stage3.py:335-336
        # (reduce-and-partition stream) are the default stream when overlap_comm is off; its default under
        # ZeRO-3 is on (runtime/zero/config.py:138,383-385)
        out["overlap_comm"] = False
        at = _line_of(text, "overlap_comm") if text is not None else None
        out["overlap_comm_line"] = at + base if at is not None else None
    if out.get("zero_stage") == 3 and isinstance(zero, dict) and zero.get("stage3_gather_16bit_weights_on_model_save") is not True:
        # ZeRO-3 without the 16-bit gather (DeepSpeed's default is off): the Trainer's save_model falls back to
        # DeepSpeed's full checkpoint, optimizer state included, whatever save_only_model says
        # (transformers 5.25.0 trainer.py:4149-4174)
        out["zero3_full_saves"] = True
    blocks = _offloads(zero)
    if blocks:
        out["cpu_offload"] = True
        out["offload_params"] = "offload_param" in blocks
        lines = [_line_of(text, b) if text is not None else None for b in blocks]
        out["offload_at"] = [(file, f"zero_optimization.{b}.device", n + base if n is not None else None) for b, n in zip(blocks, lines, strict=True)]
    return out, note


def zero_sharding(zero: Any) -> dict[str, Any]:
    """Hierarchical ZeRO-3 partitioning a `zero_optimization` mapping asks for: ZeRO++ hpZ
    (`zero_hpz_partition_size` > 1: a secondary parameter partition of that many ranks; default 1,
    no hpZ) or MiCS (`mics_shard_size` > 0: every state sharded within that many ranks; default -1,
    off). DeepSpeed v0.19.5 deepspeed/runtime/zero/config.py:309 and :341."""
    if not isinstance(zero, dict):
        return {}
    for key, name, floor in (("mics_shard_size", "mics", 0), ("zero_hpz_partition_size", "hpz", 1)):
        value = zero.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > floor:
            return {"sharding": name, "shard_group": value, "sharding_key": f"zero_optimization.{key}"}
    return {}


# FSDP sharding strategies by name or by number (torch.distributed.fsdp.ShardingStrategy, numbered from 1
# as accelerate numbers them: accelerate 1.14.0 src/accelerate/utils/constants.py:38, dataclasses.py:1837-1843;
# torch 2.13.0 torch/distributed/fsdp/api.py:32-69).
_FSDP_STRATEGY = {
    "FULL_SHARD": "full",
    "1": "full",
    "SHARD_GRAD_OP": "grad_op",
    "2": "grad_op",
    "HYBRID_SHARD": "hybrid",
    "4": "hybrid",
    "HYBRID_SHARD_ZERO2": "hybrid_zero2",
    "_HYBRID_SHARD_ZERO2": "hybrid_zero2",
    "5": "hybrid_zero2",
}
FSDP_SHARDING_KEYS = ("fsdp_sharding_strategy", "sharding_strategy", "fsdp_reshard_after_forward", "reshard_after_forward")


def fsdp_sharding(mapping: Any) -> tuple[str, str] | None:
    """(sharding, key) an FSDP mapping (an fsdp_config, an accelerate config's fsdp_config) names:
    `fsdp_sharding_strategy` / `sharding_strategy` (FSDP1), or `reshard_after_forward` (FSDP2: false is
    SHARD_GRAD_OP's behaviour; FSDP1 takes a strategy name there, transformers 5.24.0
    training_args.py:2916-2931). None when it names none (or NO_SHARD, which is not sharding)."""
    if not isinstance(mapping, dict):
        return None
    for key in FSDP_SHARDING_KEYS:
        value = mapping.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or str(value).lower() in ("true", "false"):
            return ("full" if str(value).lower() == "true" else "grad_op"), key
        name = _FSDP_STRATEGY.get(str(value).strip().upper())
        if name is not None:
            return name, key
    return None


# Keys that only act when a ZeRO offload is on, so a file without offload may leave them out:
# `zero_force_ds_cpu_optimizer` is read only when the optimizer runs on the host (DeepSpeed 0.19.6
# deepspeed/runtime/engine.py:2040-2044). `zero_allow_untested_optimizer` acts with or without
# offload (engine.py:1986-1990), so it is compared like any other key.
_OFFLOAD_ONLY_TOP = ("zero_force_ds_cpu_optimizer",)
# Folders where repositories keep their DeepSpeed files, looked in (below the repository root) besides
# the referenced file's own folder.
_DS_FOLDERS = ("deepspeed_configs", "ds_configs", "deepspeed", "configs/deepspeed", "examples/deepspeed", "configs/ds")


def without_offload(data: dict[str, Any]) -> dict[str, Any]:
    """A DeepSpeed config with its offload blocks and the keys only offload reads taken out: two
    files that differ only in offload compare equal."""
    out = {k: v for k, v in data.items() if k not in _OFFLOAD_ONLY_TOP}
    zero = out.get("zero_optimization")
    if isinstance(zero, dict):
        out["zero_optimization"] = {k: v for k, v in zero.items() if k not in OFFLOAD_BLOCKS}
    return out


def _candidates(config_path: Path, path: Path) -> list[Path]:
    """JSON files beside `path`, then in the repository's usual DeepSpeed folders (same folder first)."""
    folders = [path.parent]
    from ..safepath import repository_root

    repo = repository_root(Path(os.path.abspath(config_path)).parent)
    if repo is not None:
        folders += [repo / f for f in _DS_FOLDERS if (repo / f).is_dir() and os.path.realpath(repo / f) != os.path.realpath(path.parent)]
    out: list[Path] = []
    for folder in folders:
        try:
            out += sorted(p for p in folder.iterdir() if p.suffix.lower() == ".json" and p.name != path.name)[:200]
        except OSError:
            continue
    return out


def non_offload_sibling(config_path: Path, ref: str, stage: int | None) -> str | None:
    """`ref` rewritten to name a DeepSpeed file the repository already has that reads, by content, as
    the same file without offload (every key equal once the offload blocks and the keys only offload
    reads are set aside; LLaMA-Factory's ds_z3_config.json beside ds_z3_offload_config.json); its own
    folder first, then the repository's usual DeepSpeed folders. None when there is none. Only files
    inside the tree are read, and the name is never what decides."""
    path = find(config_path, ref)
    if path is None or stage is None:
        return None
    try:
        data = _load(config_path, path)
        candidates = _candidates(config_path, path)
    except Exception:
        return None
    if not isinstance(data, dict):
        return None
    want = without_offload(data)
    for p in candidates:  # the referenced file's own folder first
        try:
            other = _load(config_path, p)
        except Exception:
            continue
        if not isinstance(other, dict) or not isinstance(other.get("zero_optimization"), dict) or _offloads(other["zero_optimization"]):
            continue
        if other["zero_optimization"].get("stage") != stage or without_offload(other) != want:
            continue
        if p.parent == path.parent:
            name = Path(ref).name
            return ref[: len(ref) - len(name)] + p.name
        root = _ref_base(path, ref)
        if root is None:
            continue
        rel = os.path.relpath(p, root)
        if not rel.startswith(".."):
            return rel
    return None


_FSDP_OFFLOAD_KEYS = ("fsdp_offload_params", "offload_params")


def _fsdp_without_offload(data: Any) -> tuple[Any, bool]:
    """An FSDP / accelerate config with its parameter-offload switch set aside, and whether it was on."""
    if not isinstance(data, dict):
        return data, False
    nested = data.get("fsdp_config")
    inner: dict[str, Any] = nested if isinstance(nested, dict) else data
    on = any(inner.get(k) in (True, "true", "True") for k in _FSDP_OFFLOAD_KEYS)
    stripped = {k: v for k, v in inner.items() if k not in _FSDP_OFFLOAD_KEYS}
    return ({**data, "fsdp_config": stripped} if inner is not data else stripped), on


def non_offload_fsdp_sibling(config_path: Path, ref: str) -> str | None:
    """`ref` rewritten to name an FSDP / accelerate config beside it that is, by content, the same file
    with parameter offload off (every other key equal); None when its folder has none."""
    path = find(config_path, ref)
    if path is None:
        return None
    try:
        data = _load(config_path, path)
        siblings = sorted(p for p in path.parent.iterdir() if p.suffix.lower() in (".json", ".yaml", ".yml") and p.name != path.name)[:200]
    except Exception:
        return None
    want, on = _fsdp_without_offload(data)
    if not on:
        return None
    for p in siblings:
        try:
            other, other_on = _fsdp_without_offload(_load(config_path, p))
        except Exception:
            continue
        if not other_on and other == want:
            return ref[: len(ref) - len(Path(ref).name)] + p.name
    return None


def _ref_base(path: Path, ref: str) -> Path | None:
    """The folder `ref` was resolved against (path = base / ref), for naming another file the same way."""
    parts = Path(os.path.normpath(ref)).parts
    if Path(ref).is_absolute() or ".." in parts:
        return None
    base = path
    for _ in parts:
        base = base.parent
    return base


def read_fsdp_file(config_path: Path, ref: str) -> tuple[dict[str, Any], str]:
    """An FSDP config file referenced by `fsdp_config: path` (TrainingArguments accepts a JSON
    path; accelerate writes YAML): offload and activation checkpointing, read as data."""
    path = find(config_path, ref)
    if path is None:
        return {}, f"FSDP config {ref!r} was not found next to the config or in its parent folders; its settings are unknown"
    try:
        data = _load(config_path, path)
    except Exception as exc:  # unreadable or refused: say so, audit the rest
        return {}, _unreadable("FSDP config", ref, exc) + "; its settings are unknown"
    raw = data
    if isinstance(data, dict) and isinstance(data.get("fsdp_config"), dict):
        data = data["fsdp_config"]  # an accelerate config nests them
    if not isinstance(data, dict):
        return {}, f"FSDP config {ref!r} is not a mapping; its settings are unknown"
    out: dict[str, Any] = {}
    nested = isinstance(raw, dict) and raw.get("fsdp_config") is data
    for key in ("fsdp_offload_params", "offload_params"):
        if data.get(key) in (True, "true", "True"):
            # FSDP's CPUOffload(offload_params=True): parameters, gradients and the optimizer step on the host
            out["cpu_offload"] = out["offload_params"] = True
            out["offload_at"] = [(str(path), f"fsdp_config.{key}" if nested else key, key_line(data, key))]
    if isinstance(raw, dict) and isinstance(raw.get("num_processes"), int) and raw["num_processes"] > 0:
        out["world_size"] = raw["num_processes"]  # accelerate config: processes over all machines
    for key in ("fsdp_activation_checkpointing", "activation_checkpointing"):
        if data.get(key) in (True, "true", "True"):
            out["activation_checkpointing"] = (str(path), f"fsdp_config.{key}" if nested else key, key_line(data, key))
    named = fsdp_sharding(data)
    if named is not None:
        out["sharding"] = named[0]
        out["sharding_key"] = f"fsdp_config.{named[1]}" if nested else named[1]
    return out, f"FSDP settings read from {ref}"


# ------------------------------------------------------------------ offload off, in the referenced file
_DEVICE = re.compile(r'("device"\s*:\s*)"(cpu|nvme)"')
_JSON_TRUE = re.compile(r'"([A-Za-z_]+)"\s*:\s*true\b')


def offload_off_text(path: Path, text: str, keys: list[str]) -> tuple[str, dict[str, Any]] | None:
    """The referenced file's text with host offload turned off at `keys` (dotted, as `read` and
    `read_fsdp_file` record them), each edited on its own line, and the writes made; None when an
    edit cannot be made in place or the result does not parse as the same file with only those
    values changed.

    DeepSpeed: `zero_optimization.<block>.device` -> "none", the default and "no offload" of
    OffloadDeviceEnum (DeepSpeed 0.19.6 deepspeed/runtime/zero/offload_config.py:14-18, :24, :58).
    FSDP: `fsdp_offload_params` / `offload_params` -> false (FSDP's CPUOffload off)."""
    json_file = path.suffix.lower() == ".json"
    if not json_file and path.suffix.lower() not in (".yaml", ".yml"):
        return None  # a script that writes the file (heredoc.py): goblin does not edit the script's heredoc
    try:
        data = json.loads(text) if json_file else _yaml_data(text)
    except Exception:
        return None
    if not isinstance(data, dict):
        return None
    writes: dict[str, Any] = {}
    for key in keys:
        if key.startswith("zero_optimization.") and key.endswith(".device"):
            writes[key] = "none"
        elif key in ("deepspeed_config.offload_optimizer_device", "deepspeed_config.offload_param_device"):
            # an accelerate config: none|cpu|nvme, "none" the default (accelerate 1.16.0 utils/dataclasses.py:1096-1103, :1145-1149)
            writes[key] = "none"
        elif key.split(".")[-1] in ("fsdp_offload_params", "offload_params"):
            writes[key] = False
        else:
            return None
    if json_file:
        new = _json_line_edits(text, writes)
    else:
        from ..yamlio import parse_yaml
        from .textedit import apply_yaml_edits

        try:
            new = apply_yaml_edits(text, parse_yaml(text), writes)
        except Exception:
            return None
    if new is None or new == text:
        return None
    want = json.loads(json.dumps(data))
    for key, value in writes.items():
        node = want
        *head, last = key.split(".")
        for part in head:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or last not in node:
            return None
        node[last] = value
    try:
        got = json.loads(new) if json_file else json.loads(json.dumps(_yaml_data(new)))
    except Exception:
        return None
    return (new, writes) if got == want else None  # read back: only the offload values changed


def _yaml_data(text: str) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(text)


def _json_line_edits(text: str, writes: dict[str, Any]) -> str | None:
    """`writes` made on the lines that hold them, the rest of the text as it was: a block's `"device"`
    value is the first one after the block's key (inside `zero_optimization`); an FSDP switch is its
    own key's `true`."""
    spans: list[tuple[int, int, str]] = []
    for key, value in writes.items():
        parts = key.split(".")
        if value == "none":
            at = text.find('"zero_optimization"')
            at = text.find(f'"{parts[1]}"', at) if at >= 0 else -1
            m = _DEVICE.search(text, at) if at >= 0 else None
            if m is None:
                return None
            spans.append((m.start(2) - 1, m.end(2) + 1, '"none"'))
        else:
            m = next((t for t in _JSON_TRUE.finditer(text) if t.group(1) == parts[-1]), None)
            if m is None:
                return None
            spans.append((m.end() - len("true"), m.end(), "false"))
    for start, end, value in sorted(spans, reverse=True):
        text = text[:start] + value + text[end:]
    return text


_REFERRING_SUFFIXES = (".yaml", ".yml")
_SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", "site-packages"})
MAX_SCANNED = 5000


def configs_naming(config_path: Path, target: Path) -> list[Path]:
    """The configs in the config's repository (else its folder) that name `target` as their DeepSpeed
    or FSDP file: a YAML file with a key whose value is a path ending in its name that resolves to it
    the way `find` resolves the config's own reference. At most MAX_SCANNED files are looked at."""
    from ..safepath import repository_root

    folder = Path(os.path.abspath(config_path)).parent
    root = repository_root(folder) or folder
    real = os.path.realpath(target)
    out: list[Path] = []
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if not name.lower().endswith(_REFERRING_SUFFIXES):
                continue
            seen += 1
            if seen > MAX_SCANNED:
                return out
            p = Path(dirpath) / name
            if os.path.realpath(p) == real:
                continue
            try:
                text = read_text(p, roots=tree_of(config_path), limit=MAX_BYTES)
            except Exception:
                continue
            if target.name not in text:
                continue
            # a YAML value that is a path ending in the file's name (`deepspeed: ds/zero3_offload.json`)
            refs = [m.group(1) for m in re.finditer(r":[ \t]*[\"']?([\w./-]+)[\"']?[ \t]*(?:#.*)?$", text, re.MULTILINE)]
            for ref in dict.fromkeys(r for r in refs if Path(r).name == target.name):
                found = find(p, ref)
                if found is not None and os.path.realpath(found) == real:
                    out.append(p)
                    break
    return out


def explicit_values(config_path: Path, ref: str, keys: tuple[str, ...]) -> tuple[str, dict[str, tuple[Any, int | None]]] | None:
    """(file, {dotted key: (value, line)}) of the keys a DeepSpeed JSON in the repository sets to a value other than
    "auto" (blockers._deepspeed_mismatch); None where the file is not found, not JSON or not readable. A key the file
    leaves out, or sets to "auto", is not listed: the Trainer fills those from TrainingArguments."""
    path = find(config_path, ref)
    if path is None or path.suffix.lower() != ".json" or not path.is_file():
        return None
    try:
        text = _text(config_path, path)
        data = _load(config_path, path)
    except Exception:  # unreadable: nothing concluded
        return None
    if not isinstance(data, dict):
        return None
    out: dict[str, tuple[Any, int | None]] = {}
    for dotted in keys:
        node: Any = data
        parts = dotted.split(".")
        for part in parts:
            node = node.get(part) if isinstance(node, dict) else None
        if node is None or node == "auto":
            continue
        at = 0
        for part in parts:  # the line of the last part after its parents ("enabled" under "bf16")
            found_at = text.find(f'"{part}"', at)
            at = found_at if found_at >= 0 else -1
            if at < 0:
                break
        out[dotted] = (node, text.count("\n", 0, at) + 1 if at >= 0 else None)
    return str(path), out


# accelerate's DeepSpeed plugin keys that place ZeRO state on the host: offload_optimizer_device / offload_param_device,
# "none" when unset (accelerate 1.16.0 utils/dataclasses.py:1096-1103,1145-1149), "cpu" or "nvme" (commands/config/cluster.py:260-272)
_ACCELERATE_OFFLOAD_KEYS = ("offload_optimizer_device", "offload_param_device", "offload_optimizer_nvme_path", "offload_param_nvme_path")


def _accelerate_without_offload(data: Any) -> tuple[Any, bool]:
    """An accelerate config with its DeepSpeed offload keys set aside, and whether it offloaded anything."""
    if not isinstance(data, dict) or not isinstance(data.get("deepspeed_config"), dict):
        return data, False
    ds = data["deepspeed_config"]
    on = any(str(ds.get(k, "none")).lower() in ("cpu", "nvme") for k in ("offload_optimizer_device", "offload_param_device"))
    return {**data, "deepspeed_config": {k: v for k, v in ds.items() if k not in _ACCELERATE_OFFLOAD_KEYS}}, on


def non_offload_accelerate_sibling(config_path: Path, path: Path) -> Path | None:
    """An accelerate config beside `path` that is, by content, the same file with DeepSpeed offload off (rhymes-ai/Aria's
    recipes/accelerate_configs/zero3.yaml beside zero3_offload.yaml); None when its folder has none. The name never decides."""
    try:
        want, on = _accelerate_without_offload(_load(config_path, path))
        siblings = sorted(p for p in path.parent.iterdir() if p.suffix.lower() in (".yaml", ".yml") and p.name != path.name)[:200]
    except Exception:
        return None
    if not on:
        return None
    for p in siblings:
        try:
            other, other_on = _accelerate_without_offload(_load(config_path, p))
        except Exception:
            continue
        if not other_on and other == want:
            return p
    return None
