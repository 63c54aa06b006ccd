"""Text-to-image on Fashion-MNIST: do images generated for *unseen* captions show the named class?

Trains GAN-INT-CLS from experiments/text2image/fashion_mnist_cpu.yaml (or loads --checkpoint), trains a
small classifier on the real training images, then writes captions for the test images with templates
no training caption uses (gan_zoo.data.generated_captions.HELD_OUT_TEMPLATES: "a picture of a dark,
small coat", …; checked to be absent from the training captions), generates one image per caption and
reports how often the classifier finds the caption's class, plus how well size and tone follow the words.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/text_to_image_fashion.py --out bench/text2image
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from torchvision.utils import save_image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fashion_classifier import predict, train_classifier

from gan_zoo.cli import build_cli
from gan_zoo.data import FashionMNIST, FashionMNISTCaptions, normalize
from gan_zoo.data.generated_captions import (
    HELD_OUT_TEMPLATES,
    TRAIN_TEMPLATES,
    attributes,
    measure,
    write_captions,
)
from gan_zoo.data.transforms import resize_uint8
from gan_zoo.models import TextToImageGAN

REPO = Path(__file__).resolve().parents[1]


def train_model(config: Path, epochs: int | None, limit_batches: int | None) -> tuple[TextToImageGAN, float]:
    args = ["--config", str(config), "--trainer.enable_progress_bar", "false"]
    args += ["--trainer.max_epochs", str(epochs)] if epochs else []
    args += ["--trainer.limit_train_batches", str(limit_batches)] if limit_batches else []
    cli = build_cli(args, run=False)
    start = time.time()
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    return cli.model, time.time() - start


def caption_set(images: torch.Tensor, labels: torch.Tensor, templates: tuple[str, ...]) -> list[list[str]]:
    return write_captions(images, labels, FashionMNISTCaptions.names, templates)


def one_each(captions: list[list[str]]) -> list[str]:
    """One caption per image, the templates taken in turn."""
    return [options[i % len(options)] for i, options in enumerate(captions)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=REPO / "experiments/text2image/fashion_mnist_cpu.yaml")
    parser.add_argument("--checkpoint", type=Path, help="evaluate this checkpoint instead of training")
    parser.add_argument("--epochs", type=int, help="override the config's max_epochs")
    parser.add_argument("--limit-batches", type=int, help="batches per epoch (a quick check)")
    parser.add_argument("--classifier-epochs", type=int, default=2)
    parser.add_argument("--eval-images", type=int, default=10000, help="test images whose captions are used")
    parser.add_argument("--out", type=Path, required=True, help="a new directory for the results")
    args = parser.parse_args()
    if args.out.exists() and any(args.out.iterdir()):
        raise SystemExit(f"error: {args.out} exists and is not empty; choose another --out")
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)

    if args.checkpoint:
        model, fit_seconds = TextToImageGAN.load_from_checkpoint(args.checkpoint, map_location="cpu"), None
    else:
        model, fit_seconds = train_model(args.config, args.epochs, args.limit_batches)
    model = model.cpu().eval()
    size = model.image_shape[-1]

    source = FashionMNIST(download=True)
    train_images, train_labels = source.load_split("train")
    test_images, test_labels = source.load_split("test")
    test_images, test_labels = test_images[: args.eval_images], test_labels[: args.eval_images]

    start = time.time()
    real = normalize(resize_uint8(train_images, size))
    classifier = train_classifier(real, train_labels, args.classifier_epochs)
    classifier_seconds = time.time() - start
    real_accuracy = (
        (predict(classifier, normalize(resize_uint8(test_images, size))) == test_labels).float().mean()
    )

    seen = {c for captions in caption_set(train_images, train_labels, TRAIN_TEMPLATES) for c in captions}
    unseen = one_each(caption_set(test_images, test_labels, HELD_OUT_TEMPLATES))
    assert not set(unseen) & seen, "a held-out caption occurs verbatim in the training captions"
    familiar = one_each(caption_set(test_images, test_labels, TRAIN_TEMPLATES))

    results: dict[str, object] = {
        "fit_seconds": fit_seconds,
        "classifier_seconds": classifier_seconds,
        "classifier_accuracy_real_test": real_accuracy.item(),
        "unseen_caption_count": len(set(unseen)),
        "eval_images": len(unseen),
    }
    large, light = attributes(test_images, test_labels)  # what each caption says (test-set medians)
    real_area, real_tone = measure(test_images)
    for name, captions in (("unseen", unseen), ("training_template", familiar)):
        generator = torch.Generator().manual_seed(1)
        fakes = torch.cat([model.sample(y=chunk, generator=generator) for chunk in _chunks(captions, 500)])
        predicted = predict(classifier, fakes)
        results[f"accuracy_{name}"] = (predicted == test_labels).float().mean().item()
        results[f"per_class_accuracy_{name}"] = [
            (predicted[test_labels == c] == c).float().mean().item() for c in range(10)
        ]
        area, tone = measure(((fakes + 1) * 127.5).round().clamp(0, 255).to(torch.uint8))
        medians_area = torch.stack([real_area[test_labels == c].median() for c in range(10)])[test_labels]
        medians_tone = torch.stack([real_tone[test_labels == c].median() for c in range(10)])[test_labels]
        results[f"size_agreement_{name}"] = ((area > medians_area) == large).float().mean().item()
        results[f"tone_agreement_{name}"] = ((tone > medians_tone) == light).float().mean().item()
        if name == "unseen":
            _grid(model, args.out / "unseen_captions.png", args.out / "unseen_captions.txt")

    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    _report(results)


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _grid(model: TextToImageGAN, png: Path, listing: Path) -> None:
    """One row per class, 8 samples each, for a held-out caption (attributes cycling over the rows)."""
    rows = []
    for c, name in enumerate(FashionMNISTCaptions.names):
        words = {"size": ("small", "large")[c % 2], "tone": ("dark", "light")[c // 2 % 2]}
        rows.append(HELD_OUT_TEMPLATES[c % len(HELD_OUT_TEMPLATES)].format(name=name, **words))
    images = model.sample(
        y=[row for row in rows for _ in range(8)], generator=torch.Generator().manual_seed(2)
    )
    save_image(images, png, nrow=8, normalize=True, value_range=(-1, 1), pad_value=1.0)
    listing.write_text("\n".join(rows) + "\n")


def _report(results: dict) -> None:
    print("| measure | value |\n| --- | --- |")
    if results["fit_seconds"] is not None:
        print(f"| text-to-image training (wall) | {results['fit_seconds'] / 60:.1f} min |")
    print(f"| classifier accuracy, real test images | {results['classifier_accuracy_real_test']:.3f} |")
    print(f"| distinct unseen captions | {results['unseen_caption_count']} |")
    print(f"| images generated per caption set | {results['eval_images']} |")
    for name, title in (("unseen", "unseen captions"), ("training_template", "training-template captions")):
        size, tone = results[f"size_agreement_{name}"], results[f"tone_agreement_{name}"]
        print(f"| class accuracy, {title} (chance 0.1) | {results[f'accuracy_{name}']:.3f} |")
        print(f"| size / tone as captioned, {title} (chance 0.5) | {size:.3f} / {tone:.3f} |")
    names, accuracy = FashionMNISTCaptions.names, results["per_class_accuracy_unseen"]
    print(
        "\nper class, unseen captions: "
        + ", ".join(f"{n} {a:.2f}" for n, a in zip(names, accuracy, strict=True))
    )


if __name__ == "__main__":
    main()
