"""Evaluation: feature extractors (Inception-v3, domain classifiers), sample metrics (FID, KID, IS,
MiFID on torchmetrics; improved precision and recall), the real-feature cache, and the AC-GAN analyses
(classifier accuracy, MS-SSIM diversity)."""

from gan_zoo.metrics.cache import RealFeatureCache, default_cache_dir
from gan_zoo.metrics.classifier import ClassifierFeatures, DomainClassifier, shipped_classifiers
from gan_zoo.metrics.discriminability import Discriminability, discriminability
from gan_zoo.metrics.diversity import ClassDiversity, class_diversity
from gan_zoo.metrics.extractors import build_feature_extractor, feature_extractor_names
from gan_zoo.metrics.features import FeatureExtractor
from gan_zoo.metrics.inception import InceptionV3, InceptionWeightsNotFoundError
from gan_zoo.metrics.manifold import ManifoldPrecisionRecall
from gan_zoo.metrics.real import real_features
from gan_zoo.metrics.sample_metrics import (
    SAMPLE_METRICS,
    SampleMetric,
    evaluate_model,
    evaluate_samples,
    fid,
    inception_score,
    kid,
    mifid,
    precision_recall,
)

__all__ = [
    "SAMPLE_METRICS",
    "ClassDiversity",
    "ClassifierFeatures",
    "Discriminability",
    "DomainClassifier",
    "FeatureExtractor",
    "InceptionV3",
    "InceptionWeightsNotFoundError",
    "ManifoldPrecisionRecall",
    "RealFeatureCache",
    "SampleMetric",
    "build_feature_extractor",
    "class_diversity",
    "default_cache_dir",
    "discriminability",
    "evaluate_model",
    "evaluate_samples",
    "feature_extractor_names",
    "fid",
    "inception_score",
    "kid",
    "mifid",
    "precision_recall",
    "real_features",
    "shipped_classifiers",
]
