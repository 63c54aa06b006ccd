"""gan_zoo as a library: the public API, and a pretrained generator inside someone else's LightningModule."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from conftest import build_tiny, make_trainer

import gan_zoo
from gan_zoo.callbacks import __all__ as CALLBACKS
from gan_zoo.data import ImageDataModule
from gan_zoo.losses import LOSSES, REGULARIZERS
from gan_zoo.models import MODELS

REPO = Path(__file__).resolve().parents[1]

# docs/python.md's "Reusing a trained generator" example, run as a script with nothing but gan_zoo (and
# its dependencies) importable and the checkpoint path as argument.
AUGMENTER_SCRIPT = (
    '''
import json, sys
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn

import gan_zoo


class AugmentedClassifier(pl.LightningModule):
    """A digit classifier trained on real batches plus as many images from a frozen conditional GAN."""

    def __init__(self, gan_checkpoint: str) -> None:
        super().__init__()
        self.gan = gan_zoo.load_model(gan_checkpoint).requires_grad_(False)  # EMA weights, eval mode
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(16 * 16, 10))

    def training_step(self, batch, batch_idx):
        images, labels = batch
        fake_labels = torch.randint(self.gan.num_classes, labels.shape, device=self.device)
        fakes = self.gan.sample(len(labels), y=fake_labels)  # [N, 1, 16, 16] in [-1, 1], no grad
        logits = self.classifier(torch.cat([images, fakes]))
        return F.cross_entropy(logits, torch.cat([labels, fake_labels]))

    def configure_optimizers(self):
        return torch.optim.SGD(self.classifier.parameters(), lr=0.1)


checkpoint = sys.argv[1]
model = AugmentedClassifier(checkpoint)
gan_before = {k: v.clone() for k, v in model.gan.state_dict().items()}
classifier_before = [p.clone() for p in model.classifier.parameters()]
trainer = pl.Trainer(max_epochs=1, limit_train_batches=3, logger=False, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
trainer.fit(model, datamodule=gan_zoo.Digits(image_size=16, batch_size=8))

fresh = gan_zoo.load_model(checkpoint)
seed = torch.Generator().manual_seed(0)
optimized = [p for group in trainer.optimizers[0].param_groups for p in group["params"]]
gan_after = model.gan.state_dict()
classifier_after = list(model.classifier.parameters())
print(json.dumps({
    "model_class": type(model.gan).__name__,
    "gan_unchanged": all(torch.equal(v, gan_after[k]) for k, v in gan_before.items()),
    "classifier_trained": any(not torch.equal(a, b) for a, b in zip(classifier_before, classifier_after)),
    "optimized_only_classifier": {id(p) for p in optimized} == {id(p) for p in classifier_after},
    "samples": fresh.sample(4, y=torch.tensor([0, 1, 2, 3]), generator=seed).tolist(),
    "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("conftest", "tests", "test_reuse")),
}))
'''
    ""
)


@pytest.fixture(scope="module")
def pretrained_cgan(tmp_path_factory) -> tuple[Path, torch.Tensor]:
    """A briefly trained conditional GAN with an EMA generator, saved by a plain Trainer, and the EMA
    generator's samples for seed 0."""
    root = tmp_path_factory.mktemp("reuse")
    model = build_tiny("CGAN", ema_decay=0.9)
    trainer = make_trainer(root, limit_train_batches=2)
    trainer.fit(model, datamodule=gan_zoo.Digits(image_size=16, batch_size=16))
    path = root / "cgan.ckpt"
    trainer.save_checkpoint(path)
    labels = torch.tensor([0, 1, 2, 3])
    z = model.sample_latent(4, generator=torch.Generator().manual_seed(0))
    ema, raw = model.sample(z=z, y=labels), model.generator.eval()(z, labels)
    assert (ema - raw).abs().max() > 1e-3, "EMA and raw generator must differ for the test to tell them apart"
    return path, ema


def test_pretrained_generator_inside_another_lightning_module(pretrained_cgan, tmp_path):
    checkpoint, expected = pretrained_cgan
    script = tmp_path / "augment.py"
    script.write_text(AUGMENTER_SCRIPT)
    # Nothing but the package on the path; one thread, as the networks are tiny.
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, str(script), str(checkpoint)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["model_class"] == "CGAN"  # found from the checkpoint alone
    assert report["gan_unchanged"] and report["classifier_trained"] and report["optimized_only_classifier"]
    # The same EMA weights; only the float summation order may differ (the child runs one thread).
    assert torch.allclose(torch.tensor(report["samples"]), expected, atol=1e-5)
    assert report["modules"] == []


def _class_source(text: str, name: str) -> str:
    """The class statement up to the first line after it that is not indented."""
    lines = text[text.index(f"class {name}(") :].splitlines()
    end = next(i for i, line in enumerate(lines[1:], 1) if line and not line[0].isspace())
    return "\n".join(lines[:end]).rstrip()


def test_the_python_page_shows_the_tested_augmenter():
    page = (REPO / "docs" / "python.md").read_text()
    assert _class_source(page, "AugmentedClassifier") == _class_source(
        AUGMENTER_SCRIPT, "AugmentedClassifier"
    )


# ---------------------------------------------------------------- the public API
def _data_modules() -> list[type]:
    return [
        obj
        for obj in vars(gan_zoo.data).values()
        if inspect.isclass(obj) and issubclass(obj, ImageDataModule) and hasattr(obj, "native_shape")
    ]


@pytest.mark.parametrize("name", MODELS.names())
def test_every_model_is_importable_from_gan_zoo(name):
    assert getattr(gan_zoo, name) is MODELS.get(name)


def test_data_modules_callbacks_and_losses_are_importable_from_gan_zoo():
    for cls in _data_modules():
        assert getattr(gan_zoo, cls.__name__) is cls
    for name in CALLBACKS:
        assert hasattr(gan_zoo, name)
    for registry in (LOSSES, REGULARIZERS):
        assert getattr(gan_zoo, "LOSSES" if registry is LOSSES else "REGULARIZERS") is registry
    for name in ("AdversarialLoss", "Regularizer", "get_loss", "get_regularizer", "load_model"):
        assert hasattr(gan_zoo, name)
    assert set(gan_zoo.__all__) <= set(dir(gan_zoo))


def _typed_api() -> list[str]:
    """Functions, models, data modules and callbacks exported by gan_zoo."""
    kinds = (pl.LightningModule, pl.LightningDataModule, pl.Callback)

    def typed(obj: object) -> bool:
        return inspect.isfunction(obj) or (inspect.isclass(obj) and issubclass(obj, kinds))

    return [name for name in sorted(gan_zoo.__all__) if typed(getattr(gan_zoo, name))]


@pytest.mark.parametrize("name", _typed_api())
def test_public_callables_have_type_hints(name):
    obj = getattr(gan_zoo, name)
    signature = inspect.signature(obj)
    missing = [
        p.name
        for p in signature.parameters.values()
        if p.annotation is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    assert not missing, f"{name}: parameters without type hints: {missing}"
    assert (REPO / "gan_zoo" / "py.typed").is_file()
