"""AC-GAN analyses on constructed cases whose answers are known."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from torchmetrics.functional.image import structural_similarity_index_measure

from gan_zoo.data import to_uint8
from gan_zoo.metrics import FeatureExtractor
from gan_zoo.metrics.discriminability import (
    caption_discriminability,
    discriminability,
    discriminability_by_resolution,
    real_accuracy_by_resolution,
    resize_down_up,
)
from gan_zoo.metrics.diversity import class_diversity, mean_pairwise_msssim, msssim_betas, pairwise_msssim

sys.path.insert(0, str(Path(__file__).parent))
from metric_helpers import ClassPainter, Constructed, ImageBank


class BrightnessReader(FeatureExtractor):
    """A "classifier" of 10 classes: the class of an image is round(mean pixel / 25)."""

    name, num_features, num_logits = "brightness", 1, 10

    def extract(self, images):
        brightness = images.float().mean(dim=(1, 2, 3))
        predicted = (brightness / 25).round().long().clamp(0, 9)
        return brightness[:, None], torch.nn.functional.one_hot(predicted, 10).float()


def flat_images(values: list[float]) -> torch.Tensor:
    """One 16×16 gray image per uint8 value, in [-1, 1]."""
    return torch.tensor(values).view(-1, 1, 1, 1).expand(-1, 1, 16, 16) / 127.5 - 1


def test_discriminability_overall_and_per_class():
    brightness = [25.0 * c for c in range(10)]
    brightness[3] = 100.0  # class 3 comes out looking like class 4
    model = ClassPainter(flat_images(brightness), torch.zeros(10))
    result = discriminability(model, BrightnessReader(), samples_per_class=7, batch_size=5)
    assert result.per_class == [1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert result.overall == pytest.approx(0.9)
    assert result.samples_per_class == 7


def test_discriminability_needs_a_conditional_model_of_the_classifiers_classes():
    with pytest.raises(ValueError, match="needs a class-conditional model"):
        discriminability(ImageBank(torch.zeros(4, 1, 16, 16)), BrightnessReader(), 2)
    with pytest.raises(ValueError, match="knows 10 classes, the model 3"):
        discriminability(ClassPainter(flat_images([0, 1, 2]), torch.zeros(3)), BrightnessReader(), 2)


WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


class CaptionPainter(pl.LightningModule):
    """A text-to-image "generator" that paints the digit its caption names as brightness 25 × digit,
    except that it confuses "seven" with eight."""

    num_classes = 10

    def sample(self, n, y, *, generator=None):
        assert isinstance(y, list) and len(y) == n
        named = [next(d for d, word in enumerate(WORDS) if word in caption.split()) for caption in y]
        return flat_images([25.0 * (8 if d == 7 else d) for d in named])


def test_caption_discriminability_checks_each_image_against_its_captions_class():
    captions = [f"a {tone} {word}" for word in WORDS for tone in ("dark", "light", "small")]
    classes = torch.arange(10).repeat_interleave(3)
    captions, classes = captions[:-1], classes[:-1]  # nine has 2 captions, the others 3
    result = caption_discriminability(CaptionPainter(), BrightnessReader(), captions, classes, batch_size=4)
    assert result.per_class == [1.0] * 7 + [0.0, 1.0, 1.0]
    assert result.overall == pytest.approx(26 / 29)
    assert result.samples_per_class == 2
    with pytest.raises(ValueError, match="3 captions but 2 classes"):
        caption_discriminability(CaptionPainter(), BrightnessReader(), captions[:3], classes[:2])


@pytest.mark.parametrize(
    ("side", "scales"), [(16, 1), (28, 1), (32, 2), (63, 2), (64, 3), (128, 4), (256, 5), (512, 5)]
)
def test_msssim_scales_keep_the_coarsest_scale_at_16_pixels(side, scales):
    betas = msssim_betas(side)
    assert len(betas) == scales and sum(betas) == pytest.approx(1.0)
    assert betas[0] / betas[-1] == pytest.approx(
        0.0448 / (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)[scales - 1]
    )
    images = torch.randint(
        0, 256, (2, 1, side, side), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)
    )
    same = pairwise_msssim(images, images)  # torchmetrics accepts these settings at this size
    assert torch.allclose(same, torch.ones(2), atol=1e-5)


def test_msssim_refuses_images_below_16_pixels():
    with pytest.raises(ValueError, match="at least 16×16"):
        msssim_betas(8)


def test_one_scale_is_plain_ssim():
    g = torch.Generator().manual_seed(1)
    base = torch.rand(3, 1, 20, 20, generator=g)
    a, b = (
        to_uint8(base * 2 - 1),
        to_uint8((base + 0.2 * torch.rand(3, 1, 20, 20, generator=g)).clamp(0, 1) * 2 - 1),
    )
    expected = structural_similarity_index_measure(
        a.float() / 255, b.float() / 255, sigma=1.5, kernel_size=11, data_range=1.0, reduction="none"
    )
    assert torch.allclose(pairwise_msssim(a, b), expected, atol=1e-5)
    assert mean_pairwise_msssim(torch.stack([a[0], b[0], a[1], b[1]])) == pytest.approx(
        float(expected[:2].mean()), abs=1e-5
    )


def real_data(per_class: int = 40) -> Constructed:
    """Class 0: a ramp with mild noise; class 1: the ramp with more noise (both 16×16)."""
    g = torch.Generator().manual_seed(2)
    ramp = torch.linspace(0, 255, 16).view(1, 1, 1, 16).expand(per_class, 1, 16, 16)
    noise = torch.rand(2 * per_class, 1, 16, 16, generator=g) * 255
    images = torch.cat([0.8 * ramp + 0.2 * noise[:per_class], 0.5 * ramp + 0.5 * noise[per_class:]])
    labels = torch.arange(2).repeat_interleave(per_class)
    return Constructed(images.round().to(torch.uint8), labels)


def test_class_diversity_against_real_data():
    # Class 0 always draws the same image (no diversity); class 1 draws pure noise (all diversity).
    model = ClassPainter(torch.stack([flat_images([128])[0], flat_images([0])[0]]), torch.tensor([0.0, 1.0]))
    result = class_diversity(model, real_data(), pairs=10, batch_size=8)
    assert result.generated[0] == pytest.approx(1.0, abs=1e-5)
    assert result.generated[1] < 0.1
    assert result.generated[1] < result.real[1] < result.real[0] < 1.0
    assert result.share_at_least_as_diverse == 0.5 and result.pairs == 10


# ---------------------------------------------------------------------- discriminability vs resolution
def checkerboard(side: int = 16) -> torch.Tensor:
    """A one-pixel 0/255 checkerboard ``[1, 1, side, side]`` (uint8), all its content at full resolution."""
    rows, columns = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
    return ((rows + columns) % 2 * 255).to(torch.uint8).view(1, 1, side, side)


def test_resize_down_up_keeps_a_constant_image_and_flattens_a_checkerboard():
    constant = torch.full((2, 3, 16, 16), 77, dtype=torch.uint8)
    for size in (16, 8, 4, 2):
        assert torch.equal(resize_down_up(constant, size), constant)
    board = checkerboard()
    assert torch.equal(resize_down_up(board, 16), board)
    # Down by 2 the antialiasing filter weighs 4 pixels per axis (1/8, 3/8, 3/8, 1/8): odd and even
    # pixels get half the weight each, 127.5 (→ 128), except where the image border clips the filter.
    halved = resize_down_up(board, 8)
    assert halved.shape == board.shape
    assert set(halved[..., 2:-2, 2:-2].unique().tolist()) == {128}
    assert int(halved.max()) - int(halved.min()) <= 5  # from a contrast of 255


class ContrastReader(FeatureExtractor):
    """A 2-class "classifier": class 1 when the pixels' standard deviation exceeds 50, else class 0."""

    name, num_features, num_logits = "contrast", 1, 2

    def extract(self, images):
        spread = images.float().flatten(1).std(dim=1)
        return spread[:, None], torch.nn.functional.one_hot((spread > 50).long(), 2).float()


class CountingPainter(ClassPainter):
    def __init__(self, painted, noise):
        super().__init__(painted, noise)
        self.calls = 0

    def sample(self, n, y=None, *, generator=None):
        self.calls += 1
        return super().sample(n, y, generator=generator)


def test_discriminability_by_resolution_loses_the_class_carried_by_fine_detail():
    # Class 0 is flat gray, class 1 a checkerboard of the same mean: only full resolution tells them apart.
    flat_gray = torch.full((1, 1, 16, 16), 127.5 / 127.5 - 1)
    board = checkerboard().float() / 127.5 - 1
    model = CountingPainter(torch.cat([flat_gray, board]), torch.zeros(2))
    results = discriminability_by_resolution(
        model, ContrastReader(), [16, 8], samples_per_class=6, batch_size=4
    )
    assert [r.per_class for r in results] == [[1.0, 1.0], [1.0, 0.0]]
    assert [r.overall for r in results] == [1.0, 0.5]
    assert model.calls == 3  # 12 samples in batches of 4, generated once for both resolutions


def test_real_accuracy_by_resolution_treats_real_images_the_same_way():
    flat_gray = torch.full((1, 1, 16, 16), 128, dtype=torch.uint8)
    images = torch.cat([flat_gray.expand(3, -1, -1, -1), checkerboard().expand(5, -1, -1, -1)])
    data = Constructed(images, torch.tensor([0] * 3 + [1] * 5))
    results = real_accuracy_by_resolution(data, ContrastReader(), [16, 8, 4], batch_size=3)
    assert [r.per_class for r in results] == [[1.0, 1.0], [1.0, 0.0], [1.0, 0.0]]
    assert [r.overall for r in results] == [1.0, 3 / 8, 3 / 8]
    assert results[0].samples_per_class == 3
    assert [r.overall for r in real_accuracy_by_resolution(data, ContrastReader(), [16], num_images=3)] == [
        1.0
    ]
