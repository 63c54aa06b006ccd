"""Evaluation: feature extractors (Inception-v3, domain classifiers), sample metrics (FID, KID, IS,
MiFID on torchmetrics), the real-feature cache, and the AC-GAN analyses (classifier accuracy, MS-SSIM
diversity)."""

from gan_zoo.metrics.classifier import ClassifierFeatures, DomainClassifier, shipped_classifiers
from gan_zoo.metrics.extractors import build_feature_extractor, feature_extractor_names
from gan_zoo.metrics.features import FeatureExtractor
from gan_zoo.metrics.inception import InceptionV3, InceptionWeightsNotFoundError

__all__ = [
    "ClassifierFeatures",
    "DomainClassifier",
    "FeatureExtractor",
    "InceptionV3",
    "InceptionWeightsNotFoundError",
    "build_feature_extractor",
    "feature_extractor_names",
    "shipped_classifiers",
]
