"""Loading the FID Inception-v3 from a local file, the environment, torch.hub's cache — never the network."""

from __future__ import annotations

import urllib.error

import pytest
import torch
import torch_fidelity.feature_extractor_inceptionv3 as fidelity_inception
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
from torchmetrics.image import FrechetInceptionDistance

from gan_zoo.metrics import InceptionV3, InceptionWeightsNotFoundError, build_feature_extractor
from gan_zoo.metrics.inception import WEIGHTS_ENV, WEIGHTS_FILE, WEIGHTS_URL, resolve_weights


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory):
    """An Inception-v3 state dict of random weights, saved like the real file (no download)."""
    with pytest.MonkeyPatch.context() as patch, torch.random.fork_rng(devices=[]):
        patch.setattr(fidelity_inception, "load_state_dict_from_url", lambda *args, **kwargs: None)
        patch.setattr(FeatureExtractorInceptionV3, "load_state_dict", lambda self, state_dict: None)
        torch.manual_seed(0)
        network = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
        for module in network.modules():  # keep activations O(1) through the 90-odd layers
            if isinstance(module, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    path = tmp_path_factory.mktemp("inception") / WEIGHTS_FILE
    torch.save(network.state_dict(), path)
    return path


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """An empty torch.hub cache and a download that fails like a machine without internet."""

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    return tmp_path / "hub"


def images() -> torch.Tensor:
    """A gray 32×32 image (each Inception pass at 299×299 costs seconds on a CPU: keep it to one)."""
    return torch.randint(
        0, 256, (1, 1, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)
    )


@pytest.fixture(scope="module")
def reference(random_weights):
    """The extractor loaded from ``weights_path`` and its outputs on :func:`images`."""
    extractor = InceptionV3(weights_path=random_weights)
    return extractor, *extractor.extract(images())


def test_weights_path_loads_the_file_and_matches_torchmetrics_fid_network(random_weights, reference):
    extractor, features, logits = reference
    saved = torch.load(random_weights)
    assert all(torch.equal(extractor.net.state_dict()[k], v) for k, v in saved.items())
    assert features.shape == (1, 2048) and logits.shape == (1, 1008)
    # The network torchmetrics' FID builds from the same file gives the same features (gray → RGB).
    reference = FrechetInceptionDistance(
        feature=2048, feature_extractor_weights_path=str(random_weights), antialias=False
    )
    assert features.abs().mean() > 0.1, "the random network must not be degenerate"
    assert torch.allclose(reference.inception(images().expand(-1, 3, -1, -1)), features, rtol=1e-4, atol=1e-5)


def test_environment_variable_then_hub_cache(random_weights, no_network, monkeypatch):
    monkeypatch.setenv(WEIGHTS_ENV, str(random_weights))
    assert resolve_weights() == random_weights
    assert isinstance(build_feature_extractor("inception"), InceptionV3)
    monkeypatch.delenv(WEIGHTS_ENV)
    cached = no_network / "checkpoints" / WEIGHTS_FILE
    cached.parent.mkdir(parents=True)
    cached.symlink_to(random_weights)
    assert resolve_weights() == cached  # found, not downloaded (the download would raise)


def test_offline_without_weights_says_where_to_get_and_put_them(no_network):
    with pytest.raises(InceptionWeightsNotFoundError) as error:
        InceptionV3()
    message = str(error.value)
    assert "\n" not in message  # one paragraph
    for needed in (WEIGHTS_URL, str(no_network / "checkpoints" / WEIGHTS_FILE), WEIGHTS_ENV, "fashion_mnist"):
        assert needed in message


def test_a_missing_weights_file_is_named(no_network, tmp_path, monkeypatch):
    with pytest.raises(InceptionWeightsNotFoundError, match=r"nowhere\.pth"):
        InceptionV3(weights_path=tmp_path / "nowhere.pth")
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "nowhere.pth"))
    with pytest.raises(InceptionWeightsNotFoundError, match=rf"\${WEIGHTS_ENV}"):
        InceptionV3()


def test_resize_mode_changes_features_and_the_fingerprint(random_weights, reference):
    extractor, features, _ = reference
    antialiased = InceptionV3(random_weights, antialias=True)
    assert extractor.fingerprint() != antialiased.fingerprint()
    assert (features - antialiased(images())).abs().max() > 1e-3 * features.abs().mean()
