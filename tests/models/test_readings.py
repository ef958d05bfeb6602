"""Files with more than one plausible reading: every reading is judged, the worst reported.

Polyglots (a tar or protobuf whose first bytes are also a pickle that calls something), values
stored inside a pickle that a later load reads (a .keras blob, base64 text), and expansion
bombs. Everything is written by the tests; nothing is loaded.
"""

from __future__ import annotations

import base64
import hashlib
import io
import pickle
import tarfile
from pathlib import Path

import pytest
from picklegen import DUP, EMPTY_LIST, LIST, MARK, MEMOIZE, STOP, TUPLE1, Pickle, binbytes, binget, short_unicode
from scanhits import hits

from mlgate.models import expansion

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"
EVIL = b"cos\nsystem\n(S'id'\ntR."


def tar_named(name: bytes, content: bytes = b"weights") -> bytes:
    """A ustar archive whose first member's name field holds `name` (tarfile keeps it as is)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT, encoding="latin-1") as archive:
        info = tarfile.TarInfo(name.decode("latin-1"))
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def test_a_tar_whose_first_header_is_a_pickle(scan_tree):
    """tarfile reads a model archive; pickle.load reads the header's name field and runs it."""
    data = tar_named(EVIL)
    scan = scan_tree({"model.tar": data, "model.nemo": data}, select="models")
    assert hits(scan) == [("MOD001", "model.nemo", None, EVIL.index(b"R")), ("MOD001", "model.tar", None, EVIL.index(b"R"))]


def test_an_ordinary_tar_has_no_pickle_reading(scan_tree):
    scan = scan_tree({"model.tar": tar_named(b"weights/config.json", b"{}")}, select="models")
    assert hits(scan) == []


def test_a_protobuf_named_onnx_whose_first_bytes_are_a_pickle(scan_tree):
    data = EVIL + b"\x12\x04main" + b"\x00" * 16  # field 2 (a string) after the opcodes
    scan = scan_tree({"model.onnx": data}, select="models")
    assert ("MOD001", "model.onnx", None, EVIL.index(b"R")) in hits(scan)


def stored_bytes(payload: bytes) -> tuple[bytes, int]:
    stream = Pickle(4)
    stream.add(b"}", short_unicode("model"))
    at = stream.add(binbytes(payload), b"s", STOP)
    return stream.bytes(), at + 5


def test_a_keras_model_kept_as_bytes_inside_a_pickle(scan_tree):
    """Keras 3 pickles a model as its .keras zip (Model.__reduce__): the Lambda layer runs when
    the value is loaded, so the zip is scanned as a file of its own."""
    data, at = stored_bytes((FIXTURES / "keras_lambda.keras").read_bytes())
    scan = scan_tree({"model.pkl": data}, select="models")
    critical = [(f.rule.code, f.path, f.offset) for f in scan.findings if f.rule.code == "MOD007"]
    assert critical == [("MOD007", "model.pkl", at)]
    assert scan.messages("MOD007")[0].startswith(f"a model file stored as bytes (at offset {at}) for a later load: ")


def test_a_benign_keras_model_kept_as_bytes_adds_nothing(scan_tree):
    data, _ = stored_bytes((FIXTURES / "keras_dense.keras").read_bytes())
    assert hits(scan_tree({"model.pkl": data}, select="models")) == [("MOD003", "model.pkl", None, 0)]


@pytest.mark.parametrize(
    "value",
    [
        base64.b64encode(hashlib.sha256(b"x").digest() * 3),  # a base64 digest
        hashlib.sha256(b"x").hexdigest().encode(),  # a hex digest
        base64.b64encode(pickle.dumps({"lr": 0.1}, protocol=4)),  # a benign pickle, encoded
        b"line one\nline two\nline three\n",  # text with newlines
    ],
)
def test_benign_stored_values_add_nothing(scan_tree, value):
    data, _ = stored_bytes(value)
    assert hits(scan_tree({"model.pkl": data}, select="models")) == [("MOD003", "model.pkl", None, 0)]


def dup_laughs(levels: int = 9, width: int = 9) -> bytes:
    """MARK x levels, a string, then per level (width - 1) DUPs and LIST: width**levels leaves."""
    return b"\x80\x04" + MARK * levels + short_unicode("lol") + (DUP * (width - 1) + LIST) * levels + STOP


def memo_laughs(levels: int = 9, width: int = 9) -> bytes:
    """The same with the memo: each level's list is memoized and fetched `width` times."""
    stream = Pickle(4)
    stream.add(short_unicode("lol"), MEMOIZE)
    for level in range(levels):
        stream.add(MARK, *[binget(level)] * width, LIST, MEMOIZE)
    stream.add(STOP)
    return stream.bytes()


@pytest.mark.parametrize("data", [dup_laughs(), memo_laughs()], ids=["dup", "memo"])
def test_expansion_bombs(scan_tree, data):
    scan = scan_tree({"laughs.pkl": data}, select="models")
    assert hits(scan) == [("MOD016", "laughs.pkl", None, 0)]
    assert f"pickle of {len(data)} bytes whose shared references unfold into more than 10,000,000 objects" in scan.messages("MOD016")[0]


def test_shared_references_and_cycles_are_not_bombs(scan_tree):
    parent: dict = {"children": []}
    for index in range(200):  # every child points back at its parent: a cycle, counted once
        parent["children"].append({"parent": parent, "index": index})
    shared = [list(range(50))] * 2000  # one list referenced 2000 times: 100 000 leaves, not a bomb
    scan = scan_tree({"tree.pkl": pickle.dumps(parent, protocol=4), "shared.pkl": pickle.dumps(shared, protocol=4)}, select="models")
    assert hits(scan) == [("MOD003", "shared.pkl", None, 0), ("MOD003", "tree.pkl", None, 0)]


def test_unfolded_size_counts_references_and_saturates():
    assert expansion.unfolded_size(dup_laughs(3, 3), limit=10**6) == 1 + 3 + 9  # lists; the strings are leaves
    assert expansion.unfolded_size(dup_laughs(), limit=1000) == 1001
    small = Pickle(4)
    small.add(EMPTY_LIST, MEMOIZE, binget(0), binget(0), TUPLE1, STOP)
    assert expansion.unfolded_size(small.bytes()) == 2


@pytest.mark.filterwarnings("error")
def test_invalid_escapes_in_scanned_strings_raise_no_warning(scan_tree, capfd):
    """codecs.escape_decode warns on `\\q`; a warning would print scanned bytes to the job log."""
    data = b"S'\\q\\\xe9 ::error::x'\np0\n0cos\nsystem\n(S'\\q'\ntR."
    scan = scan_tree({"model.pkl": data}, select="models")
    assert hits(scan) == [("MOD001", "model.pkl", None, data.rindex(b"R"))]
    assert capfd.readouterr().err == ""


def gzipped(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data, mtime=0)


def test_a_compressed_tar_of_data_files_has_nothing_to_load(scan_tree):
    """A `.tar.gz` of JSON records (a model catalog's data): tarfile reads members, none a model.
    Its first member's name (`certified/`) starts with a pickle opcode; that reading calls nothing."""
    data = gzipped(tar_named(b"certified/production-llm-8b/metadata.json", b'{"name": "x"}'))
    scan = scan_tree({"catalog/perf-data.tar.gz": data}, select="models")
    assert hits(scan) == []


def test_a_compressed_tar_is_scanned_member_by_member(scan_tree):
    """SageMaker's model.tar.gz, a gzipped .nemo: the pickle inside the archive is what runs."""
    from targen import tar_archive

    data = gzipped(tar_archive({"model/weights.pkl": EVIL, "model/README.md": b"# model\n"}))
    scan = scan_tree({"model.tar.gz": data}, select="models")
    assert hits(scan) == [("MOD001", "model.tar.gz", "<gzip stream>!model/weights.pkl", EVIL.index(b"R"))]


def test_a_compressed_tar_whose_first_header_is_a_pickle(scan_tree):
    data = gzipped(tar_named(EVIL))
    scan = scan_tree({"model.tar.gz": data}, select="models")
    assert hits(scan) == [("MOD001", "model.tar.gz", "<gzip stream>", EVIL.index(b"R"))]
