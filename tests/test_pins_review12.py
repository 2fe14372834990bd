"""Framework versions review 12 misread (frameworks/pins.py): a requirements file in a dependency folder beside the
config's (review12a #10), an install line quoted in an assert's message (review12b #31), and an upper bound alone
(review12a #18), each with the case that must not change."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats.record import parse_record
from pytest_goblin.frameworks import history as h
from pytest_goblin.frameworks import pins as P

from .repo_files import fresh_root, write_tree

HF = "model_name_or_path: meta-llama/Meta-Llama-3-8B\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 4\nbf16: true\nlearning_rate: 1.0e-5\n"


def repo(tmp_path: Path, files: dict[str, str | bytes], config: str = "config.yaml", text: str = HF) -> Path:
    return write_tree(fresh_root(tmp_path), {**files, config: text}, git=True) / config


def test_a_dependency_folder_beside_the_config_pins(tmp_path: Path) -> None:
    path = repo(tmp_path, {"dependencies/train_requirements.txt": "datasets==3.2.0\ntransformers==4.48.3\ntorchtune==0.6.0\n"})
    pin = P.pins(str(path))["torchtune"]
    assert pin.version == "0.6.0" and pin.where == "dependencies/train_requirements.txt:3"
    path = repo(tmp_path, {"envs/requirements.txt": "trl==0.11.4\n"})
    assert P.pins(str(path))["trl"].where == "envs/requirements.txt:1"


def test_a_dependency_folders_inference_file_or_other_folder_does_not_pin(tmp_path: Path) -> None:
    path = repo(
        tmp_path,
        {
            "dependencies/inference_requirements.txt": "vllm==0.7.2\ntorchtune==0.5.0\n",
            "dependencies/notes.txt": "we used torchtune 0.4.0 once\n",
            "scripts/requirements.txt": "torchtune==0.4.0\n",
        },
    )
    assert "torchtune" not in P.pins(str(path))


def test_an_install_line_in_an_asserts_message_is_not_a_pin(tmp_path: Path) -> None:
    script = (
        "import transformers\n"
        "assert (\n"
        '    "LlamaTokenizer" in transformers._import_structure["models.llama"]\n'
        '), "Please reinstall it: pip uninstall transformers && pip install git+https://github.com/huggingface/transformers.git"\n'
        'raise SystemExit("pip install trl==0.9.6")\n'
        'print("run: pip install peft==0.10.0")\n'
    )
    path = repo(tmp_path, {"requirements.txt": "torch\ntransformers==4.28.1\n", "train/train_lora.py": script}, config="train/config.yaml")
    found = P.pins(str(path))
    assert found["transformers"].version == "4.28.1" and found["transformers"].where == "requirements.txt:2"
    assert "trl" not in found and "peft" not in found


def test_an_install_line_a_script_runs_still_pins(tmp_path: Path) -> None:
    script = 'import subprocess\nsubprocess.run("pip install git+https://github.com/huggingface/transformers.git", shell=True)\n'
    path = repo(tmp_path, {"requirements.txt": "transformers==4.28.1\n", "train/train_lora.py": script}, config="train/config.yaml")
    pin = P.pins(str(path))["transformers"]
    assert pin.kind == "branch" and pin.where == "train/train_lora.py:2"


def test_an_upper_bound_alone_is_read_at_the_newest_release_it_admits(tmp_path: Path) -> None:
    path = repo(tmp_path, {"requirements.txt": "torch\ntransformers<4.43\naccelerate\n"})
    pin = P.pins(str(path))["transformers"]
    below = [v for v in h.read_versions("transformers") if tuple(int(x) for x in v.split(".")[:2]) < (4, 43)][-1]
    assert pin.constraint == "<4.43" and pin.version == below and not pin.exact
    record, ok = parse_record(path)
    assert ok
    fv = record["framework_version"]
    assert fv["version"] == below and fv["assumed"] is False and fv["spec"] == "transformers<4.43"
    assert fv["source"] == "requirements.txt:2; the newest release the range admits of those goblin read"


def test_an_upper_bound_the_newest_release_passes_stays_assumed(tmp_path: Path) -> None:
    path = repo(tmp_path, {"requirements.txt": "transformers<99.0\n"})
    fv = parse_record(path)[0]["framework_version"]
    assert fv["version"] == h.newest("transformers") and fv["assumed"] is True and "range admits" not in fv["source"]


def test_an_upper_bound_below_every_read_release_is_no_pin(tmp_path: Path) -> None:
    path = repo(tmp_path, {"requirements.txt": "transformers<2.0\n"})
    assert "transformers" not in P.pins(str(path))


ROCM_REQ = "--extra-index-url https://download.pytorch.org/whl/rocm6.2.4\ntorch==2.5.1+rocm6.2\ntorchtune==0.5.0\n"
CUDA_REQ = "--extra-index-url https://download.pytorch.org/whl/cu130\ntorch==2.10.0+cu130\ntorchtune==0.6.0\n"


def test_a_rocm_variant_beside_a_cuda_one_is_the_one_read(tmp_path: Path) -> None:
    from pytest_goblin.formats.container import _ancestor_dockerfiles

    path = repo(
        tmp_path,
        {
            "bench/requirements.cuda.txt": CUDA_REQ,
            "bench/requirements.rocm.txt": ROCM_REQ,
            "bench/docker/Dockerfile-cuda": "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\n",
            "bench/docker/Dockerfile-rocm": "FROM rocm/pytorch:latest\n",
        },
        config="bench/configs/full.yaml",
    )
    pin = P.pins(str(path))["torchtune"]
    assert pin.version == "0.5.0" and pin.where == "bench/requirements.rocm.txt:3"
    assert P.exact_pins(str(path), HF)["torch"].spec == "torch==2.5.1+rocm6.2"
    assert [f.name for f in _ancestor_dockerfiles(path, path.parents[2])] == ["Dockerfile-rocm"]
    # a ROCm index inside a file whose name says nothing is a ROCm variant too
    path = repo(tmp_path, {"requirements.txt": ROCM_REQ, "requirements-cuda.txt": CUDA_REQ})
    assert P.pins(str(path))["torchtune"].where == "requirements.txt:3"


def test_a_cuda_variant_with_no_rocm_one_beside_is_still_read(tmp_path: Path) -> None:
    from pytest_goblin.formats.container import _ancestor_dockerfiles

    path = repo(
        tmp_path,
        {
            "bench/requirements.cuda.txt": CUDA_REQ,
            "bench/requirements.txt": "torchtune\n",
            "bench/docker/Dockerfile-cuda": "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\n",
        },
        config="bench/configs/full.yaml",
    )
    assert P.pins(str(path))["torchtune"].where == "bench/requirements.cuda.txt:3"
    assert P.exact_pins(str(path), HF)["torch"].spec == "torch==2.10.0+cu130"
    assert [f.name for f in _ancestor_dockerfiles(path, path.parents[2])] == ["Dockerfile-cuda"]
