"""Which launch lines launch a config: a word that names the config's file (from the launcher's folder,
a parent, or a `cd` line's folder), a pattern of variables the file leaves unset, or a glob that
matches it; and a training script run by its bare name from another checkout (`runs_elsewhere`)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..safepath import text_or_empty
from .launch_walk import MAX_DEPTH, MAX_DIR_ENTRIES, _repository_files, tail_count, unique_name
from .launcher_text import CONFIG_SUFFIXES, GLOB, Line, launcher_kind, var_pattern, word_path


# ------------------------------------------------------------------ which lines launch this config
def _bases(launcher_dir: Path, root: Path, cwd: str = "") -> list[Path]:
    """The folders a relative path of a launch line may be written from, nearest first: the folder a
    `cd` moved to (from the launcher's folder, or from it and each parent when the `cd` is relative to
    where the launcher is run), else the launcher's folder and each parent up to the repository root."""
    chain = [launcher_dir]
    while chain[-1] != root and chain[-1].parent != chain[-1] and chain[-1].is_relative_to(root) and len(chain) <= MAX_DEPTH:
        chain.append(chain[-1].parent)
    # a `cd` into a folder this repository does not have (`git clone ... && cd repo-name` in a README) is
    # not where its files are: then the launcher's folder and its parents, as without it
    if cwd.startswith("@"):
        moved = Path(os.path.normpath(launcher_dir / cwd[2:])) if cwd != "@" else launcher_dir
        return [moved] if moved.is_dir() and moved.is_relative_to(root) else chain
    if cwd.startswith("?/"):
        # leading `cd`s into folders the repository lacks (README install steps: `git clone ... && cd axolotl`,
        # then `cd sft`, review3 Online-RLHF README.md:138) are ignored: the longest tail that exists counts,
        # then (a guess, not the path written) the launcher's folder and its parents as without the `cd`s
        steps = [x for x in cwd[2:].split("/") if x not in ("", ".")]
        for i in range(len(steps)):
            moved_all = [Path(os.path.normpath(b.joinpath(*steps[i:]))) for b in chain]
            hits = [m for m in moved_all if m.is_dir() and m.is_relative_to(root)]
            if hits:
                return hits if i == 0 else [*hits, *(b for b in chain if b not in hits)]
        return chain
    return chain


def resolve_relative(word: str, launcher_dir: Path, root: Path, cwd: str = "") -> tuple[Path | None, list[Path]]:
    """(the file a relative path of a launch line names: the first of `_bases` that holds it, the
    folders tried); None when none holds it."""
    tried = _bases(launcher_dir, root, cwd)
    for base in tried:
        candidate = Path(os.path.normpath(base / word))
        if candidate.is_file():
            return Path(os.path.realpath(candidate)), tried
    return None, tried


def workdir_of(word: str, launcher_dir: Path, root: Path, cwd: str = "") -> Path | None:
    """The folder a launch line runs in, told by a relative file word it writes: the first of `_bases` that holds
    the file (its real path); None for an absolute word or one no base holds."""
    if not word or os.path.isabs(word):
        return None
    for base in _bases(launcher_dir, root, cwd):
        if Path(os.path.normpath(base / word)).is_file():
            return Path(os.path.realpath(base))
    return None


def names_config(tokens: tuple[str, ...], config: Path, launcher_dir: Path, root: Path, cwd: str = "") -> bool:
    """True when a word of the command names `config` (real path): a relative path (a bare name too)
    is the file the nearest of `_bases` holds (after a `cd`, from there); an absolute or
    variable-prefixed path by its last two or more parts."""
    name = config.name
    for tok in tokens:
        word = tok.split("=", 1)[1] if tok.startswith("-") and "=" in tok else tok
        if GLOB.search(word) and "$" not in word and _glob_names(word, config, launcher_dir, root, cwd):
            return True
        if "$" in word and not word.endswith("/" + name) and variable_names(word, config, launcher_dir, root, cwd):
            return True
        if "$" in word and word.endswith("/" + name) and folder_pattern_names(word, config, launcher_dir, root, cwd):
            return True
        if not word.endswith(name) or not (word == name or word.endswith("/" + name)):
            continue
        if "$" in word:  # an unresolved variable prefix: judge by the literal tail
            tail = word.rsplit("}", 1)[-1] if "}" in word else re.sub(r"^.*\$\w+", "", word)
            parts = [p for p in tail.split("/") if p and p != "."]
            if len(parts) >= 2 and config.parts[-len(parts) :] == tuple(parts):
                return True
            # `/cluster/$USER/llm-workshop/fine-tuning-multigpu/config_scripts/x.yaml` (6a #19 HichamAgueny/llm-workshop
            # job_multiGPU_QA.sh:37, a checkout elsewhere whose folder name differs from this one): the tail ends in the
            # file's whole path inside the repository (two parts or more), as an absolute path's does below
            inside = config.relative_to(root).parts if config.is_relative_to(root) else ()
            if len(inside) >= 2 and len(parts) >= len(inside) and tuple(parts[-len(inside) :]) == inside:
                return True
            # `${CONFIG_DIR}/x.yaml`: the launcher's own folder, or the one file of that name in the repository
            if len(parts) == 1 and (launcher_dir == config.parent or unique_name(root, name)):
                return True
            continue
        p = Path(word)
        if p.is_absolute():
            parts = [x for x in p.parts[1:] if x not in (".", "")]
            if Path(os.path.normpath(p)) == config or (len(parts) >= 2 and config.parts[-len(parts) :] == tuple(parts) and len(parts) >= 2):
                return True
            # a checkout elsewhere (review3 cs229-project train.sh:9 `--config /lfs/.../cs229-project/cs229/configs/config_1b.yaml`):
            # the path ends in this file's whole path inside the repository (two parts or more)
            inside = config.relative_to(root).parts if config.is_relative_to(root) else ()
            if len(inside) >= 2 and tuple(parts[-len(inside) :]) == inside:
                return True
            if unique_tail(tuple(parts), config, root):
                return True
            # a script at the repository root that the line names under the author's checkout another of its words gives
            if (hit := checkout_file(word, root, tokens)) is not None and os.path.realpath(hit) == str(config):
                return True
            continue
        # relative (`finetune.py` in trainer/scripts/deepspeed/sft.sh naming trainer/finetune.py, review2
        # MiniCPM; `bash finetune/run.sh` running `torchrun finetune.py` from the root): the nearest folder
        # from the launcher's (or a `cd`'s) up to the root that holds a file of that path is the one run
        found, _ = resolve_relative(word, launcher_dir, root, cwd)
        if found is not None and found == config:
            return True
        # after a `cd` into a folder outside the repository (`cd /fsx/user/axolotl`, review3 shisa-v2
        # train/slurm/base-llama3-70b-fft.slurm:26,43) a relative name is the copy put there: the one
        # file of that name (and path tail) the repository holds
        # (or, of several files of that name, the one file whose path ends in the folders written: `-m training.run` after
        # `cd /home/niklas/gritlm/gritlm`, review11b #36 gritlm scripts/training/train_gritlm_8x7b.sh:15,52, beside
        # scripts/prepare_datasets/run.py)
        parts = [x for x in Path(word).parts if x not in (".", "")]
        if found is None and cwd == "!" and ".." not in parts and config.parts[-len(parts) :] == tuple(parts):
            if unique_name(root, name) or (len(parts) >= 2 and tail_count(root, tuple(parts)) == 1):
                return True
    return False


def unique_tail(parts: tuple[str, ...], config: Path, root: Path) -> int:
    """The length of the longest tail an absolute path of the author's machine shares with the config's path inside the
    repository (`/data/user/proj/litecot/config/config7b.yaml` for `projects/litecot/config/config7b.yaml`, a checkout laid
    out otherwise), when it is the file name and one folder or more and no other config file of the repository ends in
    it; 0 otherwise (a bare file name, or a tail two files share: which one runs is not known)."""
    inside = config.relative_to(root).parts if config.is_relative_to(root) else ()
    k = 0
    while k < min(len(parts), len(inside)) and parts[-1 - k] == inside[-1 - k]:
        k += 1
    if k < 2:
        return 0
    return k if tail_count(root, inside[-k:]) == 1 else 0


def tail_file(p: Path, root: Path) -> Path | None:
    """The repository's file an absolute path of another machine names (`--config_file
    /home/niklas/gritlm/scripts/configs/config_128gpusfsdp_m7.yml`, review11b #36 gritlm scripts/training/train_embonly.sh:36,
    for scripts/configs/config_128gpusfsdp_m7.yml): the one file of that name whose path inside the repository shares the
    longest tail with it, when that tail holds a folder besides the name (a bare `config.yaml` names no file) and no other
    file shares as long a tail; None otherwise. Only the walk's list is read: the absolute path itself is never opened."""
    found = _repository_files(root)
    if not found.complete:
        return None
    want = tuple(x for x in p.parts[1:] if x not in (".", "", ".."))
    if not want:
        return None
    best, hits, chosen = 0, 0, ""
    for folder in found.config_dirs.get(want[-1], []):
        have = (*(x for x in folder.split("/") if x), want[-1])
        k = 0
        while k < min(len(have), len(want)) and have[-1 - k] == want[-1 - k]:
            k += 1
        if k > best:
            best, hits, chosen = k, 1, folder
        elif k == best:
            hits += 1
    if best < 2 or hits != 1:
        return None
    return root.joinpath(chosen, want[-1]) if chosen else root / want[-1]


def checkout_file(word: str, root: Path, words: tuple[str, ...] = ()) -> Path | None:
    """The repository's file an absolute path of the author's machine names, a launched script as a config: by its own
    unique tail (`tail_file`), else through the author's checkout root that another absolute word of the same line gives
    (`accelerate launch /playpen-ssd/smerrill/llm_decisions/train_agent_llm.py --config
    /playpen-ssd/smerrill/llm_decisions/configs/llamma_3_70b.yaml`, review12b #35 llm_decisions
    shell_scripts/train_all_agents.sh:33-35,70: the config's tail `configs/llamma_3_70b.yaml` puts the repository at
    /playpen-ssd/smerrill/llm_decisions, so the script is its train_agent_llm.py). None when neither names one file
    of the repository. Nothing outside the tree is opened."""
    if "$" in word or not os.path.isabs(word):
        return None
    p = Path(os.path.normpath(word))
    if (hit := tail_file(p, root)) is not None:
        return hit
    for prefix, base in checkout_roots(word, root, words):
        if len(p.parts) > len(prefix) and p.parts[: len(prefix)] == prefix:
            found = base.joinpath(*p.parts[len(prefix) :])
            if found.is_file() and Path(os.path.realpath(found)).is_relative_to(root):
                return found
    return None


def checkout_roots(word: str, root: Path, words: tuple[str, ...]) -> list[tuple[tuple[str, ...], Path]]:
    """(the author's checkout path, the repository folder it is) for each other absolute word of a launch line that
    names one file of the repository by its tail (`--config /playpen-ssd/me/proj/configs/big.yaml` puts the checkout at
    /playpen-ssd/me/proj): where the line says the checkout is."""
    out = []
    for other in words:
        other = word_path(other)
        if other == word or "$" in other or not os.path.isabs(other):
            continue
        q = Path(os.path.normpath(other))
        inside = tail_file(q, root)
        if inside is None:
            continue
        rel = inside.relative_to(root).parts
        k = 0
        while k < min(len(rel), len(q.parts) - 1) and q.parts[-1 - k] == rel[-1 - k]:
            k += 1
        out.append((q.parts[: len(q.parts) - k], root.joinpath(*rel[: len(rel) - k])))
    return out


def tail_note(line: Line, config: Path, root: Path) -> str:
    """How a launch line was read as naming the config by the tail of an absolute path; "" when it names it otherwise
    (by its whole path inside the repository, or not by an absolute path)."""
    inside = config.relative_to(root).parts if config.is_relative_to(root) else ()
    for tok in line.tokens:
        word = tok.split("=", 1)[1] if tok.startswith("-") and "=" in tok else tok
        if "$" in word or not os.path.isabs(word) or not word.endswith("/" + config.name):
            continue
        parts = tuple(x for x in Path(word).parts[1:] if x not in (".", ""))
        if Path(os.path.normpath(word)) == config or (len(inside) >= 2 and parts[-len(inside) :] == inside):
            return ""
        if k := unique_tail(parts, config, root):
            tail = "/".join(inside[-k:])
            return f"`{word}` is a path on another machine: read as {'/'.join(inside)} by its tail `{tail}`, which no other file of the repository ends in"
    return ""


def variable_names(word: str, config: Path, launcher_dir: Path, root: Path, cwd: str = "") -> bool:
    """True when a config word built from variables the file leaves unset (`configs/${MODEL}.yaml`,
    `${RUN_NAME}_args.yaml`) matches the config as a pattern from a folder the line may be written from, and
    the config is the one file of its folder that the pattern's last part matches (more than one: which
    is run is not known, and nothing is read)."""
    import fnmatch

    pattern = var_pattern(word_path(word))
    if not pattern or not _glob_names(pattern, config, launcher_dir, root, cwd):
        return False
    last = pattern.rsplit("/", 1)[-1]
    try:
        with os.scandir(config.parent) as it:
            hits = [e.name for n, e in enumerate(it) if n < MAX_DIR_ENTRIES and fnmatch.fnmatchcase(e.name, last) and e.is_file()]
    except OSError:
        return False
    return hits == [config.name]


# a part of a word goblin did not read: a shell variable (`$X`, `${X}`) or a Python expression a launcher file builds the
# command with (`${config['B_PARAMS']}`, formats/pylaunch.py); no nesting, so linear
_HOLE = re.compile(r"\$(?:\{[^{}$\n]{1,80}\}|[A-Za-z_]\w{0,63})")
MAX_PATTERN_HITS = 4


def hole_pattern(word: str) -> str:
    """`recipes/zephyr-${config['B_PARAMS']}b-gemma/gpo/config_full.yaml` -> `recipes/zephyr-*b-gemma/gpo/config_full.yaml`:
    each unread part of a folder as `*`; "" unless the file name and a folder part stay literal and no hole is left."""
    path = word_path(word)
    if not path.lower().endswith(CONFIG_SUFFIXES):
        return ""
    pattern = _HOLE.sub("*", path)
    parts = pattern.split("/")
    if "$" in pattern or GLOB.search(pattern.replace("*", "")) or "*" in parts[-1] or "*" not in pattern:
        return ""
    return pattern if any(p and "*" not in p and p not in (".", "..") for p in parts[:-1]) else ""


def _pattern_files(pattern: str, base: Path) -> list[Path]:
    """The files under `base` the pattern matches part by part (as the shell would expand it), at most
    MAX_PATTERN_HITS + 1; each folder listed at most MAX_DIR_ENTRIES entries."""
    import fnmatch

    found = [base]
    parts = [x for x in pattern.split("/") if x not in ("", ".")]
    for i, want in enumerate(parts):
        last = i == len(parts) - 1
        nxt: list[Path] = []
        for folder in found:
            if "*" not in want:
                candidate = folder / want
                if candidate.is_file() if last else candidate.is_dir() and not candidate.is_symlink():
                    nxt.append(candidate)
                continue
            try:
                with os.scandir(folder) as it:
                    for n, e in enumerate(it):
                        if n >= MAX_DIR_ENTRIES or len(nxt) > MAX_PATTERN_HITS:
                            break
                        if fnmatch.fnmatchcase(e.name, want) and e.is_dir(follow_symlinks=False):
                            nxt.append(Path(e.path))
            except OSError:
                continue
        found = nxt[: MAX_PATTERN_HITS + 1]
        if not found:
            return []
    return found


def folder_pattern_names(word: str, config: Path, launcher_dir: Path, root: Path, cwd: str = "") -> bool:
    """True when a config word whose folders hold a part goblin did not read (`recipes/zephyr-${config['B_PARAMS']}b-gemma/
    gpo/config_full.yaml`, review13b #29 DiscoPOP scripts/launch_evo.py:226) matches the config as a pattern from the
    nearest folder the line may be written from that holds a match, and the config is the one file it matches there
    (more than one: which is run is not known, and nothing is read)."""
    pattern = hole_pattern(word)
    if not pattern or os.path.isabs(pattern):
        return False
    for base in _bases(launcher_dir, root, cwd):
        hits = _pattern_files(pattern, base)
        if hits:
            return len(hits) == 1 and os.path.realpath(hits[0]) == str(config)
    return False


def pattern_note(line: Line, config: Path, launcher_dir: Path, root: Path) -> str:
    """How a launch line was read as naming the config through a variable pattern; "" when it names it otherwise."""
    for tok in line.tokens:
        word = tok.split("=", 1)[1] if tok.startswith("-") and "=" in tok else tok
        if word_path(word) != word and "$" not in word_path(word):
            continue  # `$(cat config/x.json)`: the file named as written, no variable (launcher_text.word_path)
        if "$" in word and not word.endswith("/" + config.name) and variable_names(word, config, launcher_dir, root, line.cwd):
            return (
                f"`{word_path(word)}` is built from a variable the file leaves unset: read as the pattern `{var_pattern(word_path(word))}`, "
                f"which {config.name} is the one file of its folder to match"
            )
        if "$" in word and word.endswith("/" + config.name) and folder_pattern_names(word, config, launcher_dir, root, line.cwd):
            return (
                f"`{word_path(word)}` holds a part goblin did not read: read as the pattern `{hole_pattern(word)}`, which "
                f"{config.relative_to(root) if config.is_relative_to(root) else config.name} is the one file it matches (assumed)"
            )
    return ""


def glob_match(name: str, pattern: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(name, pattern)


def _glob_names(word: str, config: Path, launcher_dir: Path, root: Path, cwd: str) -> bool:
    """True when a glob word (`configs/*.yaml` of a `for` loop) matches the config from a folder the
    launch line may be written from (`_bases`), part by part as the shell expands it."""
    import fnmatch

    want = [x for x in Path(word).parts if x not in (".", "")]
    if not want or not fnmatch.fnmatchcase(config.name, want[-1]):
        return False
    for base in _bases(launcher_dir, root, cwd):
        if not config.is_relative_to(base):
            continue
        have = config.relative_to(base).parts
        if len(have) == len(want) and all(fnmatch.fnmatchcase(h, w) for h, w in zip(have, want, strict=True)):
            return True
    return False


TRAINING_WORD = re.compile(r"(^|[._/-])(train|finetune|fine_tune|sft|dpo|grpo|orpo|kto|ppo|pretrain)([._/-]|$)")
NOT_TRAINING_WORD = re.compile(r"(merge|preprocess|infer|eval|serve|export|convert)")


# ------------------------------------------------------------------ a script run from another checkout
# review5 #30 WizardLM: WizardCoder/README.md:129-137 says to copy src/train_wizardcoder.py into a Llama-X checkout
# and run `deepspeed train_wizardcoder.py ...` there: no folder of this repository holds a file at that path.
INTERPRETER = re.compile(r"python(3(\.\d+)?)?")


def elsewhere_possible(script: Path, root: Path) -> bool:
    """A Python training script (its name says it trains, not evaluates or merges) that is the one file of its name
    in the repository (the whole tree listed): a launch line naming that bare name can only mean this file."""
    return (
        script.suffix == ".py"
        and TRAINING_WORD.search(script.stem.lower()) is not None
        and NOT_TRAINING_WORD.search(script.stem.lower()) is None
        and unique_name(root, script.name)
    )


def runs_elsewhere(line: Line, i: int, script: Path, folder: Path, root: Path) -> bool:
    """True when word `i` of a launch line is the script's bare name (`train_x.py`, `./train_x.py`) run as the program's
    script (after `python`, `torchrun`, `accelerate launch` or `deepspeed` and their flags, no `$`), and no folder the
    line may be run from (`_bases`) holds a file of that name: the line runs a copy in another checkout."""
    tok = line.tokens[i]
    if tok.startswith("-") or "$" in tok:
        return False
    if not (tok.removeprefix("./") == script.name or other_machine(tok, script, root, line.tokens)):
        return False
    before = line.tokens[:i]
    launcher = launcher_kind(line.tokens) in ("torchrun", "accelerate", "deepspeed") or any(INTERPRETER.fullmatch(Path(t).name) for t in before)
    if not launcher or any(t.endswith(".py") for t in before):
        return False  # prose, or another script is the program (`python launch.py train_x.py`)
    if os.path.isabs(tok):
        return True
    found, _ = resolve_relative(tok, folder, root, line.cwd)
    return found is None


def other_machine(tok: str, script: Path, root: Path, words: tuple[str, ...] = ()) -> bool:
    """An absolute path of the machine the line ran on that ends in the script's name and is no path of this tree
    (review12b #23 eminorhan/frontier-guide train.sh:56,67 `accelerate launch ... /lustre/orion/.../frontier-guide/train.py`
    for the repository's root train.py): a copy in a checkout elsewhere (`runs_elsewhere` then asks that the script be the
    repository's one training-named file of that name). Not where another word of the line puts the author's checkout
    somewhere the path is not under (`checkout_roots`: `--deepspeed /home/me/proj/ds.json` beside `/opt/elsewhere/train.py`)."""
    if not os.path.isabs(tok) or Path(tok).name != script.name:
        return False
    written = Path(os.path.normpath(tok))
    if written.is_relative_to(root):
        return False
    roots = checkout_roots(tok, root, words)
    return not roots or any(written.parts[: len(prefix)] == prefix for prefix, _base in roots)


def elsewhere_note(where: str, tok: str, script: Path, root: Path) -> str:
    shown = os.path.relpath(script, root) if script.is_relative_to(root) else str(script)
    how = "a path on another machine" if os.path.isabs(tok) else "no folder the line may run from holds a file of that name"
    return f"{where} runs `{tok}` from another checkout ({how}): {shown}, the repository's one file of that name, is read as the copy it runs"


REGISTRY_BYTES = 1_000_000  # a torchtune registry or a Hydra script: far smaller; a larger file is not one

_REGISTRY_CONFIG = re.compile(r"""Config\(\s*name\s*=\s*["']([\w./-]{1,128})["']\s*,\s*file_path\s*=\s*["']([\w./-]{1,256})["']""")


def tune_registry_name(config: Path, root: Path) -> str:
    """The name a repository that is torchtune itself (a vendored or forked copy: its own `torchtune/_recipe_registry.py`)
    gives this config, when the config is that copy's `recipes/configs/<file_path>`: `tune run R --config NAME` runs it
    (torchtune/_cli/run.py:23 ROOT, :144-166 a config name looked up in the registry, :196 recipes/configs/<file_path>
    @v0.6.1). "" otherwise (a stock name elsewhere is the installed torchtune's own file, not the repository's)."""
    configs = root / "recipes" / "configs"
    registry = root / "torchtune" / "_recipe_registry.py"
    if not config.is_relative_to(configs) or not registry.is_file():
        return ""
    text = text_or_empty(registry, roots=[root], limit=REGISTRY_BYTES)
    rel = config.relative_to(configs).as_posix()
    names = {m.group(1) for m in _REGISTRY_CONFIG.finditer(text) if m.group(2) == rel}
    return names.pop() if len(names) == 1 else ""


_REGISTRY_RECIPE = re.compile(r"""\bRecipe\(\s*name\s*=\s*["']([\w.-]{1,128})["']\s*,\s*file_path\s*=\s*["']([\w./-]{1,256})["']""")


def tune_registry_recipe(name: str, root: Path) -> Path | None:
    """The recipe file `tune run NAME` runs in a repository that is torchtune itself (its own
    `torchtune/_recipe_registry.py` registers `Recipe(name=NAME, file_path=F)`): `recipes/F` (torchtune/_cli/run.py:23 ROOT,
    :182-187 `ROOT / "recipes" / recipe.file_path` @v0.6.1). None when the repository registers no such recipe, or
    its file is not there."""
    registry = root / "torchtune" / "_recipe_registry.py"
    if not name or not registry.is_file():
        return None
    text = text_or_empty(registry, roots=[root], limit=REGISTRY_BYTES)
    files = {m.group(2) for m in _REGISTRY_RECIPE.finditer(text) if m.group(1) == name}
    if len(files) != 1:
        return None
    rel = files.pop()
    if ".." in Path(rel).parts or Path(rel).is_absolute():
        return None
    path = root / "recipes" / rel
    return path if path.is_file() else None


def tune_registry_config_recipe(config: Path, root: Path) -> Path | None:
    """The recipe file under which a repository that is torchtune itself registers this config (its
    `torchtune/_recipe_registry.py` lists `Config(name=..., file_path=<the config's recipes/configs path>)` in the
    `configs=[...]` of `Recipe(name=R, file_path=F)`: `recipes/F`; torchtune/_recipe_registry.py Recipe.configs,
    torchtune/_cli/run.py:144-166 @v0.6.1), review13a #8 torchtune_personify _recipe_registry.py:26-57. None when it is
    not registered, or under no single recipe whose file is there."""
    configs = root / "recipes" / "configs"
    registry = root / "torchtune" / "_recipe_registry.py"
    if not config.is_relative_to(configs) or not registry.is_file():
        return None
    text = text_or_empty(registry, roots=[root], limit=REGISTRY_BYTES)
    rel = config.relative_to(configs).as_posix()
    recipes = [(m.start(), m.group(2)) for m in _REGISTRY_RECIPE.finditer(text)]
    files = set()
    for m in _REGISTRY_CONFIG.finditer(text):
        if m.group(2) != rel:
            continue
        before = [f for at, f in recipes if at < m.start()]
        if before:
            files.add(before[-1])
    if len(files) != 1:
        return None
    file = files.pop()
    if ".." in Path(file).parts or Path(file).is_absolute():
        return None
    path = root / "recipes" / file
    return path if path.is_file() else None


def names_registry_config(tokens: tuple[str, ...], name: str) -> bool:
    """A `tune run ... --config NAME` line whose NAME is `name` (tune_registry_name)."""
    if not name or "tune" not in tokens[:8]:
        return False
    for i, tok in enumerate(tokens):
        if tok == f"--config={name}" or (tok == "--config" and i + 1 < len(tokens) and tokens[i + 1] == name):
            return True
    return False


_HYDRA_OVERRIDE = re.compile(r"^\+{0,2}([A-Za-z_][\w-]{0,63}(?:/[A-Za-z_][\w-]{0,63}){0,4})=([\w.-]{1,128})$")  # `+countdown=grpo-x`
_HYDRA_MAIN = re.compile(r"@hydra\.main\(([^)]{0,512})\)")
_CONFIG_PATH = re.compile(r"""config_path\s*=\s*["']([^"'\n]{1,256})["']""")


def hydra_override(tokens: tuple[str, ...], config: Path, script: str, root: Path) -> str:
    """The override word (`+countdown=grpo-qwen-2.5-3b-base`) of a line that runs a Hydra script (`@hydra.main(config_path=
    "../../recipes", ...)`) and selects this config as option NAME of group GROUP: `<config_path>/<GROUP>/<NAME>.yaml`,
    config_path taken from the script's own folder (Hydra appends `.yaml` to a group option's name: hydra/plugins/
    config_source.py ConfigSource._normalize_file_name@02a8306). "" for any other line (8b #26 TinyZero-TRL scripts/countdown.sh:9)."""
    words = [(t, m) for t in tokens if (m := _HYDRA_OVERRIDE.match(t)) and m.group(2) in (config.stem, config.name)]
    if not words or not script or not script.endswith(".py"):
        return ""
    path = Path(script)
    if not path.is_file() or not path.resolve().is_relative_to(root):
        return ""
    text = text_or_empty(path, roots=[root], limit=REGISTRY_BYTES)
    main = _HYDRA_MAIN.search(text)
    where = _CONFIG_PATH.search(main.group(1)) if main else None
    if where is None:
        return ""
    base = (path.parent / where.group(1)).resolve()
    for tok, m in words:
        name = m.group(2) if m.group(2).endswith((".yaml", ".yml")) else m.group(2) + ".yaml"
        if (base / m.group(1) / name).resolve() == config:
            return tok
    return ""
