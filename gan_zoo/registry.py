"""A name → object registry, the one mechanism behind models, losses and (later) regularizers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError, ValueError):
    """A name that is not in a registry. Its message lists the valid names."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class Registry(Generic[T]):
    """Maps names to classes (or factories).

    Example:
        >>> LOSSES = Registry("loss")
        >>> @LOSSES.register("hinge")
        ... class Hinge: ...
        >>> LOSSES.get("hinge")
        <class '...Hinge'>
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str | None = None) -> Callable[[T], T]:
        """Class decorator adding the class under ``name`` (default: its ``__name__``)."""

        def add(obj: T) -> T:
            key = name or obj.__name__  # type: ignore[attr-defined]
            if key in self._entries:
                raise ValueError(f"A {self.kind} named '{key}' is already registered: {self._entries[key]!r}")
            self._entries[key] = obj
            return obj

        return add

    def get(self, name: str) -> T:
        """The entry called ``name``; raises :class:`UnknownNameError` listing the valid names."""
        try:
            return self._entries[name]
        except KeyError:
            valid = ", ".join(sorted(self._entries))
            raise UnknownNameError(f"Unknown {self.kind} '{name}'. Valid names: {valid}.") from None

    def build(self, spec: str | dict) -> T:
        """An instance from a registered name (built with its defaults) or from the
        ``{"class_path": ..., "init_args": {...}}`` form of YAML configs and saved hyperparameters.
        A class path must name a registered class: a config never makes us import arbitrary code."""
        if isinstance(spec, str):
            return self.get(spec)()
        path = spec.get("class_path", "")
        registered = {f"{c.__module__}.{c.__qualname__}": c for c in self._entries.values()}
        by_name = {c.__name__: c for c in self._entries.values()}
        name = path.rpartition(".")[2]  # gan_zoo.losses.GradientPenalty, or GradientPenalty alone
        cls = registered.get(path) or (
            by_name.get(name) if path == name or path.startswith("gan_zoo.") else None
        )
        if cls is None:
            valid = ", ".join(sorted(registered))
            raise UnknownNameError(f"Unknown {self.kind} class_path '{path}'. Valid class paths: {valid}.")
        return cls(**(spec.get("init_args") or {}))

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"
