"""docs/preemptible.md: its ``bash run`` blocks, with a tiny model on Digits instead of DCGAN on MNIST."""

from __future__ import annotations

from pathlib import Path

import torch
from markdown_blocks import run_page

REPO = Path(__file__).resolve().parents[1]
RUN = Path("runs") / "dcgan-digits" / "version_0" / "checkpoints"
#: 3 epochs of 4 batches (2 optimizer steps each), a checkpoint after every batch instead of every
#: 10 minutes, so the stop can be sent once training has begun.
TINY = (
    "--model DCGAN --model.latent_dim 8 --model.g_width 4 --model.d_width 4 --data Digits "
    "--data.image_size 16 --data.batch_size 16 --trainer.max_epochs 3 --trainer.limit_train_batches 4 "
    "--trainer.accelerator cpu --trainer.enable_progress_bar false --trainer.enable_model_summary false "
    "--seed_everything 0"
)
LAYER = "--config experiments/_base/preemptible.yaml"


def test_the_preemptible_page_runs(tmp_path):
    (tmp_path / "experiments").symlink_to(REPO / "experiments")
    stopped, resumed = run_page(
        REPO / "docs" / "preemptible.md",
        tmp_path,
        replacements={
            "--config experiments/dcgan/mnist.yaml": TINY,
            LAYER: f"{LAYER} --checkpoint.train_time_interval 0:00:00",  # after the layer, to override it
            "sleep 600": f"until [ -e {RUN / 'last.ckpt'} ]; do sleep 0.1; done",
        },
        env={"PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"},
    )
    assert "stopped with exit status 143" in stopped.stdout
    assert f"SIGTERM received: saved {RUN / 'last.ckpt'} at epoch 0" in stopped.stderr
    assert f"gan-zoo: resuming from {RUN / 'last.ckpt'}" in resumed.stderr
    assert torch.load(tmp_path / RUN / "last.ckpt", weights_only=True)["global_step"] == 24
