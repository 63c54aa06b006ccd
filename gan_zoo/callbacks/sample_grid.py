"""Save a grid of samples from the fixed noise every few epochs and at the end of training."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.loggers import TensorBoardLogger, WandbLogger
from pytorch_lightning.utilities import rank_zero_only
from torch import Tensor
from torchvision.utils import make_grid, save_image


class SampleGrid(pl.Callback):
    """Writes ``<run dir>/samples/epoch=NNNN.png`` and sends the grid to the active logger.

    The grid is ``pl_module.sample(z=pl_module.fixed_noise, y=pl_module.fixed_labels)``: the same
    latents every time, so successive grids show training progress. Conditional models get one row per
    class. TensorBoard receives an image summary, W&B an image; other loggers get only the PNG.

    Args:
        every_n_epochs: write a grid after every n-th epoch (and always when training ends).
        dirname: subdirectory of the run directory for the PNG files.
    """

    def __init__(self, every_n_epochs: int = 1, dirname: str = "samples") -> None:
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1, got {every_n_epochs}")
        self.every_n_epochs = every_n_epochs
        self.dirname = dirname
        self._last_written_epoch: int | None = None
        self.last_path: Path | None = None

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if (trainer.current_epoch + 1) % self.every_n_epochs == 0:
            self._write(trainer, pl_module)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._last_written_epoch != trainer.current_epoch:
            self._write(trainer, pl_module)

    @rank_zero_only
    def _write(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        labels = pl_module.fixed_labels if pl_module.conditional else None
        images = pl_module.sample(z=pl_module.fixed_noise, y=labels)
        columns = (
            images.shape[0] // pl_module.num_classes
            if pl_module.conditional
            else round(images.shape[0] ** 0.5)
        )
        grid = make_grid(
            images.cpu(), nrow=max(columns, 1), normalize=True, value_range=(-1, 1), pad_value=1.0
        )
        path = (
            Path(trainer.log_dir or trainer.default_root_dir)
            / self.dirname
            / f"epoch={trainer.current_epoch:04d}.png"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        save_image(grid, path)
        self._send_to_loggers(trainer, grid)
        self._last_written_epoch = trainer.current_epoch
        self.last_path = path

    @staticmethod
    def _send_to_loggers(trainer: pl.Trainer, grid: Tensor) -> None:
        for logger in trainer.loggers:
            if isinstance(logger, TensorBoardLogger):
                logger.experiment.add_image("samples", grid, global_step=trainer.global_step)
            elif isinstance(logger, WandbLogger):
                logger.log_image("samples", [grid], step=trainer.global_step)
