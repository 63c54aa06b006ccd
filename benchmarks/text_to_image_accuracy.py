"""Text to image: do images generated for captions never seen in training show the class they name?

Trains GAN-INT-CLS from a config (default experiments/text2image/fashion_mnist_cpu.yaml) or loads
--ckpt_path, writes captions for the data's test images with templates no training caption uses
(gan_zoo.data.generated_captions.HELD_OUT_TEMPLATES: "a picture of a dark, small coat", …; checked to
be absent from the training captions), generates one image per caption and measures with the shipped
domain classifier of the dataset (gan_zoo/metrics/weights/fashion_mnist.pt) how often the image shows
the caption's class — chance is 1 / 10. The same for captions of the training templates, and how
often size and tone follow the words (chance 1 / 2), for comparison.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/text_to_image_accuracy.py --out bench/text2image

writes results.json, captions_unseen.txt (every distinct held-out caption) and unseen_captions.png
(8 samples for one held-out caption per class, listed in unseen_captions.txt).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from torchvision.utils import save_image

from gan_zoo.cli import build_cli
from gan_zoo.data import to_uint8
from gan_zoo.data.generated_captions import (
    HELD_OUT_TEMPLATES,
    GeneratedCaptions,
    attributes,
    measure,
    write_captions,
)
from gan_zoo.metrics import FeatureExtractor, build_feature_extractor
from gan_zoo.metrics.datasets import snake_case
from gan_zoo.metrics.discriminability import caption_discriminability
from gan_zoo.models import TextToImageGAN

REPO = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=REPO / "experiments/text2image/fashion_mnist_cpu.yaml")
    parser.add_argument(
        "--ckpt_path",
        "--checkpoint",
        dest="checkpoint",
        type=Path,
        help="evaluate this checkpoint instead of training",
    )
    parser.add_argument("--epochs", type=int, help="override the config's max_epochs")
    parser.add_argument("--limit-batches", type=int, help="batches per epoch (a quick check)")
    parser.add_argument(
        "--classifier", help="a domain classifier name or .pt file (default: the one shipped for the data)"
    )
    parser.add_argument("--eval-images", type=int, default=10000, help="test images whose captions are used")
    parser.add_argument("--batch-size", type=int, default=500, help="images per generation batch")
    parser.add_argument("--out", type=Path, required=True, help="a new directory for the results")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        raise SystemExit(f"error: {args.out} exists and is not empty; choose another --out")
    args.out.mkdir(parents=True, exist_ok=True)

    cli_args = ["--config", str(args.config), "--trainer.enable_progress_bar", "false"]
    cli_args += ["--trainer.max_epochs", str(args.epochs)] if args.epochs else []
    cli_args += ["--trainer.limit_train_batches", str(args.limit_batches)] if args.limit_batches else []
    cli = build_cli(cli_args, run=False)
    data = cli.datamodule
    if not isinstance(data, GeneratedCaptions):
        raise SystemExit(f"error: {args.config} trains on {type(data).__name__}, not on generated captions")
    results: dict[str, object] = {"config": str(args.config)}
    if args.checkpoint:
        model = TextToImageGAN.load_from_checkpoint(args.checkpoint, map_location="cpu")
        results["checkpoint"] = str(args.checkpoint)
    else:
        wall, cpu = time.perf_counter(), time.process_time()
        cli.trainer.fit(cli.model, datamodule=data)
        results |= {"fit_seconds": time.perf_counter() - wall, "fit_cpu_seconds": time.process_time() - cpu}
        model = cli.model
    model = model.cpu().eval()
    classifier = build_feature_extractor(args.classifier or snake_case(data.source.__name__))

    source = data.source(data_dir=data.data_dir, download=data.download)
    train_images, train_labels = source.load_split("train")
    test_images, test_labels = (t[: args.eval_images] for t in source.load_split("test"))
    seen = {
        c
        for captions in write_captions(train_images, train_labels, data.names, data.templates)
        for c in captions
    }
    unseen = one_each(write_captions(test_images, test_labels, data.names, HELD_OUT_TEMPLATES))
    familiar = one_each(write_captions(test_images, test_labels, data.names, data.templates))
    if set(unseen) & seen:
        raise SystemExit("error: a held-out caption occurs verbatim in the training captions")
    (args.out / "captions_unseen.txt").write_text("\n".join(sorted(set(unseen))) + "\n")

    results |= {
        "classifier": classifier.name,
        "classifier_accuracy_real_test": getattr(classifier, "record", {}).get("test_accuracy"),
        "chance": 1 / classifier.num_logits,
        "eval_images": len(unseen),
        "unseen_caption_count": len(set(unseen)),
    }
    large, light = attributes(test_images, test_labels)  # what each caption says (test-set medians)
    for name, captions in (("unseen", unseen), ("training_template", familiar)):
        results |= judge(
            model, classifier, captions, test_images, test_labels, large, light, args.batch_size, name
        )
    grid(model, data.names, args.out / "unseen_captions.png", args.out / "unseen_captions.txt")
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(report(results, data.names))
    return results


def one_each(captions: list[list[str]]) -> list[str]:
    """One caption per image, the templates taken in turn."""
    return [options[i % len(options)] for i, options in enumerate(captions)]


def judge(
    model: TextToImageGAN,
    classifier: FeatureExtractor,
    captions: list[str],
    real_images: torch.Tensor,
    labels: torch.Tensor,
    large: torch.Tensor,
    light: torch.Tensor,
    batch_size: int,
    name: str,
) -> dict[str, object]:
    """Class accuracy of images generated for ``captions``, and how often their size and tone are on the
    side of the class median (measured on ``real_images``) that the caption asks for."""
    accuracy = caption_discriminability(model, classifier, captions, labels, batch_size=batch_size, seed=1)
    generator = torch.Generator().manual_seed(1)
    fakes = torch.cat(
        [
            to_uint8(model.sample(y=captions[i : i + batch_size], generator=generator))
            for i in range(0, len(captions), batch_size)
        ]
    )
    area, tone = measure(fakes)
    real_area, real_tone = measure(real_images)
    classes = range(int(labels.max()) + 1)
    median_area = torch.stack([real_area[labels == c].median() for c in classes])[labels]
    median_tone = torch.stack([real_tone[labels == c].median() for c in classes])[labels]
    return {
        f"accuracy_{name}": accuracy.overall,
        f"per_class_accuracy_{name}": accuracy.per_class,
        f"size_agreement_{name}": ((area > median_area) == large).float().mean().item(),
        f"tone_agreement_{name}": ((tone > median_tone) == light).float().mean().item(),
    }


def grid(model: TextToImageGAN, names: tuple[str, ...], png: Path, listing: Path) -> None:
    """One row per class, 8 samples each, for a held-out caption (attributes cycling over the rows)."""
    rows = []
    for c, name in enumerate(names):
        words = {"size": ("small", "large")[c % 2], "tone": ("dark", "light")[c // 2 % 2]}
        rows.append(HELD_OUT_TEMPLATES[c % len(HELD_OUT_TEMPLATES)].format(name=name, **words))
    images = model.sample(
        y=[row for row in rows for _ in range(8)], generator=torch.Generator().manual_seed(2)
    )
    save_image(images, png, nrow=8, normalize=True, value_range=(-1, 1), pad_value=1.0)
    listing.write_text("\n".join(rows) + "\n")


def report(results: dict, names: tuple[str, ...]) -> str:
    """The results as a Markdown table and a line of per-class accuracies."""
    lines = ["| measure | value |", "| --- | --- |"]
    if "fit_seconds" in results:
        wall, cpu = results["fit_seconds"] / 60, results["fit_cpu_seconds"] / 60
        lines.append(f"| text-to-image training | {wall:.1f} min wall, {cpu:.1f} CPU-min |")
    real = results["classifier_accuracy_real_test"]
    lines.append(f"| classifier '{results['classifier']}' on real test images | {real} |")
    lines.append(f"| images generated per caption set | {results['eval_images']} |")
    lines.append(f"| distinct unseen captions | {results['unseen_caption_count']} |")
    for name, title in (("unseen", "unseen captions"), ("training_template", "training-template captions")):
        size, tone = results[f"size_agreement_{name}"], results[f"tone_agreement_{name}"]
        accuracy, chance = results[f"accuracy_{name}"], results["chance"]
        lines.append(f"| class accuracy, {title} (chance {chance:.2f}) | {accuracy:.3f} |")
        lines.append(f"| size / tone as captioned, {title} (chance 0.5) | {size:.3f} / {tone:.3f} |")
    per_class = zip(names, results["per_class_accuracy_unseen"], strict=True)
    lines.append("\nper class, unseen captions: " + ", ".join(f"{n} {a:.2f}" for n, a in per_class))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
