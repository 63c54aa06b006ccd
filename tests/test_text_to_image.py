"""GAN-INT-CLS: the matching-aware discriminator's three terms, interpolation, conditioning, encoders."""

from __future__ import annotations

import math
import sys
import types

import pytest
import torch
from conftest import build_tiny

from gan_zoo.data.text import as_captions, decode_text, encode_text
from gan_zoo.layers.text_encoders import CharCNNEncoder, SentenceTransformerEncoder, build_text_encoder
from gan_zoo.losses import Hinge, NonSaturating
from gan_zoo.models import TextToImageGAN
from gan_zoo.models.text_to_image import CaptionStep, interpolate, matching_aware_loss
from gan_zoo.registry import UnknownNameError


def tiny(**overrides) -> TextToImageGAN:
    return build_tiny("TextToImageGAN", **overrides)


def captions(*texts: str) -> torch.Tensor:
    return as_captions(list(texts), len(texts), 32)


def log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x))


# ------------------------------------------------------------------------------------ the losses
def test_matching_aware_loss_on_known_logits():
    real, wrong, fake = torch.tensor([2.0]), torch.tensor([-1.0]), torch.tensor([0.5])
    # Algorithm 1: L_D = log s_r + (log(1 − s_w) + log(1 − s_f)) / 2, maximized; log(1 − σ(x)) = log σ(−x)
    expected = -(log_sigmoid(2.0) + 0.5 * log_sigmoid(1.0) + 0.5 * log_sigmoid(-0.5))
    assert matching_aware_loss(NonSaturating(), real, wrong, fake).item() == pytest.approx(expected)
    # any objective: (1 − w) d_loss(s_r, s_f) + w d_loss(s_r, s_w); hinge: relu(1 − r) + relu(1 + f)
    hinge = matching_aware_loss(Hinge(), real, wrong, fake, mismatch_weight=0.25)
    assert hinge.item() == pytest.approx(0.75 * (0 + 1.5) + 0.25 * (0 + 0.0))
    # w = 0: a plain conditional GAN, the mismatching pair plays no part
    assert matching_aware_loss(
        NonSaturating(), real, torch.tensor([50.0]), fake, 0.0
    ).item() == pytest.approx(-(log_sigmoid(2.0) + log_sigmoid(-0.5)))


def test_discriminator_step_scores_the_three_pairs():
    model = tiny()
    real, fake = torch.zeros(2, 1, 16, 16), torch.ones(2, 1, 16, 16)
    text, wrong = captions("a small dark one", "a large light two"), captions("a small dark nine", "a six")
    matching = model.embed(text)
    logits = {("real", True): 2.0, ("real", False): -1.0, ("fake", True): 0.5}
    seen = []

    def score(images, embedding):
        key = ("real" if images is real else "fake", torch.allclose(embedding, matching))
        seen.append(key)
        return torch.full((images.shape[0],), logits[key])

    model.score = score
    terms = model.discriminator_step(CaptionStep(real, text, fake, text, wrong_text=wrong))
    assert sorted(seen) == sorted(logits)  # (x, h), (x, ĥ), (x̂, h): each pair scored once
    expected = -(log_sigmoid(2.0) + 0.5 * log_sigmoid(1.0) + 0.5 * log_sigmoid(-0.5))
    assert terms["loss"].item() == pytest.approx(expected)
    assert terms["real"].item() == pytest.approx(torch.sigmoid(torch.tensor(2.0)).item())
    assert terms["wrong"].item() == pytest.approx(torch.sigmoid(torch.tensor(-1.0)).item())
    assert terms["fake"].item() == pytest.approx(torch.sigmoid(torch.tensor(0.5)).item())


class RecordingGenerator(torch.nn.Module):
    """A stand-in G that records its (z, embedding) inputs and draws black images."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, z, embedding):
        self.inputs.append((z, embedding))
        return torch.zeros(z.shape[0], 1, 16, 16)


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


# φ(t) of four captions, and D(x, h) = h₁ + h₂: the scores of the matching pairs are 2, 4, 4, −2
EMBEDDINGS = torch.tensor([[0.0, 2.0], [4.0, 0.0], [2.0, 2.0], [0.0, -2.0]])
FAKE_TERM = (softplus(-2) + softplus(-4) + softplus(-4) + softplus(2)) / 4  # non-saturating −log σ(s_f)


def generator_step_on_known_embeddings(model: TextToImageGAN) -> dict[str, torch.Tensor]:
    """G's step terms with φ(t) = EMBEDDINGS, D(x, h) = h₁ + h₂ and a :class:`RecordingGenerator`."""
    text = captions("a small dark one", "a large light two", "a small light three", "a large dark four")
    model.embed = lambda t: EMBEDDINGS
    model.score = lambda images, embedding: embedding.sum(1)
    model.generator = RecordingGenerator()
    return model.generator_step(CaptionStep(torch.zeros(4, 1, 16, 16), text, torch.zeros(4, 1, 16, 16), text))


@pytest.mark.parametrize(
    ("beta", "mixed"),
    [
        # β t₁ + (1 − β) t₂ of the two halves: (0, 2) with (2, 2), (4, 0) with (0, −2)
        (0.5, [[1.0, 2.0], [2.0, -1.0]]),  # the paper's β = 0.5 (§4.3)
        (0.3, [[1.4, 2.0], [1.2, -1.4]]),
    ],
)
def test_interpolation_term_scores_g_on_mixed_embeddings(beta, mixed):
    # Reed et al. 2016, GAN-INT: G also maximizes E log D(G(z, β t₁ + (1 − β) t₂)), here with weight 2
    model = tiny(interpolation_weight=2.0, interpolation_beta=beta)
    terms = generator_step_on_known_embeddings(model)
    ((z, embedding),) = model.generator.inputs  # one new batch, of half the size, from fresh z
    assert z.shape == (2, model.latent_dim)
    torch.testing.assert_close(embedding, torch.tensor(mixed))
    interpolated = sum(softplus(-sum(row)) for row in mixed) / 2
    assert terms["interpolated"].item() == pytest.approx(interpolated, rel=1e-6)
    assert terms["loss"].item() == pytest.approx(FAKE_TERM + 2.0 * interpolated, rel=1e-6)


def test_without_interpolation_g_loss_is_the_fake_term_alone():
    model = tiny(interpolation_weight=0.0)
    terms = generator_step_on_known_embeddings(model)
    assert model.generator.inputs == [] and "interpolated" not in terms
    assert terms["loss"].item() == pytest.approx(FAKE_TERM, rel=1e-6)
    assert interpolate(torch.tensor([2.0]), torch.tensor([4.0]), 0.25).item() == 3.5  # 0.25·2 + 0.75·4


# ------------------------------------------------------------------------------------ conditioning
def test_the_caption_changes_the_image():
    model = tiny()
    z = model.sample_latent(1).expand(2, -1)
    same = model.sample(z=z, y="a small dark seven")
    assert torch.equal(same[0], same[1])
    different = model.sample(z=z, y=["a small dark seven", "a large light zero"])
    assert not torch.allclose(different[0], different[1])


def test_sample_accepts_captions_in_every_form_and_needs_some():
    model = tiny()
    assert model.sample(3, "a one").shape == (3, 1, 16, 16)
    assert model.sample(y=["a one", "a two"]).shape == (2, 1, 16, 16)
    assert model.sample(y=encode_text(["a one", "a two"], 128)).shape == (2, 1, 16, 16)
    assert model.sample(5).shape == (5, 1, 16, 16)  # the grid captions, cycled
    with pytest.raises(ValueError, match="no captions"):
        tiny(grid_captions=None).sample(2)
    with pytest.raises(ValueError, match="3 captions for 2 images"):
        model.sample(2, ["a", "b", "c"])


def test_grid_captions_come_from_the_data_when_not_given(trainer_factory):
    from gan_zoo.data import DigitsCaptions

    model = tiny(grid_captions=None)
    trainer_factory(limit_train_batches=1).fit(model, datamodule=DigitsCaptions(image_size=16, batch_size=16))
    rows = decode_text(model.fixed_text[::8])
    assert [row.split()[-1] for row in rows] == [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
    ]
    assert decode_text(model.fixed_text[:8]) == [rows[0]] * 8  # one caption per row of the grid


def test_trainable_encoder_learns_with_the_discriminator(trainer_factory):
    from gan_zoo.data import DigitsCaptions

    model = tiny(n_critic=2)  # one batch: a D update only
    encoder = model.text_encoder
    assert any(p is q for p in encoder.parameters() for q in model.discriminator.parameters())
    before = [p.detach().clone() for p in encoder.parameters()]
    trainer_factory(limit_train_batches=1).fit(model, datamodule=DigitsCaptions(image_size=16, batch_size=16))
    assert any(not torch.equal(b, p) for b, p in zip(before, encoder.parameters(), strict=True))


def test_uncaptioned_batches_are_refused_with_a_hint(digits, trainer_factory):
    with pytest.raises(ValueError, match="use a captioned data module"):
        trainer_factory(limit_train_batches=1).fit(tiny(), datamodule=digits)


# ------------------------------------------------------------------------------------ encoders
def test_char_cnn_embeds_a_caption_the_same_whatever_its_padding():
    encoder = CharCNNEncoder(embedding_dim=8, width=8, char_dim=4)
    short, long = encode_text(["a dark coat"], 16), encode_text(["a dark coat"], 40)
    assert torch.allclose(encoder(short), encoder(long), atol=1e-6)
    assert not torch.allclose(
        encoder(encode_text(["a dark coat"], 16)), encoder(encode_text(["a light bag"], 16))
    )


def test_unknown_encoders_list_the_choices():
    with pytest.raises(UnknownNameError, match="Valid names: char_cnn, sentence_transformer"):
        build_text_encoder("bert")


def test_sentence_encoder_needs_the_package_and_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # not installed
    with pytest.raises(ImportError, match="never downloads"):
        SentenceTransformerEncoder("all-MiniLM-L6-v2")


def test_sentence_encoder_loads_local_files_only_and_stays_frozen(monkeypatch):
    created = {}

    class FakeSentenceTransformer(torch.nn.Module):
        def __init__(self, name, device=None, local_files_only=False):
            super().__init__()
            created.update(
                name=name,
                local_files_only=local_files_only,
                offline=__import__("os").environ.get("HF_HUB_OFFLINE"),
            )
            self.weight = torch.nn.Parameter(torch.ones(1))

        def get_sentence_embedding_dimension(self):
            return 3

        def encode(self, sentences, convert_to_tensor, device):
            with torch.inference_mode():
                return torch.tensor([[len(s), s.count(" "), 1.0] for s in sentences])

    monkeypatch.setitem(
        sys.modules,
        "sentence_transformers",
        types.SimpleNamespace(SentenceTransformer=FakeSentenceTransformer),
    )
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    encoder = SentenceTransformerEncoder("/models/minilm")
    assert created == {"name": "/models/minilm", "local_files_only": True, "offline": "1"}
    assert "HF_HUB_OFFLINE" not in __import__("os").environ  # restored
    assert encoder.embedding_dim == 3 and not encoder.trainable and list(encoder.parameters()) == []
    assert torch.equal(
        encoder(encode_text(["a dark coat", "bag"], 16)), torch.tensor([[11.0, 2, 1], [3, 0, 1]])
    )
    model = tiny(text_encoder="sentence_transformer", text_encoder_options={"model": "/models/minilm"})
    assert model.text_encoder is not None and "text_encoder" not in dict(model.discriminator.named_children())
    assert model.sample(2, "a dark coat").shape == (2, 1, 16, 16)


# ------------------------------------------------------------------------------------ captions as bytes
def test_captions_round_trip_as_bytes():
    text = encode_text(["a small coat", "", "naïve"], 8)
    assert text.dtype == torch.uint8 and text.shape == (3, 8)
    assert decode_text(text) == ["a small ", "", "naïve"]  # cut after 8 bytes
    assert as_captions("one", 3, 8).shape == (3, 1, 8)
    with pytest.raises(ValueError, match="string, a list of strings or a uint8 tensor"):
        as_captions(7, 1, 8)
