"""Work bounds instead of wall-clock limits.

`count_calls(function, *args)` runs `function` and counts every function call made while it
runs, Python functions and built-in ones (a regex match, `str.count`, `list.append`) alike, with
`sys.setprofile`. The count is the same on a fast machine and a loaded one, so a test asserts
`calls <= k * len(input)` (linear work) where it used to assert a number of seconds.

What it cannot see: work done inside one built-in call (a regex that backtracks, a C-level scan
of the whole text) counts once, however long it takes. A counted bound catches Python-level
loops that go quadratic; it says nothing about a single slow regular expression.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


class CallCounter:
    """Counts 'call' and 'c_call' profile events of the current thread."""

    def __init__(self) -> None:
        self.calls = 0

    def _profile(self, frame, event: str, arg) -> None:
        if event == "call" or event == "c_call":
            self.calls += 1

    def __enter__(self) -> CallCounter:
        if sys.getprofile() is not None:  # pragma: no cover - a profiler already runs the tests
            raise RuntimeError("count_calls cannot run under another profiler")
        sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)
        self.calls -= 1  # the call of sys.setprofile itself


def count_calls(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, int]:
    """`function(*args, **kwargs)` and the number of function calls it made."""
    with CallCounter() as counter:
        result = function(*args, **kwargs)
    return result, counter.calls
