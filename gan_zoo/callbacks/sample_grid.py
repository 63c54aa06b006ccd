"""Save a grid of samples from the fixed noise every few epochs and at the end of training."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import Tensor
from torchvision.utils import make_grid, save_image

from gan_zoo.lightning_compat import Callback, is_instance_of


class SampleGrid(Callback):
    """Writes ``<run dir>/samples/epoch=NNNN.png`` and sends the grid to the active logger.

    The grid is ``pl_module.sample(z=pl_module.fixed_noise, y=pl_module.fixed_labels)``: the same
    latents every time, so successive grids show training progress. Conditional models get one row per
    class. TensorBoard receives an image summary, W&B an image; other loggers get only the PNG.

    Args:
        every_n_epochs: write a grid after every n-th epoch; when training ends, a grid of the final
            weights is written as ``final.png`` unless that epoch's grid already exists.
        dirname: subdirectory of the run directory for the PNG files.
        min_cell_size: small images are enlarged (nearest neighbour) until each cell is at least this
            many pixels wide, so a grid of 16×16 digits is readable; 0 keeps the native size.
    """

    def __init__(self, every_n_epochs: int = 1, dirname: str = "samples", min_cell_size: int = 64) -> None:
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1, got {every_n_epochs}")
        self.every_n_epochs = every_n_epochs
        self.dirname = dirname
        self.min_cell_size = min_cell_size
        self._last_written_step: int | None = None
        self.last_path: Path | None = None

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if (trainer.current_epoch + 1) % self.every_n_epochs == 0:
            self._write(trainer, pl_module, f"epoch={trainer.current_epoch:04d}.png")

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._last_written_step != trainer.global_step:  # the final weights have no grid yet
            self._write(trainer, pl_module, "final.png")

    def _write(self, trainer: pl.Trainer, pl_module: pl.LightningModule, filename: str) -> None:
        # Every process takes part: trainer.log_dir broadcasts rank 0's directory (a collective), and
        # the "already written" state must agree everywhere. Only rank 0 samples and saves.
        directory = Path(trainer.log_dir or trainer.default_root_dir) / self.dirname
        self._last_written_step = trainer.global_step
        if trainer.is_global_zero:
            self._save(trainer, pl_module, directory / filename)

    def _save(self, trainer: pl.Trainer, pl_module: pl.LightningModule, path: Path) -> None:
        labels = pl_module.fixed_labels if pl_module.conditional else None
        # A model may draw more than z (SinGAN: its finer noise maps). Not from the training's RNG
        # streams: training must not depend on the grids, and a run resumed from a checkpoint written
        # before this epoch-end hook must draw what the uninterrupted run draws.
        cuda = [pl_module.device] if pl_module.device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):
            images = pl_module.sample(z=pl_module.fixed_noise, y=labels).cpu()
        n = images.shape[0]
        columns = n // pl_module.num_classes if pl_module.conditional else round(n**0.5)
        scale = max(1, -(-self.min_cell_size // images.shape[-1]))  # ceil division
        if scale > 1:
            images = F.interpolate(images, scale_factor=scale, mode="nearest")
        grid = make_grid(images, nrow=max(columns, 1), normalize=True, value_range=(-1, 1), pad_value=1.0)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_image(grid, path)
        self._send_to_loggers(trainer, grid)
        self.last_path = path

    @staticmethod
    def _send_to_loggers(trainer: pl.Trainer, grid: Tensor) -> None:
        for logger in trainer.loggers:
            if is_instance_of(logger, "loggers.TensorBoardLogger"):
                logger.experiment.add_image("samples", grid, global_step=trainer.global_step)
            elif is_instance_of(logger, "loggers.WandbLogger"):
                logger.log_image("samples", [grid], step=trainer.global_step)
