"""Constructor arguments declared once: a base class lists the shared ones, a subclass only its own.

:class:`~gan_zoo.core.AdversarialModule` owns the arguments every GAN shares (objective, regularizers,
n_critic, optimizers, EMA, …) and :class:`~gan_zoo.data.ImageDataModule` those every dataset shares.
A subclass's ``__init__`` declares only its own arguments and passes the rest on with ``**kwargs``; its
``defaults`` class attribute gives its own values for any argument, its base classes' included (the
paper's objective and schedule, a dataset's native size)::

    @MODELS.register()
    class WGANGP(WGAN):
        defaults = {"d_norm": "layer", "regularizers": ["gradient_penalty"], ...}

Each class then has one complete signature: ``inspect.signature(WGANGP)``, ``help(WGANGP)``,
``gan-zoo fit --model WGANGP --help`` and ``--print_config`` list every argument with the class's
default, and a call gets exactly those defaults. A class's own arguments keep their kind; those it
passes on are keyword-only. The resolved arguments are what ``self.hparams`` holds and checkpoints
store.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, ClassVar

_KEYWORD = inspect.Parameter.KEYWORD_ONLY
_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


class DeclaredArguments(type):
    """Metaclass giving each class the full signature described in :mod:`gan_zoo.arguments`.

    A class's signature is its own ``__init__``'s arguments, then (when that ``__init__`` takes
    ``**kwargs``, or the class defines none) its base class's as keyword-only arguments, with the class's
    ``defaults`` applied. Calling the class binds the call to that signature (an unknown argument fails
    there, naming the class) and passes the declared defaults the call does not override (copies, so
    instances never share a list) on to ``__init__`` by keyword. From inside the
    constructor, :func:`constructor_arguments` reads what each class's ``__init__`` received.
    """

    defaults: ClassVar[dict[str, Any]]

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any) -> type:
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        if "__init__" not in namespace:
            cls.__init__ = _forwarding_init(cls)  # its own function, to carry its own signature
        own_defaults = namespace.get("defaults", {})
        signature = _declared_signature(cls, own_defaults)
        cls.__signature__ = signature
        inherited = next(
            (b.declared_defaults for b in cls.__mro__[1:] if isinstance(b, DeclaredArguments)), {}
        )
        #: Every ``defaults`` entry of the class and its bases that its signature still has.
        cls.declared_defaults = {
            name: value
            for name, value in {**inherited, **own_defaults}.items()
            if name in signature.parameters
        }
        _publish_to_parsers(cls, signature)
        return cls

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        try:
            given = cls.__signature__.bind(*args, **kwargs).arguments
        except TypeError as error:
            raise TypeError(f"{cls.__name__}: {error}") from None
        # The declared defaults that the call does not override; the rest is Python's usual business
        # (each __init__'s own defaults), so a subclass may still fix a base argument in its super() call.
        declared = {
            name: copy.deepcopy(value) for name, value in cls.declared_defaults.items() if name not in given
        }
        return type.__call__(cls, **declared, **given)


def is_class_spec(value: Any) -> bool:
    """A ``{"class_path": ..., "init_args": ...}`` dict: how a default optimizer or scheduler is declared."""
    return isinstance(value, dict) and "class_path" in value


def describe_class_spec(spec: dict[str, Any]) -> str:
    """``torch.optim.Adam(lr=0.0001, betas=[0.0, 0.9])``."""
    arguments = ", ".join(f"{key}={value!r}" for key, value in (spec.get("init_args") or {}).items())
    return f"{spec['class_path']}({arguments})"


def _publish_to_parsers(cls: type, signature: inspect.Signature) -> None:
    """The signature of ``cls.__init__``, which jsonargparse (LightningCLI) and Lightning read.

    jsonargparse does not instantiate a dict default of a callable argument (an optimizer), so there
    such a default is ``None`` ("the model's default", resolved by the class) and its value is written
    into the argument's description, which ``--help`` shows.
    """
    parameters, notes = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)], []
    for parameter in signature.parameters.values():
        if is_class_spec(parameter.default):
            notes.append(f"    {parameter.name}: ``None``: {describe_class_spec(parameter.default)}.")
            parameter = parameter.replace(default=None)
        parameters.append(parameter)
    cls.__init__.__signature__ = signature.replace(parameters=parameters)
    if notes:
        own = inspect.cleandoc(cls.__init__.__doc__ or "")
        cls.__init__.__doc__ = (own + "\n\n" if own else "") + "Args:\n" + "\n".join(notes)


def _forwarding_init(cls: type) -> Any:
    def __init__(self: Any, **kwargs: Any) -> None:
        super(cls, self).__init__(**kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__module__ = cls.__module__
    __init__.forwards_only = True  # type: ignore[attr-defined]
    return __init__


def _signature_of(function: Any) -> inspect.Signature:
    """``function``'s signature with its annotations evaluated where it was written: the parameters
    travel to subclasses in other modules, where their names (``OptimizerCallable``, …) are unknown."""
    try:
        return inspect.signature(function, follow_wrapped=False, eval_str=True)
    except (NameError, TypeError):  # an annotation only importable for type checkers
        return inspect.signature(function, follow_wrapped=False)


def _declared_signature(cls: type, defaults: dict[str, Any]) -> inspect.Signature:
    own_init = cls.__dict__["__init__"]
    own = list(_signature_of(own_init).parameters.values())
    generated = getattr(own_init, "forwards_only", False)
    parameters: dict[str, inspect.Parameter] = {}
    if not generated:
        for parameter in own[1:]:  # without self; a class's own arguments keep their kind
            if parameter.kind not in _VARIADIC:
                parameters[parameter.name] = parameter
    forwards = generated or any(p.kind == inspect.Parameter.VAR_KEYWORD for p in own)
    parent = next((base for base in cls.__mro__[1:] if isinstance(base, DeclaredArguments)), None)
    if forwards and parent is not None:
        for name, parameter in parent.__signature__.parameters.items():
            parameters.setdefault(name, parameter.replace(kind=_KEYWORD))  # passed on by keyword
    unknown = sorted(set(defaults) - set(parameters))
    if unknown:
        raise TypeError(
            f"{cls.__name__}.defaults names arguments it does not take: {', '.join(unknown)}; "
            f"its arguments are: {', '.join(parameters)}"
        )
    for name, value in defaults.items():
        parameters[name] = parameters[name].replace(default=value)
    return inspect.Signature(list(parameters.values()))


def constructor_arguments(obj: Any) -> dict[str, Any]:
    """The arguments of every ``__init__`` of ``obj`` now running, called from the innermost one.

    Each class's ``__init__`` contributes the arguments it received (its own, and what it passes on
    through ``**kwargs``), so a subclass that fixes an argument of its base class
    (``super().__init__(width=8)``) is seen with it. Where two levels name the same argument, the outer
    one wins: calling the class again with these arguments rebuilds the object, as Lightning's
    ``save_hyperparameters`` does (which cannot be used directly: it reads each ``__init__``'s published
    signature, which here also lists what ``**kwargs`` carries).
    """
    frame = inspect.currentframe().f_back  # the __init__ that asks
    levels: list[dict[str, Any]] = []
    while frame is not None and frame.f_code.co_name == "__init__" and frame.f_locals.get("self") is obj:
        levels.append(_received(frame))
        frame = frame.f_back
    arguments: dict[str, Any] = {}
    for level in levels:  # innermost first, so outer levels override
        arguments.update(level)
    return arguments


def _received(frame: Any) -> dict[str, Any]:
    code, local = frame.f_code, frame.f_locals
    named = code.co_argcount + code.co_kwonlyargcount
    received = {name: local[name] for name in code.co_varnames[1:named] if name in local}
    if code.co_flags & inspect.CO_VARKEYWORDS:
        variadic = named + (1 if code.co_flags & inspect.CO_VARARGS else 0)
        received.update(local.get(code.co_varnames[variadic], {}))
    return received
