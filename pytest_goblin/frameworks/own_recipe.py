"""A repository's own torchtune recipe: the `.py` file a `tune run` line launches for a config, and the
config keys that file reads (found with `ast`, never imported or run).

torchtune's `tune run` takes either a registry name or a path to a recipe script (torchtune 0.6.1
torchtune/_cli/run.py:119-130,168-187, `_get_recipe`/`_run_cmd`: a name not in the registry is run as a module),
and a recipe sees the YAML only through the `cfg` it is handed, reading keys with `cfg.get(key, ...)`,
`cfg.key` or `cfg[key]` (recipes/full_finetune_distributed.py:152,292@v0.6.1). A key the file never
reads, and that no code outside the file could read, does nothing, so goblin writes no edit for it.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath

from .. import repoindex, safepath
from ..pysource import parse as parse_source

# `tune run [launcher options] path/to/recipe.py [--config ...]`
_TUNE_RUN_PY = re.compile(r"\btune\s+run\b(?:\s+(?:--?[\w-]+(?:[ =](?!-)[^\s\\]+)?|\\\n))*\s+([\w./${}\"'-]+?\.py)\b")
_SCRIPT_SUFFIXES = (".sh", ".bash", ".slurm", ".sbatch", ".job", ".md")
_CFG_NAMES = frozenset({"cfg", "config", "conf"})
# calls that take the whole config and read no key from it (logging, printing, OmegaConf's own I/O)
_HARMLESS = frozenset({"log_config", "print", "info", "debug", "warning", "to_yaml", "save", "merge", "pprint", "str", "repr"})
MAX_FILES = 4000


# formats/recipe_file.repository_recipe registers itself here (a higher layer: it reads the launch lines that name the
# config): the repository's own recipe file a config runs with, however the repository ties the two (review7a class 3)
REPOSITORY_RECIPE: list[Callable[[str, str], tuple[Path, str] | None]] = []


def run_recipe(config: str, text: str) -> tuple[Path, str] | None:
    """The repository's recipe file this config runs with (REPOSITORY_RECIPE, else a `tune run x.py` line), and where
    that was read; None when the repository shows none."""
    for finder in REPOSITORY_RECIPE:
        got = finder(config, text)
        if got is not None:
            return got
    return launched_recipe(config, text)


def launched_recipe(config: str, text: str) -> tuple[Path, str] | None:
    """The repository `.py` recipe a `tune run` line runs this config with, and where that line is; None
    when no such line (the config's own comment first, then a script or README of its repository that
    names the config's file)."""
    absolute = Path(os.path.abspath(config))
    roots = safepath.tree_of(absolute)
    return repoindex.memo("own_recipe", (absolute, tuple(roots), hash(text)), lambda: _launched(absolute, text, roots))


def _launched(absolute: Path, text: str, roots: list[Path]) -> tuple[Path, str] | None:
    found = _resolve(_TUNE_RUN_PY.findall(text), [absolute.parent, *roots], roots)
    if found is not None:
        return found, "the config's own `tune run` line"
    name = absolute.name
    for script in _scripts(roots):
        try:
            body = safepath.read_text(script, roots=roots)
        except (OSError, safepath.UnsafePath):
            continue
        if name not in body:
            continue
        found = _resolve(_TUNE_RUN_PY.findall(body), [*roots, script.parent, absolute.parent], roots)
        if found is not None:
            rel = os.path.relpath(script, roots[0]) if script.is_relative_to(roots[0]) else script.name
            return found, f"{rel}, which names {name} beside its `tune run` line,"
    return None


def _resolve(names: list[str], bases: list[Path], roots: list[Path]) -> Path | None:
    for raw in names:
        rel = raw.strip("\"'")
        rel = re.sub(r"^\$\{?\w+\}?/", "", rel)  # $REPO_ROOT/recipes/x.py: relative to the repository
        if "$" in rel or PurePath(rel).is_absolute():
            continue
        for base in bases:
            cand = base / rel
            if cand.is_file() and safepath.within(cand, roots):
                return cand
    return None


def _scripts(roots: list[Path]) -> list[Path]:
    out: list[Path] = []
    for root in roots[:1]:
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in ("node_modules", "__pycache__", "wandb"))
            out += [Path(folder) / f for f in sorted(files) if f.endswith(_SCRIPT_SUFFIXES)]
            if len(out) > MAX_FILES:
                return out[:MAX_FILES]
    return out


def keys_read(recipe: Path, roots: list[Path] | None = None) -> frozenset[str] | None:
    """Top-level config keys the recipe file reads; None when that cannot be told from the file alone (it does
    not parse, its recipe class derives from a class defined elsewhere, or it hands the whole config to code
    outside the file)."""
    try:
        source = safepath.read_text(recipe, roots=roots)
        tree = parse_source(source)
    except (OSError, safepath.UnsafePath, SyntaxError, ValueError):
        return None
    local = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    keys: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(_name(b) not in local | {"object", "FTRecipeInterface", "ABC", "Protocol"} for b in node.bases):
            return None
        if isinstance(node, ast.Attribute) and _is_cfg(node.value):
            keys.add(node.attr)
        elif isinstance(node, ast.Subscript) and _is_cfg(node.value) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
            keys.add(node.slice.value.split(".", 1)[0])
        elif isinstance(node, ast.Call):
            args = [*node.args, *(k.value for k in node.keywords)]
            callee = _name(node.func)
            if callee in ("getattr", "hasattr", "select") and len(node.args) >= 2 and _is_cfg(node.args[0]):
                if isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str):
                    keys.add(node.args[1].value.split(".", 1)[0])
                    continue
                return None  # a key computed at run time
            if isinstance(node.func, ast.Attribute) and _is_cfg(node.func.value) and node.func.attr in ("get", "pop"):
                if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                    keys.add(node.args[0].value.split(".", 1)[0])
                    continue
                return None
            if any(_is_cfg(a) for a in args) and callee not in local and callee not in _HARMLESS:
                return None  # the whole config goes to code goblin does not read
    return frozenset(keys)


def _is_cfg(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id in _CFG_NAMES
    return (
        isinstance(node, ast.Attribute) and node.attr in ("cfg", "_cfg", "config", "_config") and isinstance(node.value, ast.Name) and node.value.id == "self"
    )


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


# ---- a torchtune recipe copied into the repository, matched to its release by content (recipe_hashes.json)


def recipe_hashes() -> dict[str, dict[str, object]]:
    """sha256 -> {"file": "recipes/x.py", "versions": [...]} of torchtune's recipes (scripts/gen_recipe_hashes.py)."""
    import json

    return repoindex.memo("recipe_hashes", 0, lambda: json.loads((Path(__file__).parent / "recipe_hashes.json").read_text())["torchtune"]["files"])


def digest(raw: bytes) -> str:
    """As scripts/gen_recipe_hashes.py: CRLF as LF, trailing whitespace at the end of the file dropped."""
    import hashlib

    return hashlib.sha256(raw.replace(b"\r\n", b"\n").rstrip()).hexdigest()


def vendored_recipe(config: str, text: str, recipe: str | None) -> tuple[Path, str, list[str]] | None:
    """A file of the repository byte-identical (up to line endings) to a torchtune release's recipe: the one the
    config's `tune run` line or a script naming the config runs, else one named as the config's recipe (`recipe`,
    the registry name goblin reads the config with). (file, torchtune's file, the releases it is identical to); None
    when there is none, or copies of that recipe from different releases."""
    hashes = recipe_hashes()
    absolute = Path(os.path.abspath(config))
    roots = safepath.tree_of(absolute)
    launched = launched_recipe(config, text)
    if launched is not None:
        got = _match(launched[0], hashes, roots)
        return (launched[0], *got) if got is not None else None
    if recipe is None:
        return None
    name = f"{recipe}.py"
    found = [(p, got) for p in repoindex.memo("recipe_copies", (tuple(roots), name), lambda: tuple(_named(roots, name))) if (got := _match(p, hashes, roots))]
    if not found or len({tuple(v) for _p, (_f, v) in found}) != 1:
        return None
    # of several identical copies, the one nearest the config (the most folders in common)
    path, (file, versions) = max(found, key=lambda f: (len(os.path.commonpath([f[0], absolute]).split(os.sep)), -len(f[0].parts)))
    return path, file, versions


def stock_copy(path: Path, roots: list[Path]) -> tuple[str, list[str]] | None:
    """(torchtune's recipe file, the releases) the file is byte-identical to (up to line endings); None when none."""
    return _match(path, recipe_hashes(), roots)


def _match(path: Path, hashes: dict[str, dict[str, object]], roots: list[Path]) -> tuple[str, list[str]] | None:
    try:
        raw = safepath.read_bytes(path, roots=roots)
    except (OSError, safepath.UnsafePath):
        return None
    entry = hashes.get(digest(raw))
    if entry is None:
        return None
    versions = entry.get("versions")
    return str(entry["file"]), [str(v) for v in versions] if isinstance(versions, list) else []


def _named(roots: list[Path], name: str) -> list[Path]:
    out: list[Path] = []
    seen = 0
    for root in roots[:1]:
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in ("node_modules", "__pycache__", "wandb"))
            seen += len(files)
            if name in files:
                out.append(Path(folder) / name)
            if seen > 20 * MAX_FILES:
                return out
    return out


# ---- the repository's own recipe file that runs a config, whatever launches it (review7a class 3)

# A torchtune recipe file: a recipe class on torchtune's interface, or the `@config.parse` entry point every recipe has
# (torchtune 0.6.1 recipes/lora_finetune_single_device.py: `class LoRAFinetuneRecipeSingleDevice(FTRecipeInterface)`,
# `@config.parse` over `recipe_main(cfg: DictConfig)`).
_RECIPE_MARK = re.compile(r"\(\s*FTRecipeInterface\s*\)|@config\.parse\b")
# the lookbehind starts a word only where one begins: `[\w./-]+` from every position of a long run is quadratic (D2)
PY_WORD = re.compile(r"(?<![\w./-])[\w./-]+\.py\b")
MAX_README_BYTES = 512_000


def is_recipe(path: Path, roots: list[Path]) -> bool:
    """The file is a torchtune recipe (see _RECIPE_MARK), read as text."""
    try:
        return _RECIPE_MARK.search(safepath.read_text(path, roots=roots)) is not None
    except (OSError, safepath.UnsafePath, ValueError):
        return False


def names_file(word: str, base: Path, roots: list[Path]) -> Path | None:
    """The repository file a path word of a README names, from the README's folder or the repository's root."""
    word = word.removeprefix("./")
    if ".." in PurePath(word).parts or PurePath(word).is_absolute():
        return None
    for b in (base, *roots[:1]):
        cand = b / word
        if cand.is_file() and safepath.within(cand, roots):
            return cand
    return None


def py_files(roots: list[Path]) -> list[Path]:
    out: list[Path] = []
    for root in roots[:1]:
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in ("node_modules", "__pycache__", "wandb", "site-packages", ".venv", "venv"))
            out += [Path(folder) / f for f in sorted(files) if f.endswith(".py")]
            if len(out) > MAX_FILES:
                return out[:MAX_FILES]
    return out


def readmes(roots: list[Path]) -> list[Path]:
    root = roots[0]
    try:
        return sorted(p for p in root.iterdir() if p.is_file() and p.name.lower().startswith("readme") and p.suffix.lower() in (".md", ".rst", ".txt", ""))
    except OSError:
        return []


def recipe_strategy(path: Path, roots: list[Path]) -> tuple[str, int, str] | None:
    """How the repository's recipe file spreads the model over its processes, where the file shows it: DDP where it
    wraps the model in DistributedDataParallel (review7a #11 lora_orpo_ddp.py:33 `as DDP`, :298 `DDP(`), FSDP where it
    wraps it in FullyShardedDataParallel (torchtune 0.2.1's recipes: review5 tradutor recipes/lora_finetune_distributed.py:26
    `FullyShardedDataParallel as FSDP`, :312 `model = FSDP(`) or calls torchtune's `shard_model` / `fully_shard`
    (FSDP2: torchtune 0.6.1 recipes/lora_finetune_distributed.py `training.shard_model`). The wrapping call is the line
    named, else the import. (strategy, line, the word read); None when the file shows neither."""
    try:
        lines = safepath.read_text(path, roots=roots).splitlines()
    except (OSError, safepath.UnsafePath, ValueError):
        return None
    codes = [line.split("#", 1)[0] for line in lines]
    for strategy, cls in (("ddp", "DistributedDataParallel"), ("fsdp", "FullyShardedDataParallel")):
        aliases = {cls} | {m.group(1) for c in codes if (m := re.search(r"\b" + cls + r"\s+as\s+(\w+)", c))}
        call = re.compile(r"(?<![\w.])(?:\w+\.)*(" + "|".join(sorted(aliases)) + r")\s*\((?!\s*\))")
        for n, code in enumerate(codes, 1):
            if m := call.search(code):
                return strategy, n, m.group(1) if m.group(1) == cls else f"{m.group(1)} ({cls})"
    for n, code in enumerate(codes, 1):
        m = re.search(r"\b(shard_model|fully_shard)\s*\(", code)
        if m:
            return "fsdp", n, m.group(1)
    for strategy, cls in (("ddp", "DistributedDataParallel"), ("fsdp", "FullyShardedDataParallel")):
        for n, code in enumerate(codes, 1):
            if re.search(r"\b" + cls + r"\b", code) and re.search(r"^\s*(?:from|import)\b", code):
                return strategy, n, cls
    return None


# ---- what the repository's own recipe takes from its config for sharding and validation (review8a #6)

# torchtune's recipes pass two config keys to its FSDP2 sharding: `fsdp_cpu_offload` (cfg.get default False) as
# shard_model's cpu_offload, which adds CPUOffloadPolicy() to fully_shard's arguments, and `fsdp_reshard_after_forward`
# (cfg.get default True) as its reshard_after_forward (torchtune v0.6.1 recipes/full_finetune_distributed.py:138,299,
# :590-594; torchtune/training/_distributed.py:519-568, :524 default True, :550-552). An own recipe is read the same way:
# the cfg key it reads whose name says cpu offload or reshard, where the file also passes that keyword to its sharding.
_OFFLOAD_WORDS = ("cpu_offload", "offload_policy")
_RESHARD_WORDS = ("reshard_after_forward",)
# a validation loop every N steps: torchtune's main branch reads `run_val_every_n_steps` and calls self.validate()
# (recipes/full_finetune_distributed.py:215-219,873,1133-1137@bd2a0fc); an own recipe may name it otherwise
_VAL_KEY = re.compile(r"(?:val|eval)\w{0,40}(?:every|steps|interval|freq)|(?:every|freq)\w{0,40}(?:val|eval)", re.IGNORECASE)
_VAL_CALL = frozenset({"validate", "_validate", "run_val", "_run_val", "run_validation", "_run_validation", "evaluate", "_evaluate", "eval_step", "run_eval"})
_UNSET = object()
TENSOR_PARALLEL_KEY = "tensor_parallel_dim"


@dataclass(frozen=True)
class CfgRead:
    """One top-level config key the recipe reads: where, and the default its `cfg.get(key, default)` gives (a literal), if any."""

    key: str
    line: int
    default: object = _UNSET

    @property
    def has_default(self) -> bool:
        return self.default is not _UNSET


@dataclass(frozen=True)
class RecipeSharding:
    """How the repository's own recipe file shards, read from its text: the strategy (recipe_strategy), and the cfg
    keys it passes to its sharding as cpu offload and reshard-after-forward, and the key that sets a validation loop
    every N steps with the line of the call it makes. Each None where the file shows none."""

    strategy: tuple[str, int, str] | None
    offload: CfgRead | None = None
    reshard: CfgRead | None = None
    validation: CfgRead | None = None
    validation_call: tuple[str, int] | None = None
    keys: frozenset[str] = frozenset()  # every top-level key the file reads from its cfg
    # tensor parallelism: the cfg read of `tensor_parallel_dim` and the line of the file's own `parallelize_module(`
    # call (torch.distributed.tensor.parallel), as torchtune 0.6.0 recipes/full_finetune_distributed.py:152 reads the key
    # and :557 applies the plan over the "tp" mesh dimension; each None where the file shows none
    tensor_parallel: CfgRead | None = None
    parallelize_line: int | None = None
    # the file's reads are all its own (keys_read is not None): a key it never reads does nothing
    complete: bool = False


def cfg_reads(tree: ast.AST) -> list[CfgRead]:
    """The config keys a parsed recipe reads (`cfg.get("k", d)`, `cfg.k`, `cfg["k"]`), in file order."""
    out: list[CfgRead] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_cfg(node.func.value) and node.func.attr == "get":
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                default: object = _UNSET
                if len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                    default = node.args[1].value
                out.append(CfgRead(node.args[0].value.split(".", 1)[0], node.lineno, default))
        elif isinstance(node, ast.Attribute) and _is_cfg(node.value) and node.attr not in ("get", "pop"):
            out.append(CfgRead(node.attr, node.lineno))
        elif isinstance(node, ast.Subscript) and _is_cfg(node.value) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
            out.append(CfgRead(node.slice.value.split(".", 1)[0], node.lineno))
    return sorted(out, key=lambda c: c.line)


def recipe_sharding(path: Path, roots: list[Path]) -> RecipeSharding | None:
    """What the recipe file shows of its sharding (RecipeSharding); None when the file cannot be read or parsed."""
    try:
        source = safepath.read_text(path, roots=roots)
        tree = parse_source(source)
    except (OSError, safepath.UnsafePath, SyntaxError, ValueError):
        return None
    strategy = recipe_strategy(path, roots)
    keywords = {k.arg for n in ast.walk(tree) if isinstance(n, ast.Call) for k in n.keywords if k.arg}
    calls = {(_name(n.func), n.lineno) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    reads = cfg_reads(tree)
    sharded = strategy is not None and strategy[0] == "fsdp"

    def first(words: tuple[str, ...]) -> CfgRead | None:
        if not sharded or not any(w in keywords for w in words):
            return None
        return next((c for c in reads if any(w.split("_")[0] in c.key and w.split("_")[-1] in c.key for w in words)), None)

    val = next((c for c in reads if _VAL_KEY.search(c.key)), None)
    call = min(((name, line) for name, line in calls if name in _VAL_CALL), key=lambda c: c[1], default=None)
    return RecipeSharding(
        strategy,
        first(_OFFLOAD_WORDS),
        first(_RESHARD_WORDS),
        val if call is not None else None,
        call if val is not None else None,
        frozenset(c.key for c in reads),
        next((c for c in reads if c.key == TENSOR_PARALLEL_KEY), None),
        min((line for name, line in calls if name == "parallelize_module"), default=None),
        keys_read(path, roots) is not None,
    )
