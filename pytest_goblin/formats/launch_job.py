"""The launch lines of one multi-node torchrun job that give its nodes different process counts (blind review 15b #28,
nkkbr/241121_qwerty script/finetune_2_machine/0.sh `--nproc_per_node=3 --nnodes=2 --node_rank=0` and 1.sh
`--nproc_per_node=2 ... --node_rank=1`, one master address and port): the world is the sum of the nodes' counts, 5, not
2 x 3. torch 2.13.0 torch/distributed/elastic/agent/server/api.py:643-647 (the rank-0 agent sums every node's
local_world_size into the world size; :619-623 only under TORCH_ELASTIC_WORKER_IDENTICAL=1 is it nodes x the local count),
while torch/distributed/run.py:335-336 says torchrun supports only homogeneous LOCAL_WORLD_SIZE: an uneven job is read as
that sum, said, with the larger count as the GPUs of one node (per-node memory), said too (`launchers._count_others`).
"""

from __future__ import annotations

import re

from .launch_line import before_script, launch_flags

UNEVEN_AT = (
    "torch 2.13.0 torch/distributed/elastic/agent/server/api.py:643-647 (the world size is the sum of every node's "
    "--nproc_per_node), torch/distributed/run.py:335-336 (torchrun assumes every node runs the same count)"
)


def job_words(tokens: tuple[str, ...]) -> tuple[str, str, int, int] | None:
    """(master address, master port, nodes, node rank) of a torchrun / torch.distributed.launch line that writes all
    four as literals before its script; None otherwise (a `$VAR` is set at run time: no job is tied by it)."""
    if not any(t.rsplit("/", 1)[-1] in ("torchrun", "torch.distributed.run", "torch.distributed.launch") for t in tokens):
        return None
    flags = launch_flags(before_script(tokens))
    got = [flags.get(k, "") for k in ("master_addr", "master_port", "nnodes", "node_rank")]
    if any(not v or "$" in v or "`" in v for v in got):
        return None
    if not re.fullmatch(r"\d{1,4}", got[2]) or not re.fullmatch(r"\d{1,4}", got[3]):
        return None
    nodes, rank = int(got[2]), int(got[3])
    return (got[0], got[1], nodes, rank) if nodes > 1 and rank < nodes else None


def uneven_note(counts: list[tuple[int, str]]) -> str:
    """The note of a job whose node lines give different counts: each node's count and line, the sum, the larger count."""
    each = " + ".join(f"{n} ({where}, node_rank {rank})" for rank, (n, where) in enumerate(counts))
    total = sum(n for n, _ in counts)
    return (
        f"the lines of one {len(counts)}-node job give its nodes different process counts: world size {total} = {each} "
        f"({UNEVEN_AT}); GPUs per node read as the larger, {max(n for n, _ in counts)}, for the memory of one node"
    )
