"""Modules and names a framework removed, and a training script's imports of them: the table (each entry's first
release without it, the last with it, and where that was read: the wheels' own file lists and the tags' trees) and
the `ast` reader of a script's imports (nothing imported or run). frameworks/modules.py judges an import at the
release a script runs on; frameworks/pins.py reads the newest release that still has every module a script imports
(pins._held_by_calls). Kept apart from both so that pins can read it (modules imports pins).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ..pysource import parse as parse_source


@dataclass(frozen=True)
class Removed:
    dist: str
    module: str  # as imported from the distribution's top package: "deepspeed" for transformers.deepspeed
    gone: str  # the first release without it
    last: str  # the last release read that has it
    instead: str  # where its contents moved
    sources: tuple[str, ...]
    # "module": a submodule (`from transformers import deepspeed`, `import transformers.deepspeed`); "name": a function
    # or class the package or one of its submodules exported (`from peft import prepare_model_for_int8_training`)
    kind: str = "module"
    aliases: tuple[str, ...] = ()  # names removed with it, one finding for all (CPOConfig beside CPOTrainer)
    kept_under: str = ""  # where the names still are: an import from it (or below it) is the new place, not judged

    @property
    def names(self) -> tuple[str, ...]:
        return (self.module, *self.aliases)


REMOVED = (
    Removed(
        "transformers",
        "deepspeed",
        "4.46.0",
        "4.45.2",
        "transformers.integrations.deepspeed, which has the same names (`from transformers.integrations import deepspeed` keeps "
        "`deepspeed.is_deepspeed_zero3_enabled()` working; transformers 5.25.0 integrations/deepspeed.py:62,286,615)",
        (
            'transformers 4.45.2 wheel: transformers/deepspeed.py (a deprecated shim re-exporting transformers.integrations.deepspeed) and __init__.py:118 `"deepspeed": []`',
            "transformers 4.46.0 wheel: no transformers/deepspeed.py and no `deepspeed` entry in transformers/__init__.py's import structure",
            "transformers 4.44.2 transformers/deepspeed.py:24-27 (FutureWarning: 'transformers.deepspeed module is deprecated and will be removed')",
        ),
    ),
    Removed(
        "peft",
        "prepare_model_for_int8_training",
        "0.10.0",
        "0.9.0",
        "`prepare_model_for_kbit_training`, which the 0.9.0 shim called with the same arguments (peft 0.9.0 "
        "src/peft/utils/other.py:144-149; prepare_model_for_kbit_training at peft 0.10.0 src/peft/utils/other.py:75, from peft 0.4.0 "
        "src/peft/utils/other.py:62)",
        (
            "peft 0.9.0 src/peft/__init__.py:83 and src/peft/utils/__init__.py:34 (exported) and src/peft/utils/other.py:144-149 "
            "(a deprecated shim: 'will be removed in a future version. Use prepare_model_for_kbit_training instead')",
            "peft 0.10.0 src/: no prepare_model_for_int8_training anywhere (git grep at tag v0.10.0)",
            "huggingface/peft commit 8221246f2f48 'Release: v0.10.0 (#1573)' removed it (src/peft/utils/other.py, __init__.py, "
            "utils/__init__.py: 'removed 2 deprecations')",
        ),
        "name",
    ),
    Removed(
        "trl",
        "commands",
        "0.13.0",
        "0.12.2",
        "the top-level trl package (`from trl import TrlParser`: trl 0.13.0 trl/__init__.py:23,139; the class at "
        "trl/scripts/utils.py:122, with parse_args_and_config at :208)",
        (
            "trl v0.12.2 trl/commands/cli_utils.py:182 `class TrlParser(HfArgumentParser)` (trl/commands/__init__.py, cli.py, cli_utils.py; __init__.py:21,25 exports TrlParser from cli_utils)",
            "trl v0.13.0: no trl/commands/ package (git ls-tree at tag v0.13.0, and at every later tag read)",
            "huggingface/trl commit ca850be0a 'CLI refactor (#2380)' deleted trl/commands/__init__.py, cli.py and cli_utils.py",
        ),
    ),
    Removed(
        "trl",
        "CPOTrainer",
        "0.29.0",
        "0.28.0",
        "`from trl.experimental.cpo import CPOTrainer, CPOConfig` (trl v0.29.0 trl/experimental/cpo/__init__.py:15-16)",
        (
            "trl v0.28.0 trl/__init__.py:61-62 (`CPOConfig`, `CPOTrainer`: '# deprecated import', re-exported from trl.experimental.cpo)",
            "trl v0.29.0 trl/__init__.py and trl/trainer/: no CPOTrainer or CPOConfig (git grep at tag v0.29.0; likewise v1.9.0, and the trl 1.16.0 wheel)",
            "huggingface/trl commit 4620e91d2 'Remove deprecated CPO after moved to experimental (#5046)'",
        ),
        "name",
        ("CPOConfig",),
        "trl.experimental",
    ),
    Removed(
        "trl",
        "ORPOTrainer",
        "0.29.0",
        "0.28.0",
        "`from trl.experimental.orpo import ORPOTrainer, ORPOConfig` (trl v0.29.0 trl/experimental/orpo/__init__.py:15-16)",
        (
            "trl v0.28.0 trl/__init__.py:81-82 (`ORPOConfig`, `ORPOTrainer`: '# deprecated import', re-exported from trl.experimental.orpo)",
            "trl v0.29.0 trl/__init__.py and trl/trainer/: no ORPOTrainer or ORPOConfig (git grep at tag v0.29.0; likewise v1.9.0, and the trl 1.16.0 wheel)",
            "huggingface/trl commit d705ac4d0 'Remove deprecated ORPO after moved to experimental (#5050)'",
        ),
        "name",
        ("ORPOConfig",),
        "trl.experimental",
    ),
    Removed(
        "trl",
        "BCOTrainer",
        "0.29.0",
        "0.28.0",
        "`from trl.experimental.bco import BCOTrainer, BCOConfig` (trl v0.29.0 trl/experimental/bco/__init__.py:15-16)",
        (
            "trl v0.28.0 trl/__init__.py:58-59 (`BCOConfig`, `BCOTrainer`: '# deprecated import', re-exported from trl.experimental.bco)",
            "trl v0.29.0 trl/__init__.py and trl/trainer/: no BCOTrainer or BCOConfig (git grep at tag v0.29.0; likewise v1.9.0, and the trl 1.16.0 wheel)",
            "huggingface/trl commit 6e47225d0 'Remove deprecated BCO after moved to experimental (#5045)'",
        ),
        "name",
        ("BCOConfig",),
        "trl.experimental",
    ),
    Removed(
        "trl",
        "PPOTrainer",
        "0.29.0",
        "0.28.0",
        "`from trl.experimental.ppo import PPOTrainer, PPOConfig` (trl v0.29.0 trl/experimental/ppo/__init__.py:20-21)",
        (
            "trl v0.28.0 trl/__init__.py:84-85 (`PPOConfig`, `PPOTrainer`: '# deprecated import', re-exported from trl.experimental.ppo)",
            "trl v0.29.0 trl/__init__.py and trl/trainer/: no PPOTrainer or PPOConfig (git grep at tag v0.29.0; likewise v1.9.0, and the trl 1.16.0 wheel)",
            "huggingface/trl commit 0aea31440 'Remove deprecated PPO after moved to experimental (#5051)'",
        ),
        "name",
        ("PPOConfig",),
        "trl.experimental",
    ),
    Removed(
        "trl",
        "PRMTrainer",
        "0.29.0",
        "0.28.0",
        "`from trl.experimental.prm import PRMTrainer, PRMConfig` (trl v0.29.0 trl/experimental/prm/__init__.py:15-16)",
        (
            "trl v0.28.0 trl/__init__.py:86-87 (`PRMConfig`, `PRMTrainer`: '# deprecated import', re-exported from trl.experimental.prm)",
            "trl v0.29.0 trl/__init__.py and trl/trainer/: no PRMTrainer or PRMConfig (git grep at tag v0.29.0; likewise v1.9.0, and the trl 1.16.0 wheel)",
            "huggingface/trl commit 13bd37e14 'Remove deprecated PRM after moved to experimental (#5052)'",
        ),
        "name",
        ("PRMConfig",),
        "trl.experimental",
    ),
    Removed(
        "trl",
        "XPOTrainer",
        "0.29.0",
        "0.28.0",
        "`from trl.experimental.xpo import XPOTrainer, XPOConfig` (trl v0.29.0 trl/experimental/xpo/__init__.py:15-16)",
        (
            "trl v0.28.0 trl/__init__.py:98-99 (`XPOConfig`, `XPOTrainer`: '# deprecated import', re-exported from trl.experimental.xpo)",
            "trl v0.29.0 trl/__init__.py and trl/trainer/: no XPOTrainer or XPOConfig (git grep at tag v0.29.0; likewise v1.9.0, and the trl 1.16.0 wheel)",
            "huggingface/trl commit fc560370d 'Remove deprecated XPO after moved to experimental (#5055)'",
        ),
        "name",
        ("XPOConfig",),
        "trl.experimental",
    ),
)


@dataclass(frozen=True)
class Import:
    removed: Removed
    line: int
    text: str


def imports(text: str) -> list[Import]:
    """The imports of a removed module or name in a script's text. Parsed with `ast` (nothing run), so an import
    over several lines (`from peft import (\n    prepare_model_for_int8_training,\n)`, tloen/alpaca-lora
    finetune.py) is read, and one inside a `try:` whose handlers catch its ImportError (the script's own fallback)
    is not; text that does not parse is read line by line (comments skipped)."""
    try:
        tree = parse_source(text)
    except (SyntaxError, ValueError, RecursionError):
        return _line_imports(text)
    lines = text.splitlines()
    out: list[Import] = []
    for r in REMOVED:
        for node in _unguarded_imports(tree):
            if _names_removed(node, r):
                end = node.end_lineno or node.lineno
                said = " ".join(" ".join(lines[node.lineno - 1 : end]).split())  # a statement over several lines on one
                out.append(Import(r, node.lineno, said))
                break
    return out


# exceptions whose handler catches an ImportError (ModuleNotFoundError is one): the import is guarded
_CATCHES_IMPORT = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


def _catches_import(handler: ast.ExceptHandler) -> bool:
    kind = handler.type
    if kind is None:  # a bare `except:`
        return True
    names = kind.elts if isinstance(kind, ast.Tuple) else [kind]
    return any(isinstance(n, ast.Name) and n.id in _CATCHES_IMPORT for n in names)


def _unguarded_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement of the tree outside the body of a `try:` whose handlers catch ImportError, in order."""
    out: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.append(node)
            continue
        children = list(ast.iter_child_nodes(node))
        if isinstance(node, ast.Try) and any(_catches_import(h) for h in node.handlers):
            guarded = {id(n) for n in node.body}
            children = [c for c in children if id(c) not in guarded]
        stack.extend(reversed(children))
    return sorted(out, key=lambda n: n.lineno)


def _names_removed(node: ast.Import | ast.ImportFrom, r: Removed) -> bool:
    """Whether this import statement reaches `r`: its name from the package or a submodule (kind "name"), or its
    module as `from dist import module`, `from dist.module import ...` or `import dist.module`."""
    if isinstance(node, ast.Import):
        return r.kind == "module" and any(a.name == f"{r.dist}.{r.module}" or a.name.startswith(f"{r.dist}.{r.module}.") for a in node.names)
    if node.level or node.module is None:  # a relative import is the repository's own
        return False
    mod = node.module
    if r.kept_under and (mod == r.kept_under or mod.startswith(r.kept_under + ".")):
        return False  # the names' new place
    if r.kind == "name":
        return (mod == r.dist or mod.startswith(r.dist + ".")) and any(a.name in r.names for a in node.names)
    if mod == f"{r.dist}.{r.module}" or mod.startswith(f"{r.dist}.{r.module}."):
        return True
    return mod == r.dist and any(a.name == r.module for a in node.names)


def _line_imports(text: str) -> list[Import]:
    """The imports of a removed module in text that does not parse, line by line (comments and strings on their own
    line skipped)."""
    out: list[Import] = []
    for r in REMOVED:
        d, m = re.escape(r.dist), "(?:" + "|".join(re.escape(n) for n in r.names) + ")"
        kept = rf"(?!\.{re.escape(r.kept_under.removeprefix(r.dist + '.'))}\b)" if r.kept_under else ""
        if r.kind == "name":  # from the package or any submodule of it; `as` renames are still the name
            pattern = re.compile(rf"^\s*from\s+{d}{kept}(?:\.[\w.]+)?\s+import\s+(?:\(\s*)?(?:[\w ,]*,\s*)?{m}\b")
        else:
            pattern = re.compile(rf"^\s*(?:from\s+{d}\.{m}\b\s+import\b|import\s+{d}\.{m}\b|from\s+{d}\s+import\s+(?:\(\s*)?(?:[\w ,]*,\s*)?{m}\b(?!\s*\.))")
        for n, line in enumerate(text.splitlines(), 1):
            if pattern.search(line.split("#", 1)[0]):
                out.append(Import(r, n, line.strip()))
                break
    return out
