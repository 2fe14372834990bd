"""TRL start-up limits that depend on the release: what a GRPO or DPO config must satisfy to train at all.

Facts read from TRL's own source at each tag (the huggingface/trl git history, v0.7.0 to v1.9.0, and the installed
trl 1.16.0); blockers.py turns them into findings. Nothing here imports TRL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Version = tuple[int, ...]


def parse_version(text: str) -> Version | None:
    """(1, 16, 0) for "1.16.0" / "v1.16.0"; None for what is not a plain release number."""
    m = re.match(r"^v?(\d+)\.(\d+)(?:\.(\d+))?", text.strip())
    return tuple(int(x or 0) for x in m.groups()) if m else None


# --- GRPO: the generation batch must hold whole groups of num_generations completions ---------------------------------

GRPO_NUM_GENERATIONS_DEFAULT = 8
GRPO_DEFAULT_AT = "trl 1.16.0 trl/trainer/grpo_config.py:480-481; trl 0.15.0 trl/trainer/grpo_config.py:138-139 (num_generations defaults to 8)"


@dataclass(frozen=True)
class GrpoRule:
    """How a range of TRL releases checks the GRPO batch against num_generations."""

    first: Version  # the first release with this check
    factors: str  # "world" (per_device x processes), "accum" (x gradient_accumulation_steps), "generation" (generation_batch_size)
    where: str  # file:lines@version of the raise
    when: str  # when it raises


GRPO_RULES: tuple[GrpoRule, ...] = (
    GrpoRule(
        (0, 15, 0),
        "world",
        "trl 0.15.0 trl/trainer/grpo_trainer.py:342-350; trl 0.16.0 :425-433 (GRPOTrainer.__init__: per_device_train_batch_size x "
        "num_processes must be divisible by num_generations, else ValueError)",
        "GRPOTrainer.__init__",
    ),
    GrpoRule(
        (0, 17, 0),
        "accum",
        "trl 0.17.0 trl/trainer/grpo_trainer.py:597-608 (GRPOTrainer.__init__: per_device_train_batch_size x num_processes x "
        "gradient_accumulation_steps must be divisible by num_generations, else ValueError)",
        "GRPOTrainer.__init__",
    ),
    GrpoRule(
        (0, 18, 0),
        "generation",
        "trl 0.18.0 trl/trainer/grpo_config.py:510-546; trl 0.29.0 :820-855; trl 1.9.0 :1075-1113; trl 1.16.0 :1096-1134 "
        "(GRPOConfig.__post_init__: generation_batch_size = per_device_train_batch_size x world_size x steps_per_generation, "
        "steps_per_generation defaulting to gradient_accumulation_steps, must be divisible by num_generations, else ValueError)",
        "GRPOConfig.__post_init__",
    ),
)
# trl 0.14.0 (the first GRPOTrainer) has no such check: trl/trainer/grpo_trainer.py@v0.14.0 raises on nothing of it.


@dataclass(frozen=True)
class GrpoBatch:
    size: int  # the batch that must hold whole groups
    formula: str  # how it was formed, with the config's numbers


def grpo_batch(rule: GrpoRule, per_device: int, world: int, accum: int, generation_batch: int | None, steps_per_generation: int | None) -> GrpoBatch | None:
    """The batch the release divides by num_generations; None where the config sets both generation_batch_size and
    steps_per_generation (trl 0.18.0+ raises on that first: another error) or sets them on a release without them."""
    if rule.factors == "world":
        if generation_batch is not None or steps_per_generation is not None:
            return None
        return GrpoBatch(per_device * world, f"per_device_train_batch_size {per_device} x {world} process(es)")
    if rule.factors == "accum":
        if generation_batch is not None or steps_per_generation is not None:
            return None
        return GrpoBatch(per_device * world * accum, f"per_device_train_batch_size {per_device} x {world} process(es) x gradient_accumulation_steps {accum}")
    if generation_batch is not None and steps_per_generation is not None:
        return None
    if generation_batch is not None:
        return GrpoBatch(generation_batch, f"generation_batch_size {generation_batch}")
    if steps_per_generation is not None:
        return GrpoBatch(
            per_device * world * steps_per_generation,
            f"generation_batch_size = per_device_train_batch_size {per_device} x {world} process(es) x steps_per_generation {steps_per_generation}",
        )
    return GrpoBatch(
        per_device * world * accum,
        f"generation_batch_size = per_device_train_batch_size {per_device} x {world} process(es) x steps_per_generation {accum} (gradient_accumulation_steps)",
    )


def grpo_fits(per_device: int, world: int, accum: int, num_generations: int) -> int:
    """The smallest per_device_train_batch_size from `per_device` up whose batch (x world x accum) holds whole groups."""
    n = max(1, per_device)
    while (n * world * accum) % num_generations:
        n += 1
    return n


# --- RLOO (trl 0.22.0 on, rewritten on GRPO's pattern): the same generation-batch checks in RLOOConfig.__post_init__ --

RLOO_NUM_GENERATIONS_DEFAULT = 2
RLOO_DEFAULT_AT = "trl 1.16.0 trl/trainer/rloo_config.py:301-302; trl 0.22.0 :256-257 (num_generations defaults to 2)"
RLOO_RULES: tuple[GrpoRule, ...] = (
    GrpoRule(
        (0, 22, 0),
        "generation",
        "trl 0.22.0 trl/trainer/rloo_config.py:636-670; trl 0.29.0 :539-576; trl 1.9.0 :645-682; trl 1.16.0 :661-698 "
        "(RLOOConfig.__post_init__: generation_batch_size = per_device_train_batch_size x world_size x steps_per_generation, "
        "steps_per_generation defaulting to gradient_accumulation_steps, must be divisible by num_generations, else ValueError)",
        "RLOOConfig.__post_init__",
    ),
)
# trl 0.11.0-0.21.x RLOOTrainer is the older rloo_k implementation (no num_generations): not judged here.


def generation_rules(config: str) -> tuple[tuple[GrpoRule, ...], int, str] | None:
    """(the release ranges, TRL's num_generations default, where it was read) of a GRPO-pattern config class."""
    if config == "GRPOConfig":
        return GRPO_RULES, GRPO_NUM_GENERATIONS_DEFAULT, GRPO_DEFAULT_AT
    if config == "RLOOConfig":
        return RLOO_RULES, RLOO_NUM_GENERATIONS_DEFAULT, RLOO_DEFAULT_AT
    return None


def generation_rule(config: str, version: Version) -> GrpoRule | None:
    """The generation-batch check of the release for `config`, None before its first."""
    got = generation_rules(config)
    found = None
    for rule in got[0] if got is not None else ():
        if version >= rule.first:
            found = rule
    return found


# --- The eval batch: with evaluation on, per_device_eval_batch_size x processes must hold whole groups ----------------

# TrainingArguments.__post_init__ turns do_eval on whenever eval_strategy is not "no" (transformers 4.50.3
# training_args.py:1639-1640; 5.25.0 :1571-1572), so `do_eval and eval_strategy != "no"` (trl 0.22.0 on) is
# `eval_strategy != "no"` as before. eval_strategy defaults to "no" and per_device_eval_batch_size to 8 (transformers
# 5.25.0 training_args.py:1106-1107, :1128-1129).
PER_DEVICE_EVAL_DEFAULT = 8
PER_DEVICE_EVAL_DEFAULT_AT = "transformers 5.25.0 transformers/training_args.py:1128-1129"


@dataclass(frozen=True)
class EvalRule:
    """How a range of TRL releases checks the eval batch against num_generations (raiser None: no check)."""

    first: Version
    raiser: str | None
    where: str
    eval_generations: bool = False  # num_generations_eval, when set, replaces num_generations


EVAL_RULES: dict[str, tuple[EvalRule, ...]] = {
    "GRPOConfig": (
        EvalRule(
            (0, 15, 0),
            "GRPOTrainer.__init__",
            'trl 0.15.0 trl/trainer/grpo_trainer.py:351-358; trl 0.16.0 :434-441; trl 0.17.0 :609-621 (eval_strategy not "no": '
            "per_device_eval_batch_size x num_processes must be divisible by num_generations, else ValueError)",
        ),
        EvalRule((0, 18, 0), "GRPOConfig.__post_init__", "trl 0.18.0 trl/trainer/grpo_config.py:548-560; trl 0.19.0 :572-584 (the same check)"),
        EvalRule((0, 20, 0), None, "trl 0.20.0 and 0.21.0 trl/trainer/grpo_config.py have no eval-batch check"),
        EvalRule((0, 22, 0), "GRPOConfig.__post_init__", 'trl 0.22.0 trl/trainer/grpo_config.py:630-636 (do_eval and eval_strategy not "no")'),
        EvalRule(
            (0, 26, 1),
            "GRPOConfig.__post_init__",
            "trl 0.26.1 trl/trainer/grpo_config.py:833-842; trl 0.29.0 :842-851; trl 1.9.0 :1097-1106; trl 1.16.0 :1118-1127 (do_eval and "
            'eval_strategy not "no": per_device_eval_batch_size x world_size must be divisible by num_generations_eval or num_generations)',
            True,
        ),
    ),
    "RLOOConfig": (
        EvalRule(
            (0, 22, 0), "RLOOConfig.__post_init__", 'trl 0.22.0 trl/trainer/rloo_config.py:656-662; trl 0.26.0 :596-602 (do_eval and eval_strategy not "no")'
        ),
        EvalRule(
            (0, 26, 1),
            "RLOOConfig.__post_init__",
            "trl 0.26.1 trl/trainer/rloo_config.py:596-605; trl 0.29.0 :559-568; trl 1.9.0 :665-674; trl 1.16.0 :681-690 (do_eval and "
            'eval_strategy not "no": per_device_eval_batch_size x world_size must be divisible by num_generations_eval or num_generations)',
            True,
        ),
    ),
}
EVAL_READ_TO: Version = (1, 16, 0)


def eval_rule(config: str, version: Version) -> EvalRule | None:
    """The eval-batch check of the release for `config`; None where it has none or after the releases read."""
    if version > EVAL_READ_TO:
        return None
    found = None
    for rule in EVAL_RULES.get(config, ()):
        if version >= rule.first:
            found = rule
    return found if found is not None and found.raiser is not None else None


# --- DPO: the loss types DPOTrainer computes ---------------------------------------------------------------------------

# (first release, loss types its DPOTrainer loss function handles; any other raises ValueError("Unknown loss type ..."))
# Read by AST from the `loss_type ==` / `in` comparisons of the function that raises, at every tag from v0.7.3 (the
# first DPOTrainer with a loss_type; v0.7.0-v0.7.2 have none) to v1.9.0, and the installed trl 1.16.0 (the same set as
# 1.4.0-1.9.0; 1.10-1.15 are taken to have it too).
DPO_LOSSES: tuple[tuple[Version, frozenset[str], str], ...] = (
    ((0, 7, 3), frozenset({"sigmoid", "hinge"}), "trl 0.7.4 trl/trainer/dpo_trainer.py:416-452 (dpo_loss)"),
    ((0, 7, 5), frozenset({"sigmoid", "hinge", "ipo", "kto_pair"}), "trl 0.8.6 trl/trainer/dpo_trainer.py:844-903 (dpo_loss)"),
    (
        (0, 9, 3),
        frozenset({"sigmoid", "hinge", "ipo", "kto_pair", "bco_pair", "sppo_hard", "nca_pair", "robust"}),
        "trl 0.9.4 trl/trainer/dpo_trainer.py:979-1070 (dpo_loss)",
    ),
    (
        (0, 9, 6),
        frozenset({"sigmoid", "hinge", "ipo", "bco_pair", "sppo_hard", "nca_pair", "robust", "exo_pair", "aot", "aot_pair"}),
        "trl 0.9.6 trl/trainer/dpo_trainer.py:1046-1187 (dpo_loss)",
    ),
    (
        (0, 10, 0),
        frozenset({"sigmoid", "hinge", "ipo", "bco_pair", "sppo_hard", "nca_pair", "robust", "exo_pair", "aot", "aot_pair", "apo_zero", "apo_down"}),
        "trl 0.12.2 trl/trainer/dpo_trainer.py:1021-1184 (dpo_loss)",
    ),
    (
        (0, 13, 0),
        frozenset(
            {"sigmoid", "hinge", "ipo", "bco_pair", "sppo_hard", "nca_pair", "robust", "exo_pair", "aot", "aot_pair", "apo_zero", "apo_down", "discopop"}
        ),
        "trl 0.13.0 trl/trainer/dpo_trainer.py:882-1059 (dpo_loss)",
    ),
    (
        (0, 20, 0),
        frozenset(
            {
                "sigmoid",
                "hinge",
                "ipo",
                "bco_pair",
                "sppo_hard",
                "nca_pair",
                "robust",
                "exo_pair",
                "aot",
                "aot_pair",
                "apo_zero",
                "apo_down",
                "discopop",
                "sft",
            }
        ),
        "trl 0.20.0 trl/trainer/dpo_trainer.py:993-1182 (dpo_loss)",
    ),
    (
        (0, 28, 0),
        frozenset(
            {
                "sigmoid",
                "hinge",
                "ipo",
                "bco_pair",
                "sppo_hard",
                "nca_pair",
                "robust",
                "exo_pair",
                "aot",
                "aot_unpaired",
                "apo_zero",
                "apo_down",
                "discopop",
                "sft",
            }
        ),
        "trl 0.28.0 trl/trainer/dpo_trainer.py:1062-1274 (dpo_loss); trl 0.29.0 :1106-1326 (_compute_loss)",
    ),
    (
        (1, 4, 0),
        frozenset(
            {
                "sigmoid",
                "sigmoid_norm",
                "hinge",
                "ipo",
                "bco_pair",
                "sppo_hard",
                "nca_pair",
                "robust",
                "exo_pair",
                "aot",
                "aot_unpaired",
                "apo_zero",
                "apo_down",
                "discopop",
                "sft",
            }
        ),
        "trl 1.4.0 trl/trainer/dpo_trainer.py:1160-1383 (_compute_loss); trl 1.9.0 :1329-1559; trl 1.16.0 :1285-1512",
    ),
)
# The newest release whose DPOTrainer goblin read: later ones are not judged by release, only by DPO_EVER.
DPO_READ_TO: Version = (1, 16, 0)
DPO_EVER: frozenset[str] = frozenset().union(*(s for _v, s, _w in DPO_LOSSES))


def dpo_losses(version: Version) -> tuple[frozenset[str], str] | None:
    """The loss types the release's DPOTrainer computes, and where that was read; None outside the releases read."""
    if version < DPO_LOSSES[0][0] or version > DPO_READ_TO:
        return None
    found = None
    for first, names, where in DPO_LOSSES:
        if version >= first:
            found = (names, where)
    return found


# --- KTO: the KL term's start-up checks --------------------------------------------------------------------------------

# KTOTrainer estimates the KL term from mismatched (prompt, completion) pairs within a batch; every loss_type but
# "apo_zero_unpaired" does (trl 0.11.0 kto_trainer.py:533-535 adds it; trl 1.16.0 :815). Read at every tag v0.8.0-v1.9.0
# of the huggingface/trl history (trl/trainer/kto_trainer.py; trl/experimental/kto/kto_trainer.py from v0.26.0 to v1.7.1,
# where trl.KTOTrainer subclasses it) and the installed trl 1.16.0.
# trl 0.8.0-0.11.4 raise on max(torch.cuda.device_count(), 1) x per_device_train_batch_size x gradient_accumulation_steps
# <= 1 (trl 0.8.0 kto_trainer.py:329-335, trl 0.8.6 :508-514, trl 0.11.4 :602-611; from 0.11.0 only with the KL term on,
# :533-535): the GPUs the node shows are not read, so not judged. Re-read at every tag v0.8.0-v1.9.0 (issue 24): the
# per-device raise is in every release from 0.12.0 and none before, the sampling raise from 1.6.0. desirable_weight /
# undesirable_weight outside the range the data's balance suggests is only warned about, never raised on (trl 0.8.0
# kto_trainer.py:376-377, trl 0.11.4 :670-671, trl 1.9.0 :1130-1131); KTOConfig.__post_init__ of 0.9.3-0.9.6 raises
# ImportError for loss_type bco without scikit-learn (0.9.6 kto_config.py:106-110), the environment's doing: not judged.
KTO_NO_KL_LOSS = "apo_zero_unpaired"
KTO_NO_KL_AT = "trl 1.16.0 trl/trainer/kto_trainer.py:815; trl 0.12.0 :549-551 (calculate_KL off only for loss_type apo_zero_unpaired)"


@dataclass(frozen=True)
class KtoCheck:
    """A KTOTrainer.__init__ raise when the KL term is on, in a range of releases."""

    first: Version
    key: str  # the KTOConfig key it tests
    where: str  # file:lines@version of the raise at each release range read
    says: str  # the ValueError's text (its start)


KTO_CHECKS: tuple[KtoCheck, ...] = (
    KtoCheck(
        (0, 12, 0),
        "per_device_train_batch_size",
        "trl 0.12.0 trl/trainer/kto_trainer.py:650-654; trl 0.18.0 :662-666; trl 0.29.0 trl/experimental/kto/kto_trainer.py:589-593; "
        "trl 1.4.0 :355-358; trl 1.6.0 :589-592; trl 1.16.0 trl/trainer/kto_trainer.py:844-847 (KTOTrainer.__init__: per_device_train_batch_size <= 1 "
        "with the KL term on: ValueError)",
        "Actual (not effective) batch size must be > 1. KTO will not work properly because the KL term will be equivalent to the implied reward.",
    ),
    KtoCheck(
        (1, 6, 0),
        "train_sampling_strategy",
        "trl 1.6.0 trl/experimental/kto/kto_trainer.py:582-588 (KTOConfig default 'sequential', kto_config.py:97-98); trl 1.16.0 "
        "trl/trainer/kto_trainer.py:837-843 (KTOConfig default 'sequential', kto_config.py:121-122) (KTOTrainer.__init__: "
        "train_sampling_strategy other than 'sequential' with the KL term on: ValueError)",
        "Loss type ... estimates the KL divergence term and requires `train_sampling_strategy='sequential'`",
    ),
)
# The newest release whose KTOTrainer goblin read.
KTO_READ_TO: Version = (1, 16, 0)


def kto_checks(version: Version) -> tuple[KtoCheck, ...]:
    """The KL-term checks the release's KTOTrainer makes at start-up; none before 0.12.0 or after the releases read."""
    if version > KTO_READ_TO:
        return ()
    return tuple(c for c in KTO_CHECKS if version >= c.first)


# --- Other TRL config checks that raise at start-up on valid keys ---------------------------------------------------------


@dataclass(frozen=True)
class TrlRaise:
    """A ValueError a TRL config class or trainer raises before the first step on a combination of valid keys."""

    name: str  # the predicate blockers applies (blockers._TRL_RAISES)
    config: str  # the TRL config class it concerns
    first: Version  # the first release with the raise
    keys: tuple[str, ...]  # the keys it reads, the one the finding points at first
    where: str  # file:lines@version of the raise
    says: str  # the ValueError's text (its start)
    change: str  # what to change
    raiser: str  # what raises
    earlier: tuple[Version, str] | None = None  # (release, what raised before it)
    until: Version | None = None  # the first release without the raise (None: still there)

    def raised_by(self, version: Version) -> str:
        return self.earlier[1] if self.earlier is not None and version < self.earlier[0] else self.raiser


TRL_RAISES: tuple[TrlRaise, ...] = (
    TrlRaise(
        "grpo_one_generation",
        "GRPOConfig",
        (0, 15, 0),
        ("num_generations",),
        "trl 0.15.0 trl/trainer/grpo_trainer.py:342-350; trl 0.16.0 :425-433 (GRPOTrainer.__init__: the valid num_generations "
        "are the divisors of the global train batch from 2 up, so 1 is never one of them: ValueError; trl 0.14.0 has no check)",
        "The global train batch size (...) must be evenly divisible by the number of generations per prompt (1)",
        "num_generations 2 or more (the advantages compare the completions of one prompt)",
        "GRPOTrainer.__init__",
        until=(0, 17, 0),
    ),
    TrlRaise(
        "grpo_one_generation",
        "GRPOConfig",
        (0, 17, 0),
        ("num_generations",),
        "trl 0.17.0 trl/trainer/grpo_trainer.py:592-596 (GRPOTrainer.__init__); trl 0.18.0 trl/trainer/grpo_config.py:532-536; "
        "trl 1.16.0 :1137-1141 (GRPOConfig.__post_init__: num_generations < 2: ValueError)",
        "GRPO requires at least 2 generations per prompt to calculate the advantages",
        "num_generations 2 or more (the advantages compare the completions of one prompt)",
        "GRPOConfig.__post_init__",
        ((0, 18, 0), "GRPOTrainer.__init__"),
    ),
    TrlRaise(
        "grpo_both_generation_sizes",
        "GRPOConfig",
        (0, 18, 0),
        ("steps_per_generation", "generation_batch_size"),
        "trl 0.18.0 trl/trainer/grpo_config.py:512-515; trl 1.16.0 :1113-1116 (GRPOConfig.__post_init__: generation_batch_size "
        "and steps_per_generation both set: ValueError)",
        "'generation_batch_size' and 'steps_per_generation' can not be both configured at the same time",
        "keep one of generation_batch_size and steps_per_generation (TRL derives the other from it)",
        "GRPOConfig.__post_init__",
    ),
    TrlRaise(
        "grpo_auto_find_batch_size",
        "GRPOConfig",
        (1, 9, 0),
        ("auto_find_batch_size",),
        "trl 1.9.0 trl/trainer/grpo_config.py:1068-1073; trl 1.16.0 :1089-1094 (GRPOConfig.__post_init__: auto_find_batch_size: "
        "ValueError; trl 1.8.0 and older accept it)",
        "auto_find_batch_size is not supported by GRPO, because the generation batch must contain full prompt groups",
        "auto_find_batch_size false (or remove it) and a per_device_train_batch_size that fits",
        "GRPOConfig.__post_init__",
    ),
    TrlRaise(
        "rloo_one_generation",
        "RLOOConfig",
        (0, 22, 0),
        ("num_generations",),
        "trl 0.22.0 trl/trainer/rloo_config.py:672-676; trl 1.9.0 :684-688; trl 1.16.0 :700-704 (RLOOConfig.__post_init__: "
        'num_generations < 2: ValueError, worded "GRPO requires ..." before trl 0.24.0; trl 0.21.x and older RLOOTrainer have '
        "no num_generations)",
        "RLOO requires at least 2 generations per prompt to calculate the advantages",
        "num_generations 2 or more (RLOO's baseline is the other completions of the same prompt)",
        "RLOOConfig.__post_init__",
    ),
    TrlRaise(
        "rloo_both_generation_sizes",
        "RLOOConfig",
        (0, 22, 0),
        ("steps_per_generation", "generation_batch_size"),
        "trl 0.22.0 trl/trainer/rloo_config.py:651-654; trl 1.9.0 :660-663; trl 1.16.0 :676-679 (RLOOConfig.__post_init__: "
        "generation_batch_size and steps_per_generation both set: ValueError)",
        "'generation_batch_size' and 'steps_per_generation' can not be both configured at the same time",
        "keep one of generation_batch_size and steps_per_generation (TRL derives the other from it)",
        "RLOOConfig.__post_init__",
    ),
    TrlRaise(
        "rloo_auto_find_batch_size",
        "RLOOConfig",
        (1, 9, 0),
        ("auto_find_batch_size",),
        "trl 1.9.0 trl/trainer/rloo_config.py:636-641; trl 1.16.0 :652-657 (RLOOConfig.__post_init__: auto_find_batch_size: "
        "ValueError; trl 1.8.0 and older accept it)",
        "auto_find_batch_size is not supported by RLOO, because the generation batch must contain full prompt groups",
        "auto_find_batch_size false (or remove it) and a per_device_train_batch_size that fits",
        "RLOOConfig.__post_init__",
    ),
    TrlRaise(
        "rloo_k_batch",
        "RLOOConfig",
        (0, 9, 3),
        ("rloo_k", "per_device_train_batch_size", "gradient_accumulation_steps", "num_mini_batches"),
        "trl 0.9.3 trl/trainer/rloo_trainer.py:90-92,114-116; trl 0.11.0 :113-115,133-135; trl 0.21.0 :129-131,149-151 "
        "(RLOOTrainer.__init__: local_batch_size = per_device_train_batch_size x gradient_accumulation_steps x num_mini_batches "
        "must be a multiple of rloo_k, else exact_div raises ValueError, trl 0.21.0 trl/trainer/utils.py:533-537; rloo_k "
        "defaults to 2, trl 0.11.0 rloo_config.py:53, trl 0.21.0 :87-88; num_mini_batches to 1, trl 0.11.0 trl/trainer/utils.py:1040, "
        "trl 0.21.0 :782-783; trl 0.22.0 rewrote RLOO on num_generations)",
        "`local_batch_size` must be a multiple of rloo_k, inexact division",
        "a per_device_train_batch_size x gradient_accumulation_steps x num_mini_batches that is a multiple of rloo_k, or an rloo_k that divides it",
        "RLOOTrainer.__init__",
        until=(0, 22, 0),
    ),
    TrlRaise(
        "sft_padding_free_unpacked",
        "SFTConfig",
        (1, 0, 0),
        ("padding_free", "packing", "max_length"),
        "trl 1.0.0 trl/trainer/sft_trainer.py:924-929; trl 1.16.0 :999-1004 (SFTTrainer.__init__: padding_free without packing "
        "and max_length set (not null), for a text dataset: ValueError; max_length defaults to 1024, trl 1.16.0 sft_config.py:202-203, "
        "trl 1.0.0 :177-178)",
        "When `padding_free=True` without packing, `max_length` is not enforced",
        "packing true (with padding_free, TRL's bfd packing), or max_length null with inputs already truncated, or padding_free false",
        "SFTTrainer.__init__",
    ),
)
SFT_MAX_LENGTH_DEFAULT = 1024  # trl 1.16.0 trl/trainer/sft_config.py:202-203; trl 1.0.0 :177-178
# the values RLOOTrainer (trl 0.9.3-0.21.x) forms local_batch_size from when the config leaves them out: TrainingArguments'
# per_device_train_batch_size 8 and gradient_accumulation_steps 1 (transformers 4.50.3 training_args.py:855-856, :881-882),
# rloo_k 2 and num_mini_batches 1 (where rloo_k_batch says)
RLOO_K_DEFAULTS: dict[str, int] = {"rloo_k": 2, "per_device_train_batch_size": 8, "gradient_accumulation_steps": 1, "num_mini_batches": 1}
TRL_RAISES_READ_TO: Version = (1, 16, 0)


def trl_raises(config: str, version: Version) -> tuple[TrlRaise, ...]:
    """The start-up raises of `config` at the release; none after the releases read."""
    if version > TRL_RAISES_READ_TO:
        return ()
    return tuple(r for r in TRL_RAISES if r.config == config and version >= r.first and (r.until is None or version < r.until))
