"""Constructor arguments declared once (gan_zoo.arguments): full signatures, defaults, no sharing."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from gan_zoo.arguments import DeclaredArguments, constructor_arguments


class Base(metaclass=DeclaredArguments):
    def __init__(self, size: int = 1, items: list[int] | None = None, name: str = "base") -> None:
        self.size, self.items, self.name = size, items, name


class Child(Base):
    defaults = {"items": [1, 2], "name": "child"}

    def __init__(self, width: int = 3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.width = width


class Grandchild(Child):  # no __init__ of its own: only defaults
    defaults = {"width": 9, "size": 5}


def test_a_subclass_signature_lists_its_own_then_the_inherited_arguments_with_its_defaults():
    parameters = inspect.signature(Grandchild).parameters
    assert list(parameters) == ["width", "size", "items", "name"]
    assert [p.default for p in parameters.values()] == [9, 5, [1, 2], "child"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())
    own = inspect.signature(Child).parameters["width"]
    assert own.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD  # a class's own arguments keep their kind
    # jsonargparse and Lightning read the signature of __init__ itself
    assert list(inspect.signature(Grandchild.__init__).parameters) == [
        "self",
        "width",
        "size",
        "items",
        "name",
    ]


def test_a_call_gets_the_declared_defaults_and_what_was_given():
    obj = Grandchild(name="given")
    assert (obj.width, obj.size, obj.items, obj.name) == (9, 5, [1, 2], "given")
    assert Base().name == "base" and Child().name == "child"  # each class keeps its own


def test_mutable_defaults_are_copied_for_each_instance():
    first, second = Child(), Child()
    first.items.append(3)
    assert second.items == [1, 2] and Child.defaults["items"] == [1, 2]


def test_unknown_arguments_and_positional_calls_are_refused_naming_the_class():
    with pytest.raises(TypeError, match="Child: got an unexpected keyword argument 'widht'"):
        Child(widht=2)
    assert Child(4).width == 4  # its own argument, by position
    with pytest.raises(TypeError, match="Child: too many positional arguments"):
        Child(4, 5)


def test_defaults_for_arguments_the_class_does_not_take_fail_at_class_creation():
    with pytest.raises(
        TypeError,
        match=r"Bad.defaults names arguments it does not take: colour; its arguments are: width, size",
    ):

        class Bad(Child):
            defaults = {"colour": "red"}


class Recording(metaclass=DeclaredArguments):
    def __init__(self, size: int = 1, name: str = "base") -> None:
        self.received = constructor_arguments(self)


class FixesAnArgument(Recording):
    def __init__(self, colour: str = "red") -> None:
        super().__init__(size=8)  # a subclass may fix its base class's arguments


class Doubles(Recording):
    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        super().__init__(size=2 * size, **kwargs)


def test_constructor_arguments_are_what_each_level_received():
    assert Recording().received == {"size": 1, "name": "base"}
    assert FixesAnArgument().received == {"size": 8, "name": "base", "colour": "red"}
    # where two levels name one argument the outer one wins: Doubles(**received) rebuilds the object
    assert Doubles(size=3, name="n").received == {"size": 3, "name": "n"}
