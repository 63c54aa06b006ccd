"""Optimizers and learning-rate schedulers from what a model or a config declares.

A model's paper optimizer is declared like any other default, as the dict LightningCLI and YAML use
(:func:`optimizer` writes it)::

    defaults = {"g_optimizer": optimizer(torch.optim.Adam, lr=1e-4, betas=(0.0, 0.9))}

so ``gan-zoo fit --model X --help`` shows it and ``--model.g_optimizer.lr 0.001`` changes one of its
arguments. A config may instead give a callable ``params -> Optimizer`` (what LightningCLI builds).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

import torch


def optimizer(cls: type, **init_args: Any) -> dict[str, Any]:
    """``{"class_path": "torch.optim.Adam", "init_args": {...}}``: an optimizer (or scheduler) as a
    declared default. Tuples become lists, as in YAML."""
    args = {k: list(v) if isinstance(v, tuple) else v for k, v in init_args.items()}
    return {"class_path": _public_path(cls), "init_args": args}


def _public_path(cls: type) -> str:
    """``torch.optim.Adam`` rather than ``torch.optim.adam.Adam`` where the shorter path is the same class."""
    package = cls.__module__.rpartition(".")[0]
    if package and getattr(importlib.import_module(package), cls.__name__, None) is cls:
        return f"{package}.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


#: Schedulers are declared the same way.
scheduler = optimizer


def _resolve(spec: dict[str, Any]) -> tuple[type, dict[str, Any]]:
    module, _, name = spec["class_path"].rpartition(".")
    return getattr(importlib.import_module(module), name), dict(spec.get("init_args") or {})


def build_optimizer(
    factory: Any, params: Iterable[Any], *, fused_allowed: bool = True
) -> torch.optim.Optimizer:
    """The optimizer from a declared spec dict or a ``params -> Optimizer`` callable.

    A declared Adam or AdamW uses PyTorch's fused kernel (one pass over all parameters of a group; CPU
    since PyTorch 2.4) unless the spec says otherwise or the gradients are clipped: a fused optimizer
    unscales mixed-precision gradients inside its step, after the point where clipping happens, and
    Lightning refuses to clip for it.
    """
    if not isinstance(factory, dict):
        return factory(params)
    cls, args = _resolve(factory)
    if fused_allowed and cls in (torch.optim.Adam, torch.optim.AdamW):
        args.setdefault("fused", True)
    for key in ("betas",):
        if isinstance(args.get(key), list):
            args[key] = tuple(args[key])
    return cls(params, **args)


def build_scheduler(factory: Any, opt: torch.optim.Optimizer) -> Any:
    """The learning-rate scheduler from a declared spec dict or an ``optimizer -> scheduler`` callable."""
    if not isinstance(factory, dict):
        return factory(opt)
    cls, args = _resolve(factory)
    return cls(opt, **args)


#: The zoo's default optimizer for both networks: Adam(2e-4, β = (0.5, 0.999)), Radford et al. 2016 §4.
DEFAULT_ADAM = optimizer(torch.optim.Adam, lr=2e-4, betas=(0.5, 0.999))
