"""A test-only reference for what a pickle makes CPython do: its own unpicklers, defused.

`resolve(data)` runs CPython's C unpickler (`pickle.Unpickler`, what pickle.load and
torch.load use) and its pure-Python one (`pickle._Unpickler`, which joblib subclasses) over
`data`, each two ways: a fresh unpickler per pickle (pickle.load in a loop) and one unpickler
whose load() is called again (shared memo). `find_class` records (module, name) and returns
an inert stub class: nothing is imported, nothing the pickle names runs. Calling a stub (the
class, or an instance: a gadget chain) records the call and returns another stub. What CPython
resolves and calls under these stubs is a superset of what it would with the real objects,
up to the first step where a real object would have failed.
"""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

MAX_PICKLES = 16  # pickles read back to back from one stream
# The C unpickler grows its memo array to the largest PUT index it sees: LONG_BINPUT 2**31 makes
# it zero 16 GB. The reference runs with an address-space limit, so that is a MemoryError.
MEMORY_HEADROOM = 1 << 30


@dataclass
class Resolution:
    resolved: list[tuple[str, str]] = field(default_factory=list)  # (module, name) as written
    called: set[tuple[str, str]] = field(default_factory=set)


class _Inert:
    """What a stub class builds: accepts any state, any container protocol, any call."""

    _name: tuple[str, str] = ("", "")
    _resolution: Resolution

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        self._resolution.called.add(("<result>", ".".join(self._name)))
        return self

    def __setstate__(self, state):
        pass

    def append(self, item):
        pass

    def extend(self, items):
        pass

    def add(self, item):
        pass

    def __setitem__(self, key, value):
        pass


def _stub(module: str, name: str, resolution: Resolution) -> type:
    def new(cls, *args, **kwargs):
        resolution.called.add((module, name))
        return object.__new__(cls)

    return type("Stub", (_Inert,), {"__new__": new, "_name": (module, name), "_resolution": resolution})


def _unpickler(base: type, stream: io.BytesIO, resolution: Resolution):
    class Recording(base):  # type: ignore[misc, valid-type]
        def find_class(self, module, name):
            resolution.resolved.append((module, name))
            return _stub(module, name, resolution)

        def persistent_load(self, pid):
            return _stub("<persistent>", "load", resolution)()

    return Recording(stream, encoding="latin1")


@contextmanager
def _memory_limited() -> Iterator[None]:
    try:
        import resource
    except ImportError:  # not on this platform: no limit
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as statm:
        used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = used + MEMORY_HEADROOM if hard == resource.RLIM_INFINITY else min(hard, used + MEMORY_HEADROOM)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def resolve(data: bytes) -> Resolution:
    """Every (module, name) CPython's unpicklers resolve in `data`, read every way above."""
    with _memory_limited():
        return _resolve(data)


def _resolve(data: bytes) -> Resolution:
    resolution = Resolution()
    for base in (pickle.Unpickler, pickle._Unpickler):
        for shared in (False, True):
            stream = io.BytesIO(data)
            unpickler = _unpickler(base, stream, resolution)
            for _ in range(MAX_PICKLES):
                if stream.tell() >= len(data):
                    break
                try:
                    unpickler.load()
                except Exception:  # noqa: BLE001 - any failure is where CPython stops too
                    break
                if not shared:
                    unpickler = _unpickler(base, stream, resolution)
    return resolution
