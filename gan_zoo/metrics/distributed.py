"""The few collective operations the metrics need; all are no-ops in a single process.

Every split here is *contiguous*: rank r takes items ``[n·r/W, n·(r+1)/W)``. Gathering the ranks' rows
in rank order (what torchmetrics does when it syncs a metric) then restores the single-process order
exactly, so order-dependent computations (KID's subsets, IS's splits) give the same result on 1 or W
processes.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor
from torchmetrics.utilities.distributed import gather_all_tensors


def rank_and_world() -> tuple[int, int]:
    """``(rank, world_size)`` of the default process group, ``(0, 1)`` without one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def shard(n: int, rank: int, world: int) -> range:
    """The contiguous share of ``n`` items that rank ``rank`` of ``world`` handles."""
    return range(n * rank // world, n * (rank + 1) // world)


def gather_rows(rows: Tensor) -> Tensor:
    """Concatenate every rank's ``rows`` (first dimensions may differ) in rank order."""
    if rank_and_world()[1] == 1:
        return rows
    return torch.cat(gather_all_tensors(rows.contiguous()))


def all_ranks_agree(flag: bool, device: torch.device) -> bool:
    """True when ``flag`` is true on every rank (so every rank takes the same branch)."""
    if rank_and_world()[1] == 1:
        return flag
    value = torch.tensor(int(flag), device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MIN)
    return bool(value)
