"""The framework tables: build them from source (scripts/gen_framework_tables.py), load and query them.

A table holds, for one framework at one version, every config class with its fields (line,
default, accepted values), and for torchtune every recipe with the keys it reads and the
values it rejects. `parser_keys` answers "does this trainer accept this key?" for the set of
classes its argument parser combines. When the user's environment has the framework
installed at another version than the shipped table, that version is read instead (AST only,
nothing imported), and the table says which version it is.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

from .extract import extract_classes, extract_recipe, extract_registry, resolve_choices

OUT_DIR = Path(__file__).resolve().parent


# framework -> (distribution, files relative to site-packages; globs allowed)
SPECS: dict[str, tuple[str, list[str]]] = {
    "transformers": ("transformers", ["transformers/training_args.py", "transformers/training_args_seq2seq.py", "transformers/trainer_utils.py"]),
    "trl": ("trl", ["trl/trainer/*_config.py", "trl/experimental/*/*_config.py", "trl/scripts/utils.py"]),
    "peft": ("peft", ["peft/config.py", "peft/tuners/lora/config.py"]),
    "llamafactory": ("llamafactory", ["llamafactory/hparams/*_args.py"]),
    "llamafactory_v1": ("llamafactory", ["llamafactory/v1/config/*_args.py", "llamafactory/v1/config/arg_utils.py"]),
    "torchtune": ("torchtune", ["torchtune/_recipe_registry.py", "recipes/*.py"]),
}
GIT_SPECS: dict[str, tuple[str, list[str]]] = {
    "axolotl": ("https://github.com/axolotl-ai-cloud/axolotl", ["src/axolotl/utils/schemas/*.py"]),
}


def optional_table(name: str) -> dict[str, Any]:
    """A generated table beside this module that goblin works without (commit_releases.json,
    torch_requirements.json): {} when it is missing or unreadable, so nothing is placed or narrowed by it."""
    try:
        data: dict[str, Any] = json.loads((OUT_DIR / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data


def _site_root(dist: str) -> Path | None:
    try:
        files = importlib.metadata.distribution(dist).files or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in files:
        if str(f).endswith(".py"):
            return Path(str(f.locate())).resolve().parents[len(Path(str(f)).parts) - 1]
    return None


def installed_version(framework: str) -> str | None:
    dist = SPECS.get(framework, (framework, []))[0]
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _build(framework: str, version: str, origin: str, reader: Any, names: list[str]) -> dict[str, Any]:
    classes: dict[str, Any] = {}
    enums: dict[str, Any] = {}
    recipes: dict[str, Any] = {}
    registry: dict[str, Any] = {}
    for rel in names:
        src = reader(rel)
        if framework == "torchtune":
            if rel.endswith("_recipe_registry.py"):
                registry = extract_registry(src)
            else:
                recipes[Path(rel).stem] = extract_recipe(rel, src)
            continue
        c, e = extract_classes(rel, src)
        classes.update(c)
        enums.update(e)
    # Enums that a class's __post_init__ converts strings into (only their values pass), by hand:
    # transformers 5.24.0 training_args.py:1563 `self.optim = OptimizerNames(self.optim)`.
    resolve_choices(classes, enums, {"OptimizerNames": "transformers/training_args.py:1563"} if framework == "transformers" else None)
    table: dict[str, Any] = {"framework": framework, "version": version, "origin": origin}
    if framework == "torchtune":
        for info in registry.values():
            stem = Path(str(info["file"])).stem
            if stem in recipes:
                recipes[stem].update({"distributed": info["distributed"], "configs": info["configs"], "registry_line": info["line"]})
        table["recipes"] = recipes
    else:
        table["classes"] = classes
    return table


def build_installed(framework: str) -> dict[str, Any] | None:
    dist, patterns = SPECS[framework]
    root = _site_root(dist)
    version = installed_version(framework)
    if root is None or version is None:
        return None
    names = sorted({str(p.relative_to(root)) for pat in patterns for p in root.glob(pat)})
    return _build(framework, version, f"{dist} {version} from the package index, read by AST", lambda rel: (root / rel).read_text(encoding="utf-8"), names)


def build_git(framework: str, git_dir: Path, commit: str = "HEAD") -> dict[str, Any]:
    url, patterns = GIT_SPECS[framework]

    def git(*args: str) -> str:
        return subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True, text=True).stdout

    sha = git("rev-parse", commit).strip()
    listing = git("ls-tree", "-r", "--name-only", sha).splitlines()
    names = sorted(n for n in listing if any(Path(n).match(p) and n.count("/") == p.count("/") for p in patterns))
    version = git("show", f"{sha}:VERSION").strip() if "VERSION" in listing else sha[:12]
    table = _build(framework, version, f"{url} at {sha}, read by AST", lambda rel: git("show", f"{sha}:{rel}"), names)
    table["commit"] = sha
    return table


# ------------------------------------------------------------------ loading
def shipped(framework: str) -> dict[str, Any]:
    return _shipped(framework)


@lru_cache(maxsize=16)
def _shipped(framework: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((OUT_DIR / f"{framework}.json").read_text(encoding="utf-8"))
    return data


@lru_cache(maxsize=16)
def table(framework: str) -> dict[str, Any]:
    """The user's installed version when it differs from the shipped one (and reads), else the shipped table."""
    base = _shipped(framework)
    if framework in SPECS:
        have = installed_version(framework)
        if have and have != base["version"]:
            try:
                built = build_installed(framework)
            except (OSError, SyntaxError, UnicodeDecodeError):
                built = None
            if built is not None:
                return built
    return base


def class_fields(framework: str, cls: str) -> dict[str, Any]:
    """Fields of a config class including its bases (which may live in another framework's table)."""
    out: dict[str, Any] = {}
    _collect(framework, cls, out, set())
    return out


_CROSS = {"trl": ("transformers",), "llamafactory": ("transformers", "peft"), "llamafactory_v1": ()}


def _collect(framework: str, cls: str, out: dict[str, Any], seen: set[str]) -> None:
    if (framework, cls) in seen:
        return
    seen.add((framework, cls))  # type: ignore[arg-type]
    classes = table(framework).get("classes", {})
    info = classes.get(cls)
    where = framework
    if info is None:
        for other in _CROSS.get(framework, ()):
            info = table(other).get("classes", {}).get(cls)
            if info is not None:
                where = other
                break
    if info is None:
        return
    for name, entry in info["fields"].items():
        out.setdefault(name, {**entry, "file": info["file"], "framework": where})
    for base in info["bases"]:
        _collect(where, base.rsplit(".", 1)[-1], out, seen)


# The argument sets each trainer's parser combines, with where the parser is (for citations).
PARSERS: dict[str, dict[str, Any]] = {
    "llamafactory": {
        "framework": "llamafactory",
        "classes": ["ModelArguments", "DataArguments", "TrainingArguments", "FinetuningArguments", "GeneratingArguments"],
        "strict": True,
        "where": "llamafactory/hparams/parser.py:_parse_args (parse_dict with allow_extra_keys=False unless ALLOW_EXTRA_ARGS)",
    },
    "llamafactory_v1": {
        "framework": "llamafactory_v1",
        "classes": ["ModelArguments", "DataArguments", "TrainingArguments", "SampleArguments"],
        "strict": True,
        "where": "llamafactory/v1/config/arg_parser.py:get_args (parse_dict with allow_extra_keys=False unless ALLOW_EXTRA_KEYS)",
    },
    "trl": {
        "framework": "trl",
        "classes": ["ScriptArguments", "ModelConfig"],
        # trl 1.16.0 trl/scripts/sft.py:144 (and dpo/grpo/kto/rloo/reward): parse_args_and_config(fail_with_unknown_args=False),
        # so a config key no dataclass reads is dropped; releases that raise are in key_history.json (cli_rejects_unknown)
        "strict": False,
        "noun": "a TRL config key",
        "where": "the `trl` command scripts parse with fail_with_unknown_args=False (trl/scripts/sft.py:144), so a key no config class reads is ignored and the edit would do nothing",
    },
    "transformers": {
        "framework": "transformers",
        "classes": ["TrainingArguments"],
        "strict": True,
        "where": "TrainingArguments(...) is a dataclass: an unknown keyword raises TypeError",
    },
    "axolotl": {
        "framework": "axolotl",
        "classes": ["AxolotlInputConfig"],
        "strict": False,
        "noun": "an Axolotl key",
        "where": "src/axolotl/utils/schemas/config.py: pydantic model without extra='forbid' (unknown keys are dropped, so they do nothing)",
    },
}


@lru_cache(maxsize=64)
def parser_keys(parser: str, trainer_config: str | None = None) -> dict[str, Any]:
    """Every key the parser accepts -> its field entry (line, default, choices, file, framework)."""
    spec = PARSERS[parser]
    out: dict[str, Any] = {}
    names = list(spec["classes"]) + ([trainer_config] if trainer_config else [])
    for cls in names:
        for k, v in class_fields(spec["framework"], cls).items():
            out.setdefault(k, v)
    return out


def recipe(name: str) -> dict[str, Any] | None:
    r: dict[str, Any] | None = table("torchtune").get("recipes", {}).get(name)
    return r


def recipe_for_config(rel_path: str) -> str | None:
    """The torchtune recipe whose registry lists this config (e.g. 'llama3_1/8B_qat_full.yaml')."""
    for name, r in table("torchtune").get("recipes", {}).items():
        if rel_path in (r.get("configs") or []):
            return str(name)
    return None


def tune_sharding(recipe: str, version: str) -> tuple[int, str] | None:
    """How torchtune's registry recipe `recipe` shards the model at release `version` (tune_sharding.json,
    scripts/gen_tune_sharding.py, read from pytorch/torchtune's tags): (1, "recipes/x.py:23,415@v0.2.1") for FSDP1's
    FullyShardedDataParallel wrapper, (2, "recipes/x.py:479@v0.6.1") for torchtune's shard_model over FSDP2's
    fully_shard; None for a release or recipe the table does not hold."""
    rel = optional_table("tune_sharding.json").get("releases", {}).get(version) or {}
    got = (rel.get("recipes") or {}).get(recipe)
    if not isinstance(got, dict) or got.get("fsdp") not in (1, 2):
        return None
    at = str(got.get("at", ""))
    if got["fsdp"] == 2 and rel.get("fully_shard"):
        at += f" -> {rel['fully_shard']}"
    return int(got["fsdp"]), at


def tune_stock_header(config: str, count: int) -> str | None:
    """Where torchtune's stock config `config` (`llama3/8B_lora`, with or without `.yaml`) states `--nproc_per_node
    count` in its header comment, at some release (tune_headers.json, scripts/gen_tune_headers.py): "torchtune 0.6.1
    recipes/configs/llama3/8B_lora.yaml:9" for the newest such release; None when no release's header says that."""
    rel = config if config.endswith(".yaml") else config + ".yaml"
    entries = optional_table("tune_headers.json").get("configs", {}).get(rel) or []
    for entry in entries:
        named = str(entry.get("config", ""))
        if count in entry.get("nproc_per_node", []) and named.removesuffix(".yaml") == rel.removesuffix(".yaml"):
            versions = entry.get("versions") or ["?"]
            return f"torchtune {versions[-1]} recipes/configs/{rel}:{entry.get('line')}"
    return None
