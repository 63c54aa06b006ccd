"""Data-parallel training for two-player modules: gradients are averaged per optimizer step.

Why not plain DDP? Lightning's ``DDPStrategy`` wraps the *whole* LightningModule in one
``DistributedDataParallel``, whose reducer expects every parameter to receive a gradient in every
backward pass. A GAN's discriminator update leaves the generator without gradients and vice versa, so
plain DDP fails with "parameters that were not used in producing the loss" (Lightning issues 20328,
20866) unless ``find_unused_parameters=True`` makes it walk the autograd graph after every backward
and all-reduce the buckets of *both* networks each time.

:class:`AdversarialDDPStrategy` keeps everything else of ``DDPStrategy`` (process launch, ranks,
``DistributedSampler``, ``sync_dist`` logging, SyncBatchNorm, checkpoints) but does not wrap the module:
when an optimizer steps, the gradients of *that optimizer's* parameters are averaged across processes
with bucketed all-reduces, right before the step (and before gradient clipping, so clipping sees the
global-batch gradient). This is what the StyleGAN2-ADA / StyleGAN3 training loops do by hand. It follows
that

* a D update communicates only D's gradients and a G update only G's;
* any graph works: parameters unused in a step, ``torch.autograd.grad(create_graph=True)`` for
  gradient penalties, several backward passes before one step (gradient accumulation);
* the price is that communication starts after the backward pass instead of overlapping with it.

Parameters are broadcast from rank 0 when training starts, and buffers (batch-norm running statistics)
from rank 0 before every training batch and evaluation, as ``DistributedDataParallel`` does.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.optim import Optimizer

from gan_zoo import lightning_compat as compat


class _AdversarialDDP:
    """Multi-process data parallelism for modules with several optimizers updated in turn.

    Use it by name: ``Trainer(strategy="gan_ddp")`` (processes launched as subprocesses, or by
    ``torchrun`` / SLURM) or ``"gan_ddp_spawn"`` (``torch.multiprocessing`` spawn, for a script run
    without a launcher), or ``"gan_ddp_fork"`` (forked processes: nothing is imported again, so they
    start in a moment; CPU only, and not from a process that has used CUDA).

    Args:
        find_unused_parameters: allow processes to differ in which of an optimizer's parameters got a
            gradient (data-dependent graphs). Costs one small all-reduce and a host sync per step, so
            it is off: the zoo's graphs do not depend on the data, every process computes gradients
            for the same parameters, and those without one (the other network's) are skipped.
        broadcast_buffers: copy rank 0's buffers to every process before each training batch and
            evaluation (``DistributedDataParallel``'s default behaviour).
        bucket_cap_mb: size of the flattened gradient buckets sent in one all-reduce.
        **kwargs: everything ``DDPStrategy`` takes (``process_group_backend``, ``timeout``,
            ``start_method``, ...). ``DistributedDataParallel`` options do not apply: nothing is wrapped.
    """

    def __init__(
        self,
        *,
        find_unused_parameters: bool = False,
        broadcast_buffers: bool = True,
        bucket_cap_mb: float = 25.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if compat.ddp_options(self):
            raise ValueError(
                f"{type(self).__name__} does not wrap the module in DistributedDataParallel; "
                f"these DDP options do not apply: {sorted(compat.ddp_options(self))}"
            )
        self.find_unused_parameters = find_unused_parameters
        self.broadcast_buffers = broadcast_buffers
        self.bucket_bytes = int(bucket_cap_mb * 1024 * 1024)

    # ------------------------------------------------------------------ no DDP wrapper
    def configure_ddp(self) -> None:
        # Instead of wrapping: start every process from rank 0's parameters and buffers.
        assert self.model is not None
        compat.sync_module_states(self.model)

    # ------------------------------------------------------------------ gradient averaging
    def optimizer_step(
        self,
        optimizer: Optimizer,
        closure: Callable[[], Any],
        model: nn.Module | None = None,
        **kwargs: Any,
    ) -> Any:
        def closure_then_average() -> Any:
            # The closure runs any backward pass (a no-op in manual optimization, where backward came
            # earlier); the precision plugin then unscales, calls on_before_optimizer_step (clipping)
            # and steps: all of it on the averaged gradients.
            result = closure()
            self.average_gradients(_parameters_of(optimizer))
            return result

        return super().optimizer_step(optimizer, closure_then_average, model, **kwargs)

    def average_gradients(self, parameters: list[nn.Parameter]) -> None:
        """Replace each parameter's gradient by its mean over all processes.

        Parameters without a gradient keep ``None`` (the other network's, during a toggled update).
        With ``find_unused_parameters``, one that has a gradient on some process but not on this one
        contributes zeros here, as in ``DistributedDataParallel``.
        """
        if self.world_size == 1 or not parameters:
            return
        if self.find_unused_parameters:
            has_grad = torch.tensor([p.grad is not None for p in parameters], device=self.root_device).int()
            dist.all_reduce(has_grad)
            used = [p for p, n in zip(parameters, has_grad.tolist(), strict=True) if n > 0]
            for p in used:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
        else:
            used = [p for p in parameters if p.grad is not None]
        if any(p.grad.is_sparse for p in used):
            raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
        _all_reduce_mean([p.grad for p in used], self.world_size, self.bucket_bytes)

    # ------------------------------------------------------------------ buffers
    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        super().on_train_batch_start(batch, batch_idx)
        self._broadcast_buffers()

    def on_validation_start(self) -> None:
        super().on_validation_start()
        self._broadcast_buffers()

    def on_test_start(self) -> None:
        super().on_test_start()
        self._broadcast_buffers()

    def on_predict_start(self) -> None:
        super().on_predict_start()
        self._broadcast_buffers()

    def _broadcast_buffers(self) -> None:
        if not self.broadcast_buffers or self.world_size == 1 or self.lightning_module is None:
            return
        buffers = [b for b in self.lightning_module.buffers() if b.numel()]
        for bucket in _buckets(buffers, self.bucket_bytes):
            flat = torch.cat([b.reshape(-1) for b in bucket])
            dist.broadcast(flat, src=0)
            _copy_back(flat, bucket)

    @classmethod
    def register_strategies(cls, strategy_registry: Any) -> None:
        for name, start_method in (
            ("gan_ddp", "popen"),
            ("gan_ddp_spawn", "spawn"),
            ("gan_ddp_fork", "fork"),
        ):
            strategy_registry.register(
                name,
                cls,
                description=f"Per-optimizer gradient averaging for GANs, start_method '{start_method}'",
                start_method=start_method,
            )


class AdversarialDDPStrategy(_AdversarialDDP, compat.pytorch_lightning.strategies.DDPStrategy):
    __doc__ = _AdversarialDDP.__doc__


if compat.unified is not None:

    class UnifiedAdversarialDDPStrategy(_AdversarialDDP, compat.unified.strategies.DDPStrategy):
        """:class:`AdversarialDDPStrategy` for ``lightning.pytorch.Trainer`` (registered there under the
        same names: ``Trainer(strategy="gan_ddp")`` works with either package)."""

else:
    UnifiedAdversarialDDPStrategy = None


def _parameters_of(optimizer: Optimizer) -> list[nn.Parameter]:
    return [p for group in optimizer.param_groups for p in group["params"]]


def _buckets(tensors: Iterable[Tensor], max_bytes: int) -> list[list[Tensor]]:
    """Consecutive groups of tensors of one dtype and device, each at most ``max_bytes`` (or one tensor)."""
    buckets: list[list[Tensor]] = []
    size = 0
    for t in tensors:
        nbytes = t.numel() * t.element_size()
        last = buckets[-1] if buckets else None
        if (
            last is None
            or size + nbytes > max_bytes
            or (t.dtype, t.device) != (last[0].dtype, last[0].device)
        ):
            buckets.append([t])
            size = nbytes
        else:
            last.append(t)
            size += nbytes
    return buckets


def _all_reduce_mean(tensors: list[Tensor], world_size: int, bucket_bytes: int) -> None:
    """In-place mean over processes, one asynchronous all-reduce per bucket."""
    pending = []
    for bucket in _buckets(tensors, bucket_bytes):
        flat = torch.cat([t.reshape(-1) for t in bucket]).div_(world_size)
        pending.append((dist.all_reduce(flat, async_op=True), flat, bucket))
    for work, flat, bucket in pending:
        work.wait()
        _copy_back(flat, bucket)


def _copy_back(flat: Tensor, tensors: list[Tensor]) -> None:
    for t, chunk in zip(tensors, flat.split([t.numel() for t in tensors]), strict=True):
        t.copy_(chunk.view_as(t))


def prepare_for_distributed(trainer: Any) -> None:
    """Make a multi-process run of an :class:`~gan_zoo.core.AdversarialModule` correct and GAN-safe.

    * Every process is reseeded with ``seed + rank``. Lightning seeds all processes alike, so without
      this each process would draw the *same* latents (and dropout masks, penalty mixing weights), and
      the fake half of the global batch would be ``world_size`` copies of one per-process batch.
    * Plain ``DDPStrategy`` gets ``find_unused_parameters=True`` (with a note recommending
      ``gan_ddp``): a D update leaves G without gradients, which its reducer otherwise rejects.
    * FSDP is refused with the reason (see the README's "Many GPUs and machines").
    """
    strategy = trainer.strategy
    if compat.is_instance_of(strategy, "strategies.FSDPStrategy"):
        raise ValueError(
            "gan_zoo's models do not support FSDP: it shards the whole LightningModule, while each "
            "update toggles one network's parameters and sample() runs the (EMA) generator outside "
            "FSDP's forward, on weights that are then sharded. Every zoo model fits on one GPU: use "
            "strategy='gan_ddp'."
        )
    if trainer.world_size == 1:
        return
    # Lightning registers this for NCCL only. A gloo group left to the interpreter's teardown can abort
    # the process after training has finished ("terminate called without an active exception",
    # SIGABRT), which a launcher reports as a failed run.
    atexit.unregister(_destroy_process_group)  # once, however many fits the process runs
    atexit.register(_destroy_process_group)
    torch.manual_seed((torch.initial_seed() + trainer.global_rank) % 2**63)
    if compat.is_exactly(strategy, "strategies.DDPStrategy") and compat.enable_find_unused_parameters(
        strategy
    ):
        compat.rank_zero_info(
            "gan_zoo: enabling DDP's find_unused_parameters (each network's update leaves the other "
            "without gradients). strategy='gan_ddp' avoids its per-step graph walk and communication "
            "of both networks."
        )


def _destroy_process_group() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


AdversarialDDPStrategy.register_strategies(compat.pytorch_lightning.strategies.StrategyRegistry)
if UnifiedAdversarialDDPStrategy is not None:
    UnifiedAdversarialDDPStrategy.register_strategies(compat.unified.strategies.StrategyRegistry)
