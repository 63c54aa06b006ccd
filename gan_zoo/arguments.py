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
default, and a call gets exactly those defaults. Every argument is keyword-only. The resolved
arguments are what ``self.hparams`` holds and checkpoints store.
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
    ``**kwargs``, or the class defines none) its base class's, with the class's ``defaults`` applied.
    Calling the class binds the call to that signature, fills in the defaults (copies, so instances
    never share a list) and calls ``__init__`` with every argument by keyword. The instance's
    ``init_arguments`` holds them, from before ``__init__`` runs.
    """

    defaults: ClassVar[dict[str, Any]]

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any) -> type:
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        if "__init__" not in namespace:
            cls.__init__ = _forwarding_init(cls)  # its own function, to carry its own signature
        signature = _declared_signature(cls, namespace.get("defaults", {}))
        cls.__signature__ = signature
        self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        cls.__init__.__signature__ = signature.replace(parameters=[self_parameter, *signature.parameters.values()])
        return cls

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        try:
            bound = cls.__signature__.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{cls.__name__}: {error}") from None
        given = set(bound.arguments)
        bound.apply_defaults()
        arguments = {
            name: value if name in given else copy.deepcopy(value) for name, value in bound.arguments.items()
        }
        obj = cls.__new__(cls)
        obj.__dict__["init_arguments"] = arguments  # set before nn.Module.__init__, bypassing its __setattr__
        obj.__init__(**arguments)
        return obj


def _forwarding_init(cls: type) -> Any:
    def __init__(self: Any, **kwargs: Any) -> None:
        super(cls, self).__init__(**kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__module__ = cls.__module__
    __init__.forwards_only = True  # type: ignore[attr-defined]
    return __init__


def _declared_signature(cls: type, defaults: dict[str, Any]) -> inspect.Signature:
    own_init = cls.__dict__["__init__"]
    own = list(inspect.signature(own_init, follow_wrapped=False).parameters.values())
    generated = getattr(own_init, "forwards_only", False)
    parameters: dict[str, inspect.Parameter] = {}
    if not generated:
        for parameter in own[1:]:  # without self
            if parameter.kind not in _VARIADIC:
                parameters[parameter.name] = parameter.replace(kind=_KEYWORD)
    forwards = generated or any(p.kind == inspect.Parameter.VAR_KEYWORD for p in own)
    parent = next((base for base in cls.__mro__[1:] if isinstance(base, DeclaredArguments)), None)
    if forwards and parent is not None:
        for name, parameter in parent.__signature__.parameters.items():
            parameters.setdefault(name, parameter)
    unknown = sorted(set(defaults) - set(parameters))
    if unknown:
        raise TypeError(
            f"{cls.__name__}.defaults names arguments it does not take: {', '.join(unknown)}; "
            f"its arguments are: {', '.join(parameters)}"
        )
    for name, value in defaults.items():
        parameters[name] = parameters[name].replace(default=value)
    return inspect.Signature(list(parameters.values()))
