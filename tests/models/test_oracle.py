"""Differential tests: whatever CPython's unpicklers resolve and call, mlgate reports.

The reference is oracle.resolve (CPython's C and pure-Python unpicklers with a find_class that
returns inert stubs). For every global CPython resolves in a stream, mlgate must report it with
at least the severity its resolved target deserves: critical when dangerous, high when called
and not exactly allowlisted. Inputs: every pickle fixture committed or written by the tests
(evasions.ALL, the real libraries' files), and pickles generated or mutated by hypothesis.
A longer fuzzing run: `MLGATE_FUZZ_EXAMPLES=20000 python -m pytest tests/models/test_oracle.py`.
"""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path
from unittest import mock

import pytest
from evasions import ALL
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import resolve

from mlgate.files import ScanError
from mlgate.findings import Severity
from mlgate.models import pickles, scanner
from mlgate.models.callables import Policy, dangerous_reason
from mlgate.models.walker import global_name
from mlgate.models.where import Where

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"
EXAMPLES = int(os.environ.get("MLGATE_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=EXAMPLES <= 300)


def mlgate_findings(data: bytes, name: str = "model.pkl"):
    # A finding groups the callables of one rule and lists a few by name: here it lists them all,
    # so that each callable is checked against the finding that names it.
    with mock.patch.object(pickles, "NAMES_SHOWN", sys.maxsize):
        try:
            return scanner._Job({}, Path(name)).scan(data, Where(name), name, 0)
        except ScanError:  # an error entry for the file (an lz4 joblib without lz4): nothing reported
            return []


def assert_mlgate_covers_cpython(data: bytes) -> None:
    reference = resolve(data)
    found = mlgate_findings(data)
    policy = Policy()
    for raw_module, raw_name in dict.fromkeys(reference.resolved):
        module, name = global_name(raw_module, raw_name)
        full = f"{module}.{name}"
        if not all(part.isidentifier() for part in full.split(".")):
            continue  # import or getattr fails on a name no module or attribute has: nothing runs
        if dangerous_reason(full, module) is not None:
            expected = Severity.CRITICAL
        elif (raw_module, raw_name) in reference.called and not policy.allowed(full, module):
            expected = Severity.HIGH
        else:
            continue
        covering = [f for f in found if f.severity >= expected and full in f.message]
        assert covering, f"CPython resolves {full} ({expected}); mlgate reports {[(f.rule.code, f.message) for f in found]}"


def pickle_fixtures() -> list[tuple[str, bytes]]:
    """The committed files the real libraries wrote, and the pickle members of their archives."""
    found = []
    for path in sorted(FIXTURES.iterdir()):
        data = path.read_bytes()
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                found += [
                    (f"{path.name}!{info.filename}", archive.read(info)) for info in archive.infolist() if info.filename.endswith(".pkl")
                ]
        elif path.suffix not in (".py", ".md", ".txt"):
            found.append((path.name, data))
    return found


@pytest.mark.parametrize("case_id, data, rule, offset", ALL, ids=[case[0] for case in ALL])
def test_the_evasions(case_id, data, rule, offset):
    assert_mlgate_covers_cpython(data)


@pytest.mark.parametrize("name, data", pickle_fixtures(), ids=[name for name, _ in pickle_fixtures()])
def test_the_real_libraries_files(name, data):
    assert_mlgate_covers_cpython(data)


# -- generated pickles ---------------------------------------------------------------------
_MODULES = ["os", "subprocess", "builtins", "__builtin__", "collections", "torch._utils", "sklearn.utils", "numpy", "posix", "mypkg"]
_NAMES = ["system", "Popen", "eval", "OrderedDict", "_rebuild_tensor_v2", "subprocess.Popen", "os.system", "getattr", "Thing", "a.b"]
_TEXT = st.sampled_from(_MODULES + _NAMES + ["id", "x", ""])


def _short_unicode(text: str) -> bytes:
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


_CHUNKS = st.one_of(
    st.sampled_from(
        [
            b"(",
            b".",
            b"0",
            b"1",
            b"2",
            b"N",
            b"R",
            b"b",
            b"t",
            b"\x85",
            b"\x86",
            b"\x87",
            b")",
            b"]",
            b"}",
            b"a",
            b"e",
            b"s",
            b"u",
            b"l",
            b"d",
            b"o",
            b"\x81",
            b"\x92",
            b"\x93",
            b"\x94",
            b"\x88",
            b"\x89",
            b"\x8f",
            b"\x90",
            b"\x91",
            b"Q",
        ]
    ),
    st.builds(lambda m, n: b"c" + m.encode() + b"\n" + n.encode() + b"\n", st.sampled_from(_MODULES), st.sampled_from(_NAMES)),
    st.builds(lambda m, n: b"i" + m.encode() + b"\n" + n.encode() + b"\n", st.sampled_from(_MODULES), st.sampled_from(_NAMES)),
    st.builds(_short_unicode, _TEXT),
    st.builds(lambda text: b"S'" + text.encode() + b"'" + b" " * (len(text) % 2) + b"\n", _TEXT),
    st.builds(lambda text: b"V" + text.encode() + b"\n", _TEXT),
    st.builds(lambda number: b"I" + number + b"\n", st.sampled_from([b"1", b"0x1f", b"1_0", b"010", b"01", b"7\x00z", b"x"])),
    st.builds(lambda number: b"L" + number + b"L\n", st.sampled_from([b"1", b"0x10", b"2_2"])),
    st.builds(lambda index: b"q" + bytes([index]), st.integers(0, 3)),
    st.builds(lambda index: b"h" + bytes([index]), st.integers(0, 3)),
    st.builds(lambda index: b"p" + str(index).encode() + b"\n", st.integers(0, 3)),
    st.builds(lambda index: b"g" + str(index).encode() + b"\n", st.integers(0, 3)),
    st.builds(lambda version: b"\x80" + bytes([version]), st.integers(0, 6)),
    st.builds(lambda length: b"\x95" + length.to_bytes(8, "little"), st.integers(0, 40)),
    st.builds(lambda value: b"K" + bytes([value]), st.integers(0, 255)),
)


@FUZZ
@given(st.lists(_CHUNKS, max_size=40).map(b"".join))
def test_generated_pickles(data):
    assert_mlgate_covers_cpython(data)


_SEEDS = [case[1] for case in ALL] + [data for _, data in pickle_fixtures() if len(data) < 4096]


@FUZZ
@given(st.sampled_from(_SEEDS), st.lists(st.tuples(st.integers(0, 4095), st.binary(min_size=0, max_size=3), st.integers(0, 3)), max_size=4))
def test_mutated_pickles(seed, edits):
    data = bytearray(seed)
    for position, replacement, removed in edits:
        at = position % (len(data) + 1)
        data[at : at + removed] = replacement
    assert_mlgate_covers_cpython(bytes(data))
