"""Your code, by name or by value: `module:function` resolved the way `python -m` and pytest do.

A purchase function, and the optional hooks beside it (prepare, setup, stock), are given on the
command line as `module:function` and from Python as the function itself. A function given by value
must be one a spawned buyer can find again: defined at module level, or a functools.partial or
bound method of such (pickled by reference).
"""

from __future__ import annotations

import importlib
import inspect
import os
import pickle
import re
import sys
from collections.abc import Callable
from typing import Any

from booking.errors import BadInput
from booking.i18n.lang import _
from booking.types import Hook

_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def resolve(hook: Hook, option: str, example: str) -> Callable[..., Any]:
    """The function `hook` names (or is), or BadInput saying why not."""
    if callable(hook):
        return hook
    if not _SPEC.match(hook):
        raise BadInput(
            _("{option} {hook!r}: expected module:function, e.g. {example}").format(
                option=option, hook=hook, example=example
            )
        )
    module_name, _sep, attr = hook.partition(":")
    # Like `python -m`, pytest and uvicorn: a module next to you is importable (shop.py in this directory).
    here = os.getcwd()
    if here not in sys.path and "" not in sys.path:
        sys.path.insert(0, here)
    try:
        target: Any = importlib.import_module(module_name)
    # An error in your module's import is your input, said in one line; so is a sys.exit() at import.
    except (Exception, SystemExit, KeyboardInterrupt) as exc:
        raise BadInput(
            _("{option} {hook}: cannot import {module_name} ({kind}: {exc})").format(
                option=option, hook=hook, module_name=module_name, kind=type(exc).__name__, exc=exc
            )
        ) from None
    for part in attr.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise BadInput(
                _("{option} {hook}: {module_name} has no {attr}").format(
                    option=option, hook=hook, module_name=module_name, attr=attr
                )
            )
    if not callable(target):
        raise BadInput(_("{option} {hook}: {attr} is not callable").format(option=option, hook=hook, attr=attr))
    return target  # type: ignore[no-any-return]


def name_of(hook: Hook) -> str:
    """How a hook is named to people: `module:function`, also for a partial or a bound method."""
    if isinstance(hook, str):
        return hook
    inner = getattr(hook, "func", None)  # functools.partial
    if inner is not None:
        return f"partial({name_of(inner)})"
    module = getattr(hook, "__module__", None) or "?"
    return f"{module}:{getattr(hook, '__qualname__', type(hook).__name__)}"


def check_call(function: Callable[..., Any], args: tuple[Any, ...], option: str, shape: str) -> None:
    """Refuse up front a function that cannot be called as `shape` (BadInput, exit 2), not at every attempt."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # a builtin without a signature: find out when it is called
        return
    try:
        signature.bind(*args)
    except TypeError:
        raise BadInput(
            _(
                "{option} {name_of}{signature}: cannot be called as {shape} (booking passes those arguments: "
                "give it a small function of that shape that calls yours)"
            ).format(option=option, name_of=name_of(function), signature=signature, shape=shape)
        ) from None


def check_portable(hook: Hook, option: str) -> None:
    """A function given by value must reach a spawned buyer: picklable by reference."""
    if isinstance(hook, str):
        return
    try:
        pickle.dumps(hook)
    except Exception as exc:
        raise BadInput(
            _(
                "{option} {name_of}: a buyer started fresh (spawn) cannot find it ({kind}); define it "
                "at module level, or use start_method='fork'"
            ).format(option=option, name_of=name_of(hook), kind=type(exc).__name__)
        ) from None
