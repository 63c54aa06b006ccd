"""Evaluation throughput and peak memory of the FID callback at 10 000 generated samples, offline.

    python benchmarks/eval_throughput.py
    python benchmarks/eval_throughput.py --inception-samples 0          # the domain classifier only
    python benchmarks/eval_throughput.py --json runs/eval_throughput.json

The model is an untrained DCGAN at 1×32×32 (what ``experiments/dcgan/fashion_mnist.yaml`` trains;
the metric's cost does not depend on the weights). The FID callback runs as in training, through
``Trainer.validate``, in two states of its real-feature cache: cold (the real images are embedded
first) and warm (only the generated images are). Two feature extractors:

* ``fashion_mnist``: the shipped domain classifier, at ``--num-samples`` (10 000) generated images
  against the Fashion-MNIST training split (``/usr/share/datasets/fashion-mnist`` when installed,
  else 60 000 random images of the same shape);
* ``inception``: the FID Inception-v3 architecture with *random* weights (the real weights are a
  download; speed and memory do not depend on the values, the FID printed does and means nothing),
  at ``--inception-samples`` images against as many real ones, since on a CPU it runs at a few
  images per second.

To show where the time goes, each extractor also gets two parts alone: ``model.sample`` turning
latents into uint8 images, and the extractor embedding uint8 images. Memory is the resident set
size, sampled every 5 ms by a thread: ``+MB`` is its peak above the size when the row started (what
that row needed on top of what the process already held: the allocator keeps freed memory, so a
warm row after a cold one shows little), ``process MB`` the peak of the whole process so far; on
CUDA the peak of allocated device memory is added. The cold row includes the data module's setup
(reading the 60 000 training images and resizing them to 32×32) and embedding them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytorch_lightning as pl
import torch
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

from gan_zoo.callbacks import FID
from gan_zoo.data import FashionMNIST
from gan_zoo.metrics import FeatureExtractor, build_feature_extractor
from gan_zoo.metrics.inception import InceptionV3
from gan_zoo.metrics.streams import generated_batches
from gan_zoo.models import DCGAN

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import cpu_name, write_report
from train_throughput import RandomImages

FASHION = Path("/usr/share/datasets/fashion-mnist")
SHAPE = (1, 32, 32)


# ---------------------------------------------------------------------------------------------- memory
def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    """Peak resident set size above the size at entry (and peak CUDA memory), sampled by a thread."""

    def __enter__(self) -> PeakMemory:
        self.start = self.peak = resident_bytes()
        self.running = True
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        return self

    def _watch(self) -> None:
        while self.running:
            self.peak = max(self.peak, resident_bytes())
            time.sleep(0.005)

    def __exit__(self, *exc) -> None:
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, resident_bytes())
        self.host_mb = (self.peak - self.start) / 2**20
        self.process_mb = self.peak / 2**20
        self.device_mb = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None


def measured(what: Callable[[], object], images: int) -> dict:
    with PeakMemory() as memory:
        start = time.perf_counter()
        value = what()
        seconds = time.perf_counter() - start
    row = {
        "images": images,
        "seconds": seconds,
        "img_per_s": images / seconds,
        "peak_mb": memory.host_mb,
        "process_peak_mb": memory.process_mb,
    }
    if memory.device_mb is not None:
        row["peak_device_mb"] = memory.device_mb
    if isinstance(value, dict):
        row["values"] = value
    return row


# ---------------------------------------------------------------------------------------------- pieces
def random_inception() -> InceptionV3:
    """The FID Inception-v3 with random weights: the real network's cost, no download."""
    with (
        tempfile.NamedTemporaryFile(suffix=".pth") as empty,
        mock.patch.object(FeatureExtractorInceptionV3, "load_state_dict"),
        mock.patch("torch.load", return_value={}),
    ):
        return InceptionV3(weights_path=empty.name)


def real_data(num_real: int | None) -> tuple[pl.LightningDataModule, str]:
    """Fashion-MNIST at 32×32 when installed, else random uint8 images of that shape. One image is held
    out as the validation split, so that ``trainer.validate`` runs (and with it the callback)."""
    if FASHION.is_dir():
        data, source = FashionMNIST(image_size=32, val_split=1), "Fashion-MNIST"
    else:
        data, source = RandomImages(SHAPE, n=num_real or 60_000, val_split=1), "random images"
    return data, source


def run_callback(model, data, extractor: FeatureExtractor, samples: int, num_real, batch, cache) -> dict:
    """One FID evaluation by the callback, as ``trainer.validate`` runs it."""
    callback = FID(
        num_samples=samples,
        num_real_samples=num_real,
        batch_size=batch,
        feature_extractor=extractor,  # an instance is used as is (see build_feature_extractor)
        cache_dir=cache,
        progress_bar=False,
    )
    trainer = pl.Trainer(
        accelerator="auto",
        devices=1,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[callback],
        default_root_dir=cache,
    )
    trainer.validate(model, datamodule=data, verbose=False)
    return callback.results


def sample_only(model, samples: int, batch: int) -> None:
    for _ in generated_batches(model, samples, batch):
        pass


def features_only(extractor: FeatureExtractor, images: torch.Tensor, batch: int, device) -> None:
    extractor.to(device)
    for chunk in images.split(batch):
        extractor.extract(chunk.to(device))


def rows_for(name: str, extractor, model, data, samples: int, num_real, batch: int) -> list[dict]:
    device = model.device
    fakes = torch.randint(0, 256, (samples, *SHAPE), dtype=torch.uint8)
    rows = [
        {"part": "model.sample → uint8"} | measured(lambda: sample_only(model, samples, batch), samples),
        {"part": "extractor alone"}
        | measured(lambda: features_only(extractor, fakes, batch, device), samples),
    ]
    with tempfile.TemporaryDirectory() as cache:
        for state in ("cold", "warm"):
            real = num_real or 60_000
            images = samples + (real if state == "cold" else 0)
            row = measured(
                lambda: run_callback(model, data, extractor, samples, num_real, batch, cache), images
            )
            rows.append({"part": f"FID callback, real cache {state}", "real_images": real} | row)
    return [{"extractor": name, "batch_size": batch} | row for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=250, help="the FID callback's default")
    parser.add_argument(
        "--real-samples", type=int, help="real images the domain classifier embeds (default: all 60 000)"
    )
    parser.add_argument("--inception-samples", type=int, default=500, help="0 skips Inception")
    parser.add_argument("--inception-batch-size", type=int, default=50)
    parser.add_argument("--threads", type=int, default=min(2, torch.get_num_threads()))
    parser.add_argument("--json", type=Path, default=Path("runs/eval_throughput.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    pl.seed_everything(0, verbose=False)

    model = DCGAN(image_shape=SHAPE)
    if torch.cuda.is_available():
        model.cuda()
    data, source = real_data(None)
    load = os.getloadavg()[0]
    print(f"{cpu_name()}, {args.threads} threads, torch {torch.__version__}, device {model.device}")
    print(f"generator: DCGAN 1×32×32 (untrained); real images: {source} training split")
    results = rows_for(
        "fashion_mnist",
        build_feature_extractor("fashion_mnist"),
        model,
        data,
        args.num_samples,
        args.real_samples,
        args.batch_size,
    )
    if args.inception_samples:
        n = args.inception_samples
        results += rows_for(
            "inception (random weights)", random_inception(), model, data, n, n, args.inception_batch_size
        )

    print(f"{'extractor':28} {'part':30} {'images':>7} {'s':>7} {'img/s':>8} {'+MB':>6} {'process MB':>10}")
    for row in results:
        print(
            f"{row['extractor']:28} {row['part']:30} {row['images']:7d} {row['seconds']:7.1f} "
            f"{row['img_per_s']:8.0f} {row['peak_mb']:6.0f} {row['process_peak_mb']:10.0f}"
            + (f"  device {row['peak_device_mb']:.0f} MB" if "peak_device_mb" in row else "")
        )
    write_report(
        args.json,
        results,
        load,
        threads=args.threads,
        num_samples=args.num_samples,
        inception_samples=args.inception_samples,
        real_images=source,
    )


if __name__ == "__main__":
    main()
