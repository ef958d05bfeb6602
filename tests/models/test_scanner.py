"""Recognition by content: odd names are still caught, ordinary repository files are not."""

from __future__ import annotations

import bz2
import gzip
import lzma
import pickle
import struct
import sys
import zlib
from pathlib import Path

from scanhits import EVIL_CALL, evil, hits
from zipgen import Entry, build

from mlgate.models import scanner

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" + b"\0" * 40


def test_pickles_under_any_name_are_found(scan_tree):
    names = ["weights", "config.json", "model.txt", ".hidden", "script.py", "notes.md", "data.yaml"]
    scan = scan_tree({name: evil() for name in names}, select="models")
    assert hits(scan) == [("MOD001", name, None, EVIL_CALL) for name in sorted(names)]


def test_headerless_data_pickles_matter_only_under_model_names(scan_tree):
    """Protocol 0/1 has no header: text can parse as a pickle by accident (pip's
    vendor.txt starts with 'C', SHORT_BINBYTES). Under other names only calls count."""
    data = pickle.dumps({"lr": 0.1}, protocol=0)
    vendor = b"CacheControl==0.14.4\ndistlib==0.4.4\ndistro==1.9.0\nmsgpack==1.2.4\npackaging==26.3\nplatformdirs==4.12.4\n"
    scan = scan_tree({"config.json": data, "state.pkl": data, "vendor.txt": vendor}, select="models")
    assert hits(scan) == [("MOD003", "state.pkl", None, 0)]


def test_python_path_files_named_pth(scan_tree):
    scan = scan_tree(
        {"distutils-precedence.pth": "import os; var = 'x'\n", "site.pth": "/opt/lib\n", "model.pth": b"\x01\x02\x00\x00"}, select="models"
    )
    assert hits(scan) == [("MOD004", "model.pth", None, 0)]


def test_ordinary_repository_files_produce_nothing(scan_tree):
    files = {
        "README.md": "# Model card\n\nWeights are in `model.safetensors`.\n",
        "style.css": ".header { color: red }\n(.x) {}\n",
        "data.json": '{"labels": ["cat", "dog"], "version": 2}\n',
        "logo.png": PNG,
        "train.py": "import torch\n\ntorch.save(model.state_dict(), 'x.pt')\n",
        "run.sh": '#!/bin/sh\nexec python train.py "$@"\n',
        "params.yaml": "lr: 0.1\nlayers: [1, 2]\n",
        "table.csv": "a,b\n1,2\n",
        "empty.txt": "",
        "firmware.bin": bytes(range(256)) * 8,
        "blob.dat": b"\x00\x01\x02\x03" * 100,
        "sentencepiece.model": b"\n\x0b\n\x05<unk>\x15\x00\x00\x00\x00\x18\x02",
        "data.csv.gz": gzip.compress(b"a,b\n1,2\n"),
        "Makefile": "all:\n\t(cd src && make)\n",
        "list.txt": "(1, 2)\n]\n}\n",
    }
    scan = scan_tree(files, select="models")
    assert (scan.findings, scan.errors) == ([], [])


def test_model_names_fail_closed_on_unknown_content(scan_tree):
    scan = scan_tree(
        {"model.pkl": b"\xff\xfe\x00 not a pickle\n", "arr.npy": b"\x00" * 10, "x.bin": b"\x80\x02\x00garbage"},
        select="models",
    )
    assert hits(scan) == [
        ("MOD004", "arr.npy", None, 0),
        ("MOD004", "model.pkl", None, 0),
        ("MOD004", "x.bin", None, 0),
    ]
    assert scan.messages("MOD004")[0] == "named .npy but the content is not a format mlgate knows: it cannot be checked"
    assert scan.messages("MOD004")[2] == "starts like a pickle (protocol 2) but does not parse as one: it cannot be checked"


def test_text_that_every_loader_refuses_at_its_first_byte_is_not_a_model(scan_tree):
    # a test's placeholder, an error page saved under a model's name: pickle.load (which torch and
    # joblib fall back to) raises on the first opcode, the other formats lack their magic
    files = {
        "tests/assets/model.pkl": "123",
        "model.pt": "<html><body>404 Not Found</body></html>\n",
        "arr.npy": "not found\n",
        "clf.joblib": "hello world, not a pickle\n",  # BINGET of memo 101 before anything is stored
        "evil.pkl": "cos\nsystem\n(S'id'\ntR.",  # text that reads as a pickle is judged as one
    }
    scan = scan_tree(files, select="models")
    assert hits(scan) == [("MOD001", "evil.pkl", None, 19)]


def test_compressed_pickles(scan_tree):
    files = {
        "model.pkl.gz": gzip.compress(evil()),
        "blob.xz": lzma.compress(evil()),
        "model.joblib": zlib.compress(evil()),
        "clf.joblib.bz2": bz2.compress(pickle.dumps([1, 2], protocol=4)),
        "broken.joblib": b"\x78\x9c" + b"\xff" * 20,
    }
    scan = scan_tree(files, select="models")
    assert hits(scan) == [
        ("MOD001", "blob.xz", "<xz stream>", EVIL_CALL),
        ("MOD004", "broken.joblib", None, 0),
        ("MOD003", "clf.joblib.bz2", "<bz2 stream>", 0),
        ("MOD001", "model.joblib", "<zlib stream>", EVIL_CALL),
        ("MOD001", "model.pkl.gz", "<gzip stream>", EVIL_CALL),
    ]


def test_numpy_object_array(scan_tree):
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }".ljust(117, b" ") + b"\n"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header
    scan = scan_tree({"arr.npy": npy + evil(), "plain.npy": npy.replace(b"|O", b"<i8") + b"\0" * 8}, select="models")
    assert hits(scan) == [("MOD001", "arr.npy", None, len(npy) + EVIL_CALL)]


def test_zip_bytes_pickled_as_a_value_are_not_an_archive(scan_tree):
    archive = build([Entry("x.txt", b"hello")]).data
    scan = scan_tree({"blob.pkl": pickle.dumps({"archive": archive}, protocol=4)}, select="models")
    assert hits(scan) == [("MOD003", "blob.pkl", None, 0)]


def test_large_files_are_mapped_and_read_only_where_needed(scan_tree):
    big = build([Entry("archive/data.pkl", evil()), Entry("archive/data/0", b"\0" * (3 << 20))]).data
    scan = scan_tree({"big.pt": big}, select="models")
    assert hits(scan) == [("MOD001", "big.pt", "archive/data.pkl", EVIL_CALL)]


def test_member_that_needs_h5py_becomes_a_finding(scan_tree, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    h5 = b"\x89HDF\r\n\x1a\n" + b"\0" * 64 + b"model_config\0\x17packed"
    scan = scan_tree({"bundle.zip": build([Entry("legacy/model.h5", h5)]).data}, select="models")
    assert hits(scan) == [("MOD004", "bundle.zip", "legacy/model.h5", 0)]
    assert scan.messages("MOD004")[0].endswith("install h5py so mlgate can read it and check it for Lambda layers")


def test_every_path_matches():
    assert all(scanner.matches(path) for path in ("README.md", "a/b.css", "weights", "x.json"))


def unknown_objects(*classes: str) -> bytes:
    """A protocol 4 pickle that instantiates each dotted class (NEWOBJ); the first NEWOBJ is at FIRST_CALL."""
    stream = b"\x80\x04"
    for dotted in classes:
        module, _, name = dotted.rpartition(".")
        stream += b"\x8c" + bytes([len(module)]) + module.encode() + b"\x8c" + bytes([len(name)]) + name.encode() + b"\x93)\x810"
    return stream + b"N."


FIRST_CALL = len(b"\x80\x04\x8c\x03pkg\x8c\x01A\x93)")


def test_calls_are_grouped_per_archive_member(scan_tree):
    archive = build([Entry("a/data.pkl", unknown_objects("pkg.A", "pkg.B")), Entry("b/data.pkl", unknown_objects("pkg.C", "pkg.D"))])
    scan = scan_tree({"bundle.zip": archive.data}, select="models")
    assert hits(scan) == [("MOD002", "bundle.zip", "a/data.pkl", FIRST_CALL), ("MOD002", "bundle.zip", "b/data.pkl", FIRST_CALL)]
    assert [message.rsplit("; also ", 1)[1] for message in scan.messages("MOD002")] == ["pkg.B", "pkg.D"]


SKLEARN_MODEL = (Path(__file__).resolve().parents[1] / "fixtures" / "models" / "sklearn_logreg_p4.pkl").read_bytes()
PLAIN_DATA = pickle.dumps({"prompt": "2 + 2 =", "completions": ["4", " 4"]}, protocol=4)


def test_a_benign_pickle_is_reported_unless_its_format_is_the_point(scan_tree):
    """Docs, examples and benchmarks ship what the loader they show reads, and a test fixture of
    library objects is what the loader under test reads: nobody converts those. A test's plain
    data is its own cache, and JSON a trivial swap: that one is reported."""
    files = {
        "docs/examples/sklearn/model.joblib": SKLEARN_MODEL,
        "docs-gb/examples/alibi-explain/meta.dill": PLAIN_DATA,
        "python/sklearnserver/sklearnserver/example_models/pkl/model.pkl": SKLEARN_MODEL,
        "benchmarking/testserver/models/iris/model.joblib": SKLEARN_MODEL,
        "tests/fixtures/model.pkl": SKLEARN_MODEL,
        "tests/testdata/gguf_test_44e2.pkl": PLAIN_DATA,
        "models/classifier.joblib": SKLEARN_MODEL,
        "cache/answers.pkl": PLAIN_DATA,
    }
    scan = scan_tree(files, select="models")
    assert hits(scan) == [
        ("MOD003", "cache/answers.pkl", None, 0),
        ("MOD003", "models/classifier.joblib", None, 0),
        ("MOD003", "tests/testdata/gguf_test_44e2.pkl", None, 0),
    ]
    assert scan.messages("MOD003")[2] == "pickle (protocol 4): loading it can execute code; it holds plain Python data: prefer JSON"


def test_calls_are_reported_wherever_the_pickle_is(scan_tree):
    files = {
        "docs/examples/model.pkl": evil(),
        "tests/fixtures/model.pkl": unknown_objects("pkg.A"),
        "examples/broken.pkl": b"\x80\x04\x8c\x03abc",
    }
    scan = scan_tree(files, select="models")
    assert hits(scan) == [
        ("MOD001", "docs/examples/model.pkl", None, EVIL_CALL),
        ("MOD004", "examples/broken.pkl", None, 7),
        ("MOD002", "tests/fixtures/model.pkl", None, FIRST_CALL),
    ]


def test_dill_files_are_pickles(scan_tree):
    """dill.dump writes a pickle: one with only allowlisted globals is MOD003, even at protocol 0
    (no header to sniff), and content that is no pickle fails closed."""
    files = {
        "meta.dill": PLAIN_DATA,
        "params.dill": pickle.dumps({"n_segments": 15}, protocol=0),
        "params.txt": pickle.dumps({"n_segments": 15}, protocol=0),
        "explainer.dill": b"\xf0not a pickle\n",
    }
    scan = scan_tree(files, select="models")
    assert hits(scan) == [("MOD004", "explainer.dill", None, 0), ("MOD003", "meta.dill", None, 0), ("MOD003", "params.dill", None, 0)]
