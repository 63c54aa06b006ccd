"""Dataset names as the evaluation tools take them: ``FashionMNIST``, ``fashion_mnist``, ``fashion-mnist``."""

from __future__ import annotations

import re

import gan_zoo.data
from gan_zoo.data import ImageDataModule


def snake_case(name: str) -> str:
    """``FashionMNIST`` → ``fashion_mnist``, ``CIFAR10`` → ``cifar10``: the name of a dataset's classifier."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).replace("-", "_").lower()


def data_modules() -> dict[str, type[ImageDataModule]]:
    """The datasets of :mod:`gan_zoo.data` by class name (the ``…DataModule`` base classes left out)."""
    return {
        name: obj
        for name in gan_zoo.data.__all__
        if isinstance(obj := getattr(gan_zoo.data, name), type)
        and issubclass(obj, ImageDataModule)
        and not name.endswith("DataModule")
    }


def data_module_class(name: str) -> type[ImageDataModule]:
    """The data module called ``name`` (class name or its snake case); a clear error lists the choices."""
    modules = data_modules()
    for class_name, cls in modules.items():
        if name in (class_name, snake_case(class_name)) or snake_case(name) == snake_case(class_name):
            return cls
    raise ValueError(f"Unknown dataset '{name}'. Valid names: {', '.join(sorted(modules))}.")
