"""A baseline projected above HBM on an assumed sample length is the length's, not the config's (review11a #6/#7:
375 GB per GPU for ROCm/MAD's torchtune recipe with `max_seq_len: null`, "Tested on 8xMI300X 192GB", AMD measured
137 GB; review11b #23: 745 GB at `max_length: 32768` over a Hub dataset of ~1K-token pairs).

- torchtune's null max_seq_len truncates nothing (torchtune 0.6.1 torchtune/datasets/_text_completion.py:71-72,
  models/llama3/_tokenizer.py:324-328): the note says the lengths are the dataset's and which length was assumed.
- A Hub `dataset_name` is said to be one: its lengths are unknown, the cap only bounds them.
- The message gives the longest sample that fits (`costmodel.fitting_length`), and where the repository says which GPU
  the config ran on (`formats/stated_gpu.py`), that the run's samples fit there, so the assumed length is over."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin import costmodel
from pytest_goblin.formats import load_config
from pytest_goblin.formats.datasets import HUB_DATASET
from pytest_goblin.formats.record import workload_record
from pytest_goblin.formats.stated_gpu import capacity_of
from pytest_goblin.service import audit_file
from pytest_goblin.settings import Settings

from .repo_files import fresh_root, write_tree

TUNE = """\
{header}
tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
  path: /models/tokenizer.model
{max_seq_len}
dataset:
  _component_: torchtune.datasets.text_completion_dataset
  source: json
  data_files: {data}
  column: input
model:
  _component_: torchtune.models.llama3_1.llama3_1_70b
checkpointer:
  _component_: torchtune.training.FullModelHFCheckpointer
  checkpoint_dir: /models/
  checkpoint_files: [model.safetensors]
  output_dir: /tmp/out
  model_type: LLAMA3
batch_size: 64
epochs: 1
optimizer:
  _component_: torch.optim.AdamW
  lr: 2e-5
  fused: True
loss:
  _component_: torchtune.modules.loss.CEWithChunkedOutputLoss
gradient_accumulation_steps: 1
device: cuda
enable_activation_checkpointing: True
fsdp_cpu_offload: True
dtype: bf16
"""
RUN = "# tune run --nproc_per_node 8 full_finetune_distributed --config recipe.yaml"
TRL = (
    "model_name_or_path: Qwen/Qwen3-14B\ndataset_name: {data}\ntorch_dtype: bfloat16\nbf16: true\nper_device_train_batch_size: 1\n"
    "gradient_accumulation_steps: 8\ngradient_checkpointing: false\nmax_length: 32768\noutput_dir: out\n"
    "# DPOTrainer arguments\n# accelerate launch --num_processes 8 dpo.py --config dpo.yaml\n"
)


def _tune(
    tmp_path: Path, header: str, *, max_seq_len: str = "  max_seq_len: null", data: str = "/outside/wikitext_train.json", more: dict[str, str] | None = None
) -> Path:
    text = TUNE.format(header=f"{header}\n{RUN}", max_seq_len=max_seq_len, data=data)
    root = write_tree(fresh_root(tmp_path), {"recipe.yaml": text, **(more or {})}, git=True)
    return root / "recipe.yaml"


def _reason(path: Path) -> str:
    result = audit_file(path, Settings(runner="projection", target="mi300x"), shown_as=path.name)
    assert result.report is not None, result.error
    assert "None" not in result.report.reason
    return result.report.reason


def test_null_max_seq_len_is_said_to_truncate_nothing(tmp_path: Path) -> None:
    w = load_config(_tune(tmp_path, "# a recipe")).workload
    note = w.sources["seq_len"].note or ""
    assert "tokenizer.max_seq_len is null (line 6)" in note and "their lengths are the dataset's" in note and "2048 tokens assumed" in note
    assert "_text_completion.py:71-72" in note
    # must-not: absent, it is not said to be null
    absent = load_config(_tune(tmp_path, "# a recipe", max_seq_len="")).workload
    assert "is null" not in (absent.sources["seq_len"].note or "") and "neither tokenizer.max_seq_len" in (absent.sources["seq_len"].note or "")


def test_the_gpu_the_config_says_it_ran_on_bounds_the_assumed_length(tmp_path: Path) -> None:
    """Issue 23: the run that trained on the stated GPU had samples no longer than the longest that fits there, so every
    assumed sample is priced at that bound (the baseline no longer above the GPU the repository trains on), labelled in
    the token-length source; where the bound cannot be set (the world size assumed) the premise says the GPU instead."""
    path = _tune(tmp_path, "# Tested on 8xMI300X 192GB")
    w = load_config(path).workload
    assert w.stated_gpu is not None and w.stated_gpu.gpu == "MI300X 192GB" and w.stated_gpu.line == 1
    full = w.model_copy(update={"length_bound": None})
    fits = costmodel.fitting_length(full, w.stated_gpu.capacity_gb)
    assert fits is not None and 1 < fits < w.seq_len
    assert w.length_bound == fits and costmodel.assumed_length(w) == fits and costmodel.lengths_assumed(w)
    assert costmodel.memory_gb(full) > w.stated_gpu.capacity_gb >= costmodel.memory_gb(w)
    note = w.sources["token_lengths"].note or ""
    assert f"bounded by the stated GPU: every sample assumed {fits} tokens" in note and "recipe.yaml:1" in note
    record = workload_record(str(path), w)  # goblin parse --json: the bound and its label in the token-length source
    assert record["length_bound"] == fits and "bounded by the stated GPU" in record["sources"]["token_lengths"]["note"]
    reason = _reason(path)
    assert "the repository says this config ran on" not in reason and f"at {w.seq_len} tokens" not in reason
    # must-not: a world size goblin assumed is not the run's, so the length that fits at it bounds nothing
    assumed = full.model_copy(update={"sources": {**full.sources, "world_size": full.sources["world_size"].model_copy(update={"explicit": False})}})
    assert costmodel.bounded_by_stated(assumed).length_bound is None and costmodel.stated_bound(assumed) is None
    premise = costmodel.length_premise(assumed, 206.0)
    assert premise is not None and premise.startswith("the repository says this config ran on 8xMI300X (recipe.yaml:1")
    assert f"it fits only with samples up to about {fits} tokens" in premise and "not the config" in premise
    # must-not: advice for another GPU, or a GPU whose memory goblin does not know, states no GPU the config ran on
    assert load_config(_tune(tmp_path, "# if you train on 8xH100 80GB, halve batch_size")).workload.stated_gpu is None
    assert load_config(_tune(tmp_path, "# Tested on 8xA100")).workload.stated_gpu is None
    plain = load_config(_tune(tmp_path, "# a recipe")).workload
    assert plain.length_bound is None
    assert "the repository says" not in _reason(_tune(tmp_path, "# a recipe"))


def test_a_readme_statement_tied_to_the_config_names_its_gpu(tmp_path: Path) -> None:
    readme = "# Recipes\n\n## Training\n\nWe trained `recipe.yaml` on 8 x H100 80GB.\n"
    w = load_config(_tune(tmp_path, "# a recipe", more={"README.md": readme})).workload
    assert w.stated_gpu is not None and w.stated_gpu.gpu == "H100 80GB" and w.stated_gpu.file.endswith("README.md")
    assert capacity_of("H100 80GB") == capacity_of("H100")  # the table's H100: its device-reported bytes
    have = capacity_of("A100 40GB")
    assert have is not None and round(have[0], 1) == 42.9 and "label read as GiB" in have[1]
    assert capacity_of("A100") is None


def test_lengths_read_from_the_data_leave_no_premise(tmp_path: Path) -> None:
    rows = "".join('{"input": "' + "word " * 40 + '"}\n' for _ in range(50))
    path = _tune(tmp_path, "# Tested on 8xMI300X 192GB", data="data/train.json", more={"data/train.json": rows})
    w = load_config(path).workload
    assert w.token_quantiles and costmodel.length_premise(w, 206.0) is None
    assert "the repository says" not in _reason(path)


def test_a_hub_dataset_is_said_and_its_cap_priced_as_an_assumption(tmp_path: Path) -> None:
    root = write_tree(fresh_root(tmp_path), {"dpo.yaml": TRL.format(data="argilla/ultrafeedback-binarized-preferences")}, git=True)
    w = load_config(root / "dpo.yaml").workload
    note = w.sources["token_lengths"].note or ""
    assert "`dataset_name: argilla/ultrafeedback-binarized-preferences` (line 2) is " + HUB_DATASET in note
    reason = _reason(root / "dpo.yaml")
    assert costmodel.memory_gb(w) > 206.2  # 32768-token pairs do not fit a 14B on 8 GPUs without checkpointing
    assert "the config fits this GPU with samples up to about" in reason and "The memory premise is that assumed length" in reason
    # must-not: a local path is no Hub dataset
    local = write_tree(fresh_root(tmp_path), {"dpo.yaml": TRL.format(data="./data/missing")}, git=True)
    assert HUB_DATASET not in (load_config(local / "dpo.yaml").workload.sources["token_lengths"].note or "")


def test_fitting_length_bisects_the_projection(tmp_path: Path) -> None:
    w = load_config(_tune(tmp_path, "# a recipe")).workload
    fits = costmodel.fitting_length(w, 206.0)
    assert fits is not None
    assert costmodel.memory_gb(costmodel.at_length(w, fits)) <= 206.0 < costmodel.memory_gb(costmodel.at_length(w, fits + 1))
    assert costmodel.fitting_length(w, 1e6) == w.seq_len
    assert costmodel.fitting_length(w, 1.0) is None


def _sized(tmp_path: Path, header: str, batch: int, more: dict[str, str] | None = None) -> Path:
    """The 70B recipe at 4,096-token samples: batch 8 projects about 100 GB per GPU (under MI300X's 206 GB, over an H100's
    80 GB), batch 4 about 54 GB."""
    path = _tune(tmp_path, header, max_seq_len="  max_seq_len: 4096", more=more)
    path.write_text(path.read_text().replace("batch_size: 64", f"batch_size: {batch}"))
    return path


def _notes(path: Path) -> list[str]:
    result = audit_file(path, Settings(runner="projection", target="mi300x"), shown_as=path.name)
    assert result.report is not None, result.error
    assert not any("None" in n for n in result.report.notes)
    return list(result.report.notes)


def test_lengths_are_bounded_by_the_gpu_the_repository_trains_on(tmp_path: Path) -> None:
    """Issue 23 (review13a #10: 130 GB at 32,768 tokens for a run README.md:83 trains on 80 GB A800s): under the target's
    memory but above the stated GPU's, the note bounds the lengths to what fits there."""
    path = _sized(tmp_path, "# Tested on 8xH100 80GB", 8)
    w = load_config(path).workload.model_copy(update={"length_bound": None})
    assert w.stated_gpu is not None and costmodel.memory_gb(w) > w.stated_gpu.capacity_gb
    fits = costmodel.fitting_length(w, w.stated_gpu.capacity_gb)
    assert fits is not None and 1 < fits < 4096
    bound = [n for n in _notes(path) if n.startswith("lengths bounded")]
    assert len(bound) == 1
    assert "the repository trains this on H100 80GB (recipe.yaml:1" in bound[0] and "at 4,096 tokens per sample it would need" in bound[0]
    assert f"up to about {fits:,} tokens" in bound[0] and f"goblin priced every sample at {fits:,} tokens" in bound[0]
    # must-not: a model of assumed size (neither known nor sized) may be what is over, not the length
    unsized = w.model_copy(update={"model": w.model.model_copy(update={"known": False, "params_b": None})})
    assert costmodel.stated_bound(w) is not None and costmodel.stated_bound(unsized) is None


def test_no_bound_without_a_stated_gpu_or_where_the_projection_fits_it(tmp_path: Path) -> None:
    # must-not: no GPU stated
    assert not any(n.startswith("lengths bounded") for n in _notes(_sized(tmp_path, "# a recipe", 8)))
    # must-not: the stated GPU holds the projection (batch 4: about 54 GB of 80)
    small = _sized(tmp_path, "# Tested on 8xH100 80GB", 4)
    assert load_config(small).workload.stated_gpu is not None
    assert costmodel.stated_bound(load_config(small).workload) is None
    assert not any(n.startswith("lengths bounded") for n in _notes(small))


def test_a_gpu_named_for_inference_is_not_the_one_the_config_trained_on(tmp_path: Path) -> None:
    # must-not: the config's own comment and a README sentence tied to it that name an inference GPU
    assert load_config(_sized(tmp_path, "# Inference runs on a single T4 16GB", 8)).workload.stated_gpu is None
    readme = "# Recipes\n\n## Training\n\n`recipe.yaml` trains on the cluster; inference runs on a single T4 16GB.\n"
    assert load_config(_sized(tmp_path, "# a recipe", 8, more={"README.md": readme})).workload.stated_gpu is None
    # fires: the training sentence of the same README
    trained = "# Recipes\n\n## Training\n\nWe trained `recipe.yaml` on 8 x H100 80GB.\n"
    assert load_config(_sized(tmp_path, "# a recipe", 8, more={"README.md": trained})).workload.stated_gpu is not None


def test_known_lengths_above_the_stated_gpu_are_inconclusive(tmp_path: Path) -> None:
    """Packed samples (their length known) projected above the GPU the repository trains on: the memory model is what
    the run contradicts, so the verdict is inconclusive with that reason."""
    path = _sized(tmp_path, "# Tested on 8xH100 80GB", 8)
    path.write_text(path.read_text().replace("  column: input\n", "  column: input\n  packed: True\n"))
    w = load_config(path).workload
    assert w.sample_packing and costmodel.memory_gb(w) > 86
    reason = _reason(path)
    assert reason.startswith("inconclusive") and "contradicts goblin's memory model" in reason and "packed to 4,096 tokens" in reason
    # must-not: the same packed recipe where the stated GPU holds it
    roomy = _sized(tmp_path, "# Tested on 8xMI300X 192GB", 8)
    roomy.write_text(roomy.read_text().replace("  column: input\n", "  column: input\n  packed: True\n"))
    assert costmodel.stated_contradiction(load_config(roomy).workload) is None
    assert "contradicts goblin's memory model" not in _reason(roomy)


def test_parse_record_shows_the_stated_gpu_with_its_memory_and_where(tmp_path: Path) -> None:
    import json

    from pytest_goblin.formats.record import parse_record

    record, ok = parse_record(_sized(tmp_path, "# Tested on 8xH100 80GB", 8))
    stated = json.loads(json.dumps(record, default=str))["stated_gpu"]
    assert ok and isinstance(stated, dict) and stated["gpu"] == "H100 80GB" and stated["line"] == 1 and stated["capacity_gb"] > 80
    # must-not: no GPU stated, no object
    none, _ = parse_record(_sized(tmp_path, "# a recipe", 8))
    assert none["stated_gpu"] is None
