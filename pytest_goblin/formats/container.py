"""The container and cluster resource the launcher found for a config runs it in (review 8a #4), read as text, never
built, pulled or applied: the GPU resource a Kubernetes manifest's training container asks for and the image it runs,
the image a `docker run` line of the launcher starts, and the base image (the last `FROM` stage) of the Dockerfile a
`docker build` line of the launcher builds. blockers.py judges them (`blocker.cuda_gpu_resource`,
`blocker.cuda_container_image`); only the launcher the topology was read from counts, never a Dockerfile nothing links
to the config.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..safepath import UnsafePath, read_text, repository_root, tree_of
from ..schemas import WorkloadConfig
from ..yamlio import key_line
from .cloud import read_cloud

# Images whose PyTorch is a CUDA build (or that hold CUDA and no ROCm): NVIDIA's CUDA base images, NVIDIA's NGC
# PyTorch/CUDA containers, and PyTorch's own images with a `-cuda` tag (pytorch/pytorch docker.Makefile: BASE_DEVEL =
# nvidia/cuda:...). An optional registry prefix (docker.io/, ghcr.io/) is allowed; an image naming rocm never matches.
_CUDA_IMAGE = re.compile(
    r"^(?:(?:docker\.io|index\.docker\.io)/)?(?:nvcr\.io/nvidia/(?:pytorch|cuda)[:@]|nvidia/cuda[:@]|(?:ghcr\.io/)?pytorch/pytorch:[\w.-]{0,128}cuda)",
    re.IGNORECASE,
)
_FROM = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$", re.IGNORECASE)
_DOCKER = re.compile(r"(?:^|[\s;&|(])(?:sudo\s+)?docker\s+(?:buildx\s+)?(build|run)\s")
DOCKERFILE_BYTES = 256_000


@dataclass(frozen=True)
class Seen:
    """One CUDA-only thing on the config's launch path: its file (shown relative to the repository), line, and text."""

    file: str
    line: int
    text: str
    how: str  # "resource", "image", "dockerfile"


def cuda_image(image: str) -> bool:
    """True for an image whose PyTorch is a CUDA build: `nvcr.io/nvidia/pytorch:24.01-py3`, `nvidia/cuda:12.1.0-devel`,
    `pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime`; never one that names rocm."""
    return "rocm" not in image.lower() and _CUDA_IMAGE.match(image.strip().strip("'\"")) is not None


def _shown(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name


_ARG = re.compile(r"^\s*ARG\s+(\w+)=(\S+)\s*$", re.IGNORECASE)
_VAR = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def _substituted(word: str, given: dict[str, str]) -> str:
    """`${NAME}` / `$NAME` in a FROM word replaced by its ARG value; a name without one is kept."""
    return _VAR.sub(lambda v: given.get(v.group(1) or v.group(2), v.group(0)), word)


def base_image(dockerfile: Path, build_args: dict[str, str] | None = None) -> tuple[int, str] | None:
    """(line, image) of the stage a Dockerfile's image runs: its last FROM, an earlier stage's name followed to that
    stage's FROM, `${NAME}` from an `ARG NAME=default` before it (a `--build-arg NAME=value` of the build line over it);
    None when unreadable or without a FROM."""
    try:
        text = read_text(dockerfile, roots=tree_of(dockerfile), limit=DOCKERFILE_BYTES)
    except (UnsafePath, OSError):
        return None
    args: dict[str, str] = {}
    stages: dict[str, tuple[int, str]] = {}
    last: tuple[int, str] | None = None
    for n, row in enumerate(text.splitlines(), 1):
        a = _ARG.match(row)
        if a is not None and last is None:
            args[a.group(1)] = a.group(2).strip("'\"")
        m = _FROM.match(row)
        if m is None:
            continue
        image = _substituted(m.group(1), {**args, **(build_args or {})})
        last = stages.get(image.lower(), (n, image))
        if m.group(2):
            stages[m.group(2).lower()] = last
    return last


# ------------------------------------------------------------------ the command a Dockerfile's image runs
# Dockerfile reference (docs.docker.com/reference/dockerfile/, kept as moby/buildkit
# frontend/dockerfile/docs/reference.md@00001f3e74, "Understand how CMD and ENTRYPOINT interact"): an exec-form
# ENTRYPOINT runs with the CMD's words after it (a shell-form CMD as `/bin/sh -c CMD`); a shell-form ENTRYPOINT runs as
# `/bin/sh -c ENTRYPOINT` and ignores CMD; without ENTRYPOINT the CMD runs (shell form under `/bin/sh -c`); "if CMD is
# defined from the base image, setting ENTRYPOINT will reset CMD to an empty value"; only the last CMD / ENTRYPOINT of
# the image's stage counts. A line starting with `#` is a comment; a `\` at a line's end continues the instruction.
_INSTRUCTION = re.compile(r"^\s*(FROM|CMD|ENTRYPOINT|ENV)\s+(\S.*)$", re.IGNORECASE)
_DOCKERFILE_NAME = re.compile(r"(?i)^(?:dockerfile(?:[._-][\w.-]{1,64})?|[\w.-]{1,64}\.dockerfile)$")


_NOT_DOCKERFILE = frozenset(
    {
        ".py",
        ".md",
        ".markdown",
        ".txt",
        ".yaml",
        ".yml",
        ".json",
        ".sh",
        ".bash",
        ".ipynb",
        ".toml",
        ".j2",
        ".jinja",
        ".template",
        ".tmpl",
        ".in",
        ".bak",
        ".orig",
    }
)


def is_dockerfile(name: str) -> bool:
    """`Dockerfile`, `Dockerfile.train`, `train.Dockerfile`; not `Dockerfile.template` or a script named after one."""
    return _DOCKERFILE_NAME.match(name) is not None and Path(name).suffix.lower() not in _NOT_DOCKERFILE


@dataclass(frozen=True)
class Command:
    """The command a Dockerfile's image or a compose service runs: where it is written (the ENTRYPOINT's line where it
    runs one, else the CMD's), its shell text, and the environment its `ENV` lines give it."""

    line: int
    text: str
    env: tuple[tuple[str, str], ...] = ()


@dataclass
class _Stage:
    entry: tuple[int, list[str] | str] | None = None  # (line, exec words or shell text)
    cmd: tuple[int, list[str] | str] | None = None
    env: dict[str, str] | None = None
    entry_here: bool = False
    cmd_here: bool = False


def _instructions(text: str) -> list[tuple[int, str, str]]:
    """(first line, keyword, argument) of each FROM/CMD/ENTRYPOINT/ENV instruction, continuations joined, comments left out."""
    out: list[tuple[int, str, str]] = []
    start, parts = 0, list[str]()
    for n, row in enumerate(text.splitlines(), 1):
        if row.lstrip().startswith("#"):
            continue  # a comment, also between continued lines
        if not parts:
            start = n
        if row.rstrip().endswith("\\"):
            parts.append(row.rstrip()[:-1])
            continue
        parts.append(row)
        m = _INSTRUCTION.match(" ".join(p.strip() for p in parts)[:16_384])
        parts = []
        if m is not None:
            out.append((start, m.group(1).upper(), m.group(2).strip()))
    return out


def _form(argument: str) -> list[str] | str:
    """An instruction's exec form (a JSON array of strings), else its shell form."""
    if argument.startswith("["):
        try:
            words = json.loads(argument)
        except ValueError:
            return argument
        if isinstance(words, list) and all(isinstance(w, str) for w in words):
            return words
    return argument


def _env_pairs(argument: str) -> dict[str, str]:
    """`ENV A=1 B="x y"`, or the legacy `ENV A 1`."""
    words = _words(argument) or []
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])} if len(words) > 1 else {}
    return {k: v for k, _, v in (w.partition("=") for w in words) if k}


def _last_stage(text: str) -> _Stage | None:
    """The ENTRYPOINT, CMD and ENV of the stage the image is built from (the last FROM); a stage built on an earlier one
    holds what it set; one built on an image from elsewhere has none (that image's are not known)."""
    named: dict[str, _Stage] = {}
    stage: _Stage | None = None
    for n, key, argument in _instructions(text):
        if key == "FROM":
            m = _FROM.match(f"FROM {argument}")
            if m is None:
                stage = _Stage(env={})
                continue
            parent = named.get(m.group(1).lower())
            stage = _Stage(parent.entry, parent.cmd, dict(parent.env or {})) if parent is not None else _Stage(env={})
            if m.group(2):
                named[m.group(2).lower()] = stage
            continue
        if stage is None:
            continue
        if key == "ENV":
            given = stage.env if stage.env is not None else {}
            stage.env = {**given, **{k: _substituted(v, given) for k, v in _env_pairs(argument).items()}}
        elif key == "CMD":
            stage.cmd, stage.cmd_here = (n, _form(argument)), True
        else:
            stage.entry, stage.entry_here = (n, _form(argument)), True
    if stage is not None and stage.entry_here and not stage.cmd_here:
        stage.cmd = None  # ENTRYPOINT set here resets a CMD from the base stage
    return stage


def _as_words(form: list[str] | str) -> list[str]:
    return form if isinstance(form, list) else ["/bin/sh", "-c", form]


def _shell(words: list[str]) -> str:
    """Shell text for exec-form words; `/bin/sh -c TEXT` alone is TEXT (read as a script line)."""
    if len(words) == 3 and Path(words[0]).name in ("sh", "bash") and words[1] == "-c":
        return words[2]
    return shlex.join(words)


def dockerfile_command(text: str) -> Command | None:
    """The command the image a Dockerfile builds runs when started with no command of its own; None without one. An
    exec-form command's `$NAME` is passed as written (Dockerfile reference, "Shell and exec form", Variable substitution:
    the exec form does not invoke a command shell, so no variable substitution happens): its ENV value is not put in it."""
    stage = _last_stage(text)
    if stage is None:
        return None
    if stage.entry is not None:
        line, entry = stage.entry
        words = _as_words(entry) if isinstance(entry, str) or stage.cmd is None else [*entry, *_as_words(stage.cmd[1])]
    elif stage.cmd is not None:
        line, words = stage.cmd[0], _as_words(stage.cmd[1])
    else:
        return None
    shell = _shell(words)
    literal = set() if len(words) == 3 and shell == words[2] else {m.group(1) or m.group(2) for w in words for m in _VAR.finditer(w)}
    return Command(line, shell, tuple(sorted((k, v) for k, v in (stage.env or {}).items() if k not in literal)))


def dockerfile_entrypoint(text: str) -> list[str] | None:
    """The exec-form ENTRYPOINT of a Dockerfile's image (a compose `command:` runs after it), else None."""
    stage = _last_stage(text)
    return stage.entry[1] if stage is not None and stage.entry is not None and isinstance(stage.entry[1], list) else None


_VALUED = frozenset({"-t", "--tag", "--build-arg", "--target", "--platform", "--label", "--network", "--progress", "--cache-from", "--secret", "--ssh"})
# `docker compose run` options that take a value (Docker Compose CLI reference, docker compose run)
_COMPOSE_VALUED = frozenset({"-e", "--env", "-w", "--workdir", "-u", "--user", "-v", "--volume", "-p", "--publish", "--name", "--entrypoint", "-l", "--label"})
_COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


def _words(text: str) -> list[str] | None:
    try:
        return shlex.split(text, comments=True)
    except ValueError:
        return None


def _tagged(tag: str) -> str:
    """An image reference with its tag (`trainer` is `trainer:latest`); a registry port is not a tag."""
    return tag if ":" in tag.rpartition("/")[2] or "@" in tag else f"{tag}:latest"


def _build_args(words: list[str]) -> dict[str, str]:
    """The `--build-arg NAME=value` words of a `docker build` line."""
    pairs = [words[i + 1] for i, w in enumerate(words[:-1]) if w == "--build-arg"] + [w.partition("=")[2] for w in words if w.startswith("--build-arg=")]
    return {k: v for k, _, v in (p.partition("=") for p in pairs) if v}


def _built_dockerfile(words: list[str], base: Path) -> tuple[Path | None, list[str]]:
    """(the Dockerfile a `docker build` line builds, the tags it gives the image): `-f X` / `--file X` (relative to the
    launcher's folder), else Dockerfile in the context folder (the one positional word)."""
    file: str | None = None
    context: str | None = None
    tags: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w in ("-f", "--file", "-t", "--tag") and i + 1 < len(words):
            if w in ("-f", "--file"):
                file = words[i + 1]
            else:
                tags.append(_tagged(words[i + 1]))
            i += 2
            continue
        if w.startswith(("--file=", "--tag=")):
            if w.startswith("--file="):
                file = w.partition("=")[2]
            else:
                tags.append(_tagged(w.partition("=")[2]))
        elif w in _VALUED:
            i += 1
        elif not w.startswith("-") and context is None:
            context = w
        i += 1
    if (file is None and context is None) or "$" in (file or "") or "$" in (context or ""):
        return None, tags
    target = base / (context or ".") / "Dockerfile" if file is None else base / file
    return (target if target.is_file() else None), tags


def _compose_run(line: str) -> tuple[list[str], list[str]] | None:
    """(the global words, the words after `run`) of a `docker compose ... run ...` / `docker-compose ... run ...` line."""
    words = _words(line) if "compose" in line else None
    if words is None:
        return None
    for i, w in enumerate(words):
        start = i + 1 if w == "docker-compose" else i + 2 if w == "docker" and words[i + 1 : i + 2] == ["compose"] else None
        if start is not None:
            if "run" not in words[start:]:
                return None
            r = words.index("run", start)
            return words[start:r], words[r + 1 :]
    return None


def _compose_service(before: list[str], words: list[str], base: Path) -> tuple[Path, dict[Any, Any]] | None:
    """(compose file, service) a `docker compose [-f X] run SERVICE ...` line runs; None where not read."""
    from ..errors import ConfigError
    from ..yamlio import load_yaml

    named = [before[i + 1] for i, w in enumerate(before[:-1]) if w in ("-f", "--file")]
    service = None
    i = 0
    while i < len(words):
        w = words[i]
        if w in _COMPOSE_VALUED:
            i += 2
            continue
        if not w.startswith("-"):
            service = w
            break
        i += 1
    if service is None or len(named) > 1 or any("$" in n for n in named):
        return None
    candidates = [base / named[0]] if named else [base / n for n in _COMPOSE_FILES]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        return None
    try:
        data = load_yaml(found, read_text(found, roots=tree_of(found), limit=DOCKERFILE_BYTES))
    except (UnsafePath, OSError, ConfigError):
        return None
    services = data.get("services") if isinstance(data, dict) else None
    got = services.get(service) if isinstance(services, dict) else None
    return (found, got) if isinstance(got, dict) else None


# Compose file reference (docs.docker.com/reference/compose-file/services/, `command` and `entrypoint`): `command`
# overrides the image's CMD and is not run in a shell (a string is split into words); `entrypoint` overrides its
# ENTRYPOINT, and, as `docker run --entrypoint` does, clears the image's CMD; either may be a list or a string.
_COMPOSE_NAME = re.compile(r"(?i)^(?:docker-)?compose(?:[._-][\w-]{1,64})?\.ya?ml$")


def is_compose(name: str) -> bool:
    """`compose.yaml`, `docker-compose.yml`, `docker-compose.train.yml`."""
    return _COMPOSE_NAME.match(name) is not None


def _compose_words(value: Any) -> list[str] | None:
    if isinstance(value, list) and value and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    return (_words(value) or None) if isinstance(value, str) else None


def compose_services(path: Path, text: str) -> list[tuple[str, dict[Any, Any], Command]]:
    """(service name, service, the command it runs) of each service of a compose file that states a `command` or an
    `entrypoint`; a command without an entrypoint runs after the exec-form ENTRYPOINT of the Dockerfile its `build:`
    names, where that file is read."""
    from ..errors import ConfigError
    from ..yamlio import load_yaml

    try:
        data = load_yaml(path, text)
    except ConfigError:
        return []
    services = data.get("services") if isinstance(data, dict) else None
    out: list[tuple[str, dict[Any, Any], Command]] = []
    for name, service in services.items() if isinstance(services, dict) else ():
        if not isinstance(service, dict):
            continue
        entry, command = _compose_words(service.get("entrypoint")), _compose_words(service.get("command"))
        if entry is None and command is None:
            continue
        line = key_line(service, "entrypoint" if entry is not None else "command") or 0
        if entry is None and command is not None:
            built = _built_by(service, path)
            entry = dockerfile_entrypoint(built) if built is not None else None
        words = [*(entry or []), *(command or [])]
        env = service.get("environment")
        pairs = env.items() if isinstance(env, dict) else (str(e).partition("=")[::2] for e in env) if isinstance(env, list) else ()
        given = tuple((str(k), str(v)) for k, v in pairs if v is not None and str(k).isidentifier())
        out.append((str(name), service, Command(line, _shell(words), given)))
    return out


def _built_by(service: dict[Any, Any], compose: Path) -> str | None:
    """The text of the Dockerfile a compose service's `build:` names (context, then `dockerfile`), None where not read."""
    build = service.get("build")
    if not isinstance(build, (str, dict)):
        return None
    context = build if isinstance(build, str) else str(build.get("context", "."))
    name = "Dockerfile" if isinstance(build, str) else str(build.get("dockerfile", "Dockerfile"))
    target = compose.parent / context / name
    if "$" in context + name or not target.is_file():
        return None
    try:
        return read_text(target, roots=tree_of(target), limit=DOCKERFILE_BYTES)
    except (UnsafePath, OSError):
        return None


def _launch_lines(w: WorkloadConfig) -> dict[str, set[int]]:
    """The repository launchers the topology was read from (launchers.topology_launcher_line's files), each with the
    lines where the launch that runs this config starts."""
    out: dict[str, set[int]] = {}
    for k in ("world_size", "nodes", "gpus_per_node"):
        s = w.sources.get(k)
        if s is not None and s.file and s.file != w.path:
            out.setdefault(s.file, set())
            if s.line:
                out[s.file].add(s.line)
    return out


def _logical(rows: list[str], start: int) -> str:
    """The command that starts at 1-based line `start`, its backslash continuations joined (bounded)."""
    parts: list[str] = []
    for row in rows[start - 1 : start + 199]:
        if row.rstrip().endswith("\\"):
            parts.append(row.rstrip()[:-1])
            continue
        parts.append(row)
        break
    return " ".join(p.strip() for p in parts)


def _container_of(line: str, text: str, path: Path, root: Path) -> list[Seen]:
    """The CUDA image a launch line starts with `docker run` (or the CUDA base of the Dockerfile a `docker build` line of
    the same launcher builds under the tag it runs), or through `docker compose run SERVICE` (its image, or its build's
    Dockerfile)."""
    out: list[Seen] = []
    shown = _shown(path, root)
    compose = _compose_run(line)
    if compose is not None:
        got = _compose_service(compose[0], compose[1], path.parent)
        if got is None:
            return out
        file, service = got
        image = service.get("image")
        build = service.get("build")
        if isinstance(build, (str, dict)):
            context = build if isinstance(build, str) else str(build.get("context", "."))
            name = "Dockerfile" if isinstance(build, str) else str(build.get("dockerfile", "Dockerfile"))
            built_file = file.parent / context / name
            base = base_image(built_file) if "$" not in context + name and built_file.is_file() else None
            if base is not None and cuda_image(base[1]):
                out.append(Seen(_shown(built_file, root), base[0], f"FROM {base[1]}", f"dockerfile ({shown} runs it through {_shown(file, root)})"))
        elif isinstance(image, str) and cuda_image(image):
            out.append(Seen(_shown(file, root), key_line(service, "image") or 0, f"image: {image}", "image"))
        return out
    run = _DOCKER.search(line)
    if run is None or run.group(1) != "run":
        return out
    words = _words(line[run.end() :]) or []
    image = next((x for x in words if cuda_image(x)), None)
    if image is not None:
        return [Seen(shown, _line_of(text, image), f"docker run ... {image}", "image")]
    ran = {_tagged(x) for x in words if not x.startswith("-")}
    for n, row in enumerate(text.splitlines(), 1):
        built = _DOCKER.search(row)
        if built is None or built.group(1) != "build":
            continue
        words = _words(row[built.end() :]) or []
        dockerfile, tags = _built_dockerfile(words, path.parent)
        if dockerfile is None or not ran.intersection(tags):
            continue
        base = base_image(dockerfile, _build_args(words))
        if base is not None and cuda_image(base[1]):
            out.append(Seen(_shown(dockerfile, root), base[0], f"FROM {base[1]}", f"dockerfile ({shown}:{n} builds it and the launch line runs it)"))
    return out


def _service_image(name: str, service: dict[Any, Any], compose: Path, root: Path) -> list[Seen]:
    """The CUDA image a compose service runs, or the CUDA base of the Dockerfile its `build:` builds (which Compose uses
    over `image:`, the name it tags the build with)."""
    build = service.get("build")
    if isinstance(build, (str, dict)):
        context = build if isinstance(build, str) else str(build.get("context", "."))
        file = compose.parent / context / ("Dockerfile" if isinstance(build, str) else str(build.get("dockerfile", "Dockerfile")))
        base = base_image(file) if "$" not in str(file) and file.is_file() else None
        if base is not None and cuda_image(base[1]):
            return [Seen(_shown(file, root), base[0], f"FROM {base[1]}", f"dockerfile ({_shown(compose, root)} service {name} builds it)")]
        return []
    image = service.get("image")
    if isinstance(image, str) and cuda_image(image):
        return [Seen(_shown(compose, root), key_line(service, "image") or 0, f"image: {image}", "image")]
    return []


def _line_of(text: str, word: str) -> int:
    return next((n for n, row in enumerate(text.splitlines(), 1) if word in row), 0)


def _launch_texts(w: WorkloadConfig) -> Iterator[tuple[Path, str, Path, set[int]]]:
    """Each file goblin read this config's launch from, readable inside its tree: (path, text, its repository root, the
    lines the launch was read at)."""
    for file, lines in sorted(_launch_lines(w).items()):
        path = Path(file)
        try:
            text = read_text(path, roots=tree_of(Path(w.path)), limit=256_000)
        except (UnsafePath, OSError):
            continue
        yield path, text, repository_root(path.parent) or path.parent, lines


def cuda_launch_path(w: WorkloadConfig) -> list[Seen]:
    """The CUDA-only container or GPU resource on the launch path goblin found for this config."""
    out: list[Seen] = []
    for path, text, root, lines in _launch_texts(w):
        if is_dockerfile(path.name):  # its CMD/ENTRYPOINT runs the config: the base image of its last stage
            base = base_image(path)
            if base is not None and cuda_image(base[1]):
                out.append(Seen(_shown(path, root), base[0], f"FROM {base[1]}", f"dockerfile (its line {min(lines, default=0)} runs the config)"))
            continue
        if is_compose(path.name):  # the service whose command runs the config: its image, or its build's Dockerfile
            for name, service, command in compose_services(path, text):
                if command.line in lines:
                    out += [s for s in _service_image(name, service, path, root) if s not in out]
            continue
        cloud = read_cloud(path, text)
        if cloud is not None:
            if cloud.gpu_resource is not None and cloud.gpu_resource[0].startswith("nvidia.com/") and cloud.gpus is not None:
                out.append(Seen(_shown(path, root), cloud.gpu_resource[1], f"{cloud.gpu_resource[0]}: {cloud.gpus[0]}", "resource"))
            if cloud.image is not None and cuda_image(cloud.image[0]):
                out.append(Seen(_shown(path, root), cloud.image[1], f"image: {cloud.image[0]}", "image"))
            continue
        rows = text.splitlines()
        for start in sorted(lines):
            out += [s for s in _container_of(_logical(rows, start), text, path, root) if s not in out]
    return out


# ------------------------------------------------------------------ CUDA images the repository builds or names (review11a #1, #4, #8)
def _off_topic(shown: str) -> bool:
    """A file named for inference, evaluation or serving (`Dockerfile.serve`, `vllm/inference.Dockerfile`)."""
    from ..frameworks.pins import _OFF_TOPIC, _TRAINING

    words = re.sub(r"[/_.-]", " ", shown)
    return _OFF_TOPIC.search(words) is not None and _TRAINING.search(words) is None


def _ancestor_dockerfiles(config: Path, root: Path) -> list[Path]:
    """The Dockerfiles of the config's folder and each folder above it up to the repository root (and their docker/
    sub-folders): the ones frameworks/pins.py reads the framework's pip lines from."""
    from ..frameworks.variants import other_variants

    out: list[Path] = []
    folder = config.parent
    for _ in range(16):
        for place in (folder, folder / "docker"):
            if place.is_dir() and not place.is_symlink():
                try:
                    names = sorted(p.name for p in place.iterdir())[:400]
                except OSError:
                    names = []
                names = [n for n in names if n not in other_variants(names)]  # a ROCm variant beside (frameworks/variants.py)
                out += [place / n for n in names if is_dockerfile(n) and (place / n).is_file() and not (place / n).is_symlink()]
        if folder == root or not folder.is_relative_to(root) or folder.parent == folder:
            break
        folder = folder.parent
    return out


def _launch_runs_container(w: WorkloadConfig) -> bool:
    """Whether a launch line that runs the config starts a container (`docker run`, `docker compose run`), or the launcher
    is a Dockerfile, compose file or cluster manifest: its own image is the one the config runs in."""
    for file, lines in _launch_lines(w).items():
        path = Path(file)
        if is_dockerfile(path.name) or is_compose(path.name):
            return True
        try:
            text = read_text(path, roots=tree_of(Path(w.path)), limit=256_000)
        except (UnsafePath, OSError):
            continue
        if read_cloud(path, text) is not None:
            return True
        rows = text.splitlines()
        if any((_DOCKER.search(_logical(rows, n)) or _compose_run(_logical(rows, n))) for n in lines if 0 < n <= len(rows)):
            return True
    return False


def repository_cuda_images(w: WorkloadConfig, text: str) -> list[Seen]:
    """The CUDA-only images of the repository a config may run in (not the launch path's: `cuda_launch_path`): the
    framework image its release was read from (frameworks/image_pins.py: every Axolotl image is built on nvidia/cuda,
    AXOLOTL_CUDA_AT), and the CUDA base image (cuda_image) of a Dockerfile in its folder or one above it."""
    from ..frameworks.image_pins import IMAGE_DISTS, images_in
    from ..frameworks.pins import pins

    config = w.path
    path = Path(config)
    root = repository_root(path.parent) or path.parent
    out: list[Seen] = []
    pinned = pins(config, text)
    for dist in IMAGE_DISTS:
        pin = pinned.get(dist)
        if pin is None or not pin.file or "image " not in pin.spec:
            continue
        try:
            body = read_text(Path(pin.file), roots=tree_of(path), limit=DOCKERFILE_BYTES)
        except (UnsafePath, OSError):
            continue
        shown = _shown(Path(pin.file), root)
        for img in images_in(body, shown, pin.file):
            if img.line == pin.line:
                tag = f" (its tag {img.tag}, {img.tag_from})" if img.tag_from else ""
                out.append(Seen(shown, img.line, f"{img.image}{tag}", f"framework image ({dist})"))
                break
    if _launch_runs_container(w):
        return out  # the launcher builds or runs its own image: the launch path's check judges that one (cuda_launch_path)
    for dockerfile in _ancestor_dockerfiles(path, root):
        shown = _shown(dockerfile, root)
        base = base_image(dockerfile)
        if base is None or _off_topic(shown) or not cuda_image(base[1]):
            continue
        seen = Seen(shown, base[0], f"FROM {base[1]}", "dockerfile")
        if seen not in out:
            out.append(seen)
    return out


# ------------------------------------------------------------------ the container a launch line runs the config in (review11b #32)
# `srun singularity exec $CONTAINER torchrun ...` (LUMI's lumi-pytorch-rocm-6.2.4-...sif), `apptainer run X.sif`, slurm's
# pyxis `srun --container-image=X` and `docker run`/`podman run IMAGE ...`: the run's packages are the image's, which goblin
# does not read (only an Axolotl image's tag names a release: frameworks/image_pins.py).
_SINGULARITY = frozenset({"singularity", "apptainer"})
_SINGULARITY_VALUED = frozenset({"-B", "--bind", "--env", "--env-file", "-H", "--home", "-W", "--workdir", "--pwd", "-o", "--overlay", "--security"})
_ASSIGNED = re.compile(r"""^[ \t]{0,40}(?:export[ \t]{1,8})?([A-Za-z_][A-Za-z0-9_]{0,80})=(["']?)([^"'\s]{1,400})\2[ \t]{0,40}(?:#.{0,400})?$""")


def _container_word(words: list[str]) -> str | None:
    """The image a launch line's words start the command in, None where they start none."""
    for i, w in enumerate(words):
        if Path(w).name in _SINGULARITY and i + 1 < len(words) and words[i + 1] in ("exec", "run"):
            j = i + 2
            while j < len(words) and words[j].startswith("-"):
                j += 2 if words[j] in _SINGULARITY_VALUED else 1
            return words[j] if j < len(words) else None
        if w.startswith("--container-image="):
            return w.partition("=")[2] or None
        if w == "--container-image" and i + 1 < len(words):
            return words[i + 1]
        if Path(w).name in ("docker", "podman") and i + 1 < len(words) and words[i + 1] == "run":
            j = i + 2
            while j < len(words) and words[j].startswith("-"):
                j += 1 if "=" in words[j] or words[j] in ("--rm", "-it", "-i", "-t", "-d", "--privileged") else 2
            return words[j] if j < len(words) else None
    return None


def _expanded(word: str, rows: list[str], before: int) -> str:
    """`$NAME` / `${NAME}` of a word put in from the last `NAME=value` of the file above line `before`."""
    values: dict[str, str] = {}
    for row in rows[: max(0, before - 1)]:
        m = _ASSIGNED.match(row)
        if m:
            values[m.group(1)] = m.group(3)
    return _substituted(word, values)


def launch_container(w: WorkloadConfig) -> str | None:
    """The container image (with its file:line) a launch line goblin read this config's topology from runs it in, None
    where it runs in none: `lumi-pytorch-rocm-6.2.4-python-3.12-pytorch-v2.6.0.sif (run_torchrun.sh:46)`."""
    for path, text, root, lines in _launch_texts(w):
        rows = text.splitlines()
        for start in sorted(lines):
            if not 0 < start <= len(rows):
                continue
            # the launch may begin on a continued line above the one the topology was read at
            first = start
            while first > 1 and rows[first - 2].rstrip().endswith("\\") and start - first < 200:
                first -= 1
            words = _words(_logical(rows, first)) or []
            image = _container_word(words)
            if image:
                return f"{_expanded(image, rows, first)} ({_shown(path, root)}:{first})"
    return None


# ------------------------------------------------------------------ the run's torch comes from its environment (review15a #15, #17)
# `module load pytorch` on LUMI (CSC's ROCm build) before the launch line, a container the launch line runs, or a ROCm
# image the repository builds: a CUDA torch pin of a requirements file is then what a fresh install gets, not what ran
_MODULE_LOAD = re.compile(r"^\s*module\s+(?:load|add)\s+([^#\n]+)", re.IGNORECASE)


def torch_from_environment(w: WorkloadConfig, pin_file: str) -> str | None:
    """Where the run's torch comes from other than a requirements file (`pin_file`, the pin's file): the container the
    launch line runs it in, a torch environment module its launcher loads before the launch line, or a ROCm base image
    of a Dockerfile of the config's folders that does not install that file; None where nothing says so."""
    image = launch_container(w)
    if image is not None:
        return f"the launch line runs it in the container {image}, whose torch is the run's"
    if _launch_runs_container(w):
        return "the launch line starts a container, whose torch is the run's"
    for path, text, root, lines in _launch_texts(w):
        rows = text.splitlines()
        first = min(lines) if lines else len(rows) + 1
        for n, row in enumerate(rows[: max(0, first - 1)], 1):
            m = _MODULE_LOAD.match(row)
            named = [word for word in m.group(1).split() if "torch" in word.lower()] if m else []
            if named:
                return f"{_shown(path, root)}:{n} loads the environment module `{named[0]}` before the launch line, whose torch is the run's"
    config = Path(w.path)
    root = repository_root(config.parent) or config.parent
    wanted = Path(pin_file).name if pin_file else ""
    for dockerfile in _ancestor_dockerfiles(config, root):
        base = base_image(dockerfile)
        if base is None or "rocm" not in base[1].lower():
            continue
        try:
            body = read_text(dockerfile, roots=tree_of(dockerfile), limit=DOCKERFILE_BYTES)
        except (UnsafePath, OSError):
            continue
        if wanted and wanted in body:
            continue  # the image installs the pinned file: its pin is the image's torch too
        return f"the repository's Dockerfile {_shown(dockerfile, root)}:{base[0]} builds on the ROCm image `{base[1]}` and does not install {wanted or 'that file'}"
    return None
