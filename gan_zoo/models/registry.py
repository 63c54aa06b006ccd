"""The registry of models; ``@MODELS.register()`` makes a model visible to the CLI listing and the tests."""

from __future__ import annotations

from gan_zoo.registry import Registry

MODELS: Registry[type] = Registry("model")
