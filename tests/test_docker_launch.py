"""A Dockerfile's CMD/ENTRYPOINT, a compose service's command and a `docker run IMAGE command` line are launchers
(formats/container.py, read by formats/launcher_text.py): the launch they run is read as any other launch line, with
the file and line as source, and the CUDA base of the Dockerfile whose CMD runs the config is `blocker.cuda_container_image`."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin import blockers
from pytest_goblin.formats import load_config
from pytest_goblin.formats.container import dockerfile_command, is_compose, is_dockerfile
from pytest_goblin.formats.launchers import find_launch
from pytest_goblin.hardware import get_hardware

from .repo_files import repo

AXOLOTL = "base_model: meta-llama/Meta-Llama-3-8B\nmicro_batch_size: 2\nsequence_len: 2048\nbf16: true\nflash_attention: true\n"
ROCM = "rocm/pytorch:rocm7.0_ubuntu24.04_py3.12_pytorch_release_2.8.0"
CUDA = "nvcr.io/nvidia/pytorch:24.01-py3"
EXEC_CMD = f'FROM {ROCM}\nWORKDIR /app\nCOPY . .\nCMD ["torchrun", "--nproc_per_node", "8", "-m", "axolotl.cli.train", "configs/sft.yaml"]\n'


def _topology(root: Path) -> tuple[int | None, int | None, str, int | None]:
    w = load_config(root / "configs/sft.yaml").workload
    s = w.sources["gpus_per_node"]
    return w.nodes, w.gpus_per_node, Path(s.file or "").name, s.line


def _cuda(root: Path) -> list[str]:
    loaded = load_config(root / "configs/sft.yaml")
    return [f.message for f in blockers.findings(loaded, get_hardware("mi300x")) if f.rule_id == "blocker.cuda_container_image"]


def test_names() -> None:
    assert all(is_dockerfile(n) for n in ("Dockerfile", "Dockerfile.rocm", "train.Dockerfile", "dockerfile"))
    assert not any(is_dockerfile(n) for n in ("Dockerfile.template", "dockerfile.py", "Dockerfile.md", ".dockerignore", "run.sh"))
    assert all(is_compose(n) for n in ("compose.yaml", "docker-compose.yml", "docker-compose.train.yml"))
    assert not is_compose("configs.yaml")


def test_an_exec_form_cmd_runs_the_config(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "Dockerfile": EXEC_CMD})
    assert _topology(root) == (1, 8, "Dockerfile", 4)
    found = find_launch(root / "configs/sft.yaml")
    assert found is not None and any("Dockerfile line 4 is the command its image runs" in n for n in found.notes)


def test_a_shell_form_cmd_with_its_env_and_continuations(tmp_path: Path) -> None:
    df = f"FROM {ROCM}\nENV NGPUS=4 OTHER=x\n# CMD torchrun --nproc_per_node 1 -m axolotl.cli.train configs/sft.yaml\nCMD torchrun --nproc_per_node $NGPUS \\\n    -m axolotl.cli.train configs/sft.yaml\n"
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "docker/Dockerfile.train": df})
    assert _topology(root) == (1, 4, "Dockerfile.train", 4)


def test_an_exec_entrypoint_joined_with_cmd_as_docker_joins_them(tmp_path: Path) -> None:
    df = f'FROM {ROCM}\nENTRYPOINT ["accelerate", "launch", "--num_processes", "2"]\nCMD ["-m", "axolotl.cli.train", "configs/sft.yaml"]\n'
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "Dockerfile": df})
    assert _topology(root) == (1, 2, "Dockerfile", 2)
    # a shell-form ENTRYPOINT ignores CMD (and the exec words of an ENTRYPOINT run before a shell-form CMD's /bin/sh -c)
    assert dockerfile_command('FROM x\nENTRYPOINT exec torchrun a.py\nCMD ["--config", "b.yaml"]\n') == dockerfile_command(
        "FROM x\nENTRYPOINT exec torchrun a.py\n"
    )
    got = dockerfile_command('FROM x\nENTRYPOINT ["torchrun"]\nCMD train.py --config b.yaml\n')
    assert got is not None and got.text == "torchrun /bin/sh -c 'train.py --config b.yaml'"


def test_an_exec_form_cmd_passes_its_dollar_words_as_written(tmp_path: Path) -> None:
    df = f'FROM {ROCM}\nENV NGPUS=4\nCMD ["torchrun", "--nproc_per_node", "$NGPUS", "-m", "axolotl.cli.train", "configs/sft.yaml"]\n'
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "Dockerfile": df})
    found = find_launch(root / "configs/sft.yaml")
    assert found is not None and found.per_node == 8 and any("not resolved" in a for a in found.assumed), found
    shell = df.replace('CMD ["torchrun", "--nproc_per_node", "$NGPUS",', 'CMD ["sh", "-c", "torchrun --nproc_per_node $NGPUS')
    shell = shell.replace('"-m", "axolotl.cli.train", "configs/sft.yaml"]', '-m axolotl.cli.train configs/sft.yaml"]')
    assert _topology(repo(tmp_path / "sh", {"configs/sft.yaml": AXOLOTL, "Dockerfile": shell})) == (1, 4, "Dockerfile", 3)


def test_a_stage_built_on_an_earlier_one_keeps_its_cmd_and_an_entrypoint_resets_it() -> None:
    got = dockerfile_command('FROM x AS base\nCMD ["torchrun", "a.py"]\nFROM base\nRUN pip install y\n')
    assert got is not None and got.line == 2 and got.text == "torchrun a.py"
    got = dockerfile_command('FROM x AS base\nCMD ["a.yaml"]\nFROM base\nENTRYPOINT ["torchrun", "t.py"]\n')
    assert got is not None and got.text == "torchrun t.py"


def test_a_compose_service_command_with_its_entrypoint(tmp_path: Path) -> None:
    compose = (
        "services:\n  web:\n    image: nginx\n    command: nginx -g 'daemon off;'\n"
        "  train:\n    image: " + ROCM + '\n    entrypoint: ["torchrun", "--nproc_per_node", "4"]\n'
        '    command: ["-m", "axolotl.cli.train", "configs/sft.yaml"]\n    environment:\n      - HIP_VISIBLE_DEVICES=0,1,2,3\n'
    )
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "docker-compose.yml": compose})
    assert _topology(root) == (1, 4, "docker-compose.yml", 7)


def test_a_compose_string_command_runs_after_the_entrypoint_of_the_dockerfile_it_builds(tmp_path: Path) -> None:
    df = f'FROM {ROCM}\nENTRYPOINT ["accelerate", "launch", "--num_processes", "8"]\n'
    compose = "services:\n  train:\n    build: ./docker\n    command: -m axolotl.cli.train configs/sft.yaml\n"
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "compose.yaml": compose, "docker/Dockerfile": df})
    assert _topology(root) == (1, 8, "compose.yaml", 4)


def test_a_docker_run_line_runs_the_words_after_the_image(tmp_path: Path) -> None:
    run = f"docker run --rm --device=/dev/kfd --device=/dev/dri -v $PWD:/w -w /w {ROCM} torchrun --nproc_per_node 4 -m axolotl.cli.train configs/sft.yaml\n"
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "run.sh": run})
    assert _topology(root) == (1, 4, "run.sh", 1)


def test_a_dockerfile_running_another_config_or_a_server_is_not_the_launch(tmp_path: Path) -> None:
    for i, cmd in enumerate(
        (
            '["torchrun", "--nproc_per_node", "8", "-m", "axolotl.cli.train", "configs/other.yaml"]',
            '["vllm", "serve", "out/merged", "--tensor-parallel-size", "8"]',
            '["python", "-m", "axolotl.cli.inference", "configs/sft.yaml"]',
        )
    ):
        df = f"FROM {CUDA}\nCMD {cmd}\n"
        root = repo(tmp_path / str(i), {"configs/sft.yaml": AXOLOTL, "configs/other.yaml": AXOLOTL, "Dockerfile": df})
        w = load_config(root / "configs/sft.yaml").workload
        assert Path(w.sources["gpus_per_node"].file or "").name != "Dockerfile", cmd
        assert not _cuda(root), cmd


def test_a_commented_cmd_or_one_in_an_earlier_stage_is_not_the_launch(tmp_path: Path) -> None:
    commented = f'FROM {CUDA}\n# CMD ["torchrun", "--nproc_per_node", "8", "-m", "axolotl.cli.train", "configs/sft.yaml"]\n'
    earlier = f"FROM {CUDA} AS train\n{EXEC_CMD.splitlines()[-1]}\nFROM ubuntu:22.04\nRUN true\n"
    for i, df in enumerate((commented, earlier)):
        root = repo(tmp_path / str(i), {"configs/sft.yaml": AXOLOTL, "Dockerfile": df})
        w = load_config(root / "configs/sft.yaml").workload
        assert Path(w.sources["gpus_per_node"].file or "").name != "Dockerfile"
        assert not _cuda(root)


def test_the_cuda_base_of_the_dockerfile_whose_cmd_runs_the_config(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "Dockerfile": EXEC_CMD.replace(ROCM, CUDA)})
    got = _cuda(root)
    assert len(got) == 1 and got[0].startswith(f"Dockerfile:1 (its line 4 runs the config): `FROM {CUDA}`"), got
    assert "None" not in got[0]
    assert not _cuda(repo(tmp_path / "rocm", {"configs/sft.yaml": AXOLOTL, "Dockerfile": EXEC_CMD}))


def test_the_cuda_image_or_build_of_the_compose_service_that_runs_the_config(tmp_path: Path) -> None:
    compose = "services:\n  train:\n    image: " + CUDA + "\n    command: torchrun --nproc_per_node 8 -m axolotl.cli.train configs/sft.yaml\n"
    got = _cuda(repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "compose.yaml": compose}))
    assert len(got) == 1 and got[0].startswith(f"compose.yaml:3: `image: {CUDA}`"), got
    built = compose.replace(f"image: {CUDA}", "build: .")
    got = _cuda(repo(tmp_path / "b", {"configs/sft.yaml": AXOLOTL, "compose.yaml": built, "Dockerfile": f"FROM {CUDA}\n"}))
    assert len(got) == 1 and got[0].startswith(f"Dockerfile:1 (compose.yaml service train builds it): `FROM {CUDA}`"), got
    assert not _cuda(repo(tmp_path / "r", {"configs/sft.yaml": AXOLOTL, "compose.yaml": compose.replace(CUDA, ROCM)}))


def test_a_megabyte_dockerfile_is_read_in_linear_time() -> None:
    assert dockerfile_command("FROM x\nCMD " + "a \\\n" * 100_000 + "b\n") is not None
    assert dockerfile_command("FROM x\nCMD [" + '"a",' * 200_000 + "\n") is not None
