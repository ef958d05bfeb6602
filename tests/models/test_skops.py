"""skops archives: arrays are read with np.load(allow_pickle=False), so a broken .npy header
in one is not a finding; a pickle with calls in an array member still is."""

from __future__ import annotations

import json
import struct

from scanhits import EVIL_CALL, evil, hits
from zipgen import DEFLATED, Entry, build

SCHEMA = json.dumps(
    {
        "__class__": "LogisticRegression",
        "__module__": "sklearn.linear_model._logistic",
        "__loader__": "ObjectNode",
        "content": {
            "__class__": "dict",
            "__module__": "builtins",
            "__loader__": "DictNode",
            "content": {
                "coef_": {"__class__": "ndarray", "__module__": "numpy", "__loader__": "NdArrayNode", "type": "numpy", "file": "0.npy"}
            },
        },
        "protocol": 2,
        "_skops_version": "0.10",
    }
).encode()


def npy(descr: str, payload: bytes) -> bytes:
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': (1,), }}".encode().ljust(118) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + payload


def test_benign_skops_archives_with_broken_or_plain_arrays_are_quiet(scan_tree):
    archives = {
        "legit.skops": build([Entry("schema.json", SCHEMA), Entry("step/0/content/0.npy", b"\x93NUMPY\x01\x00model data")]).data,
        "model.skops": build([Entry("schema.json", SCHEMA, method=DEFLATED), Entry("0.npy", npy("<f8", b"\0" * 8), method=DEFLATED)]).data,
        "objects.skops": build([Entry("schema.json", SCHEMA), Entry("1.npy", npy("|O", b"\x80\x02"))]).data,  # truncated, refused
    }
    scan = scan_tree(archives, select="models")
    assert (hits(scan), scan.errors) == ([], [])


def test_calls_in_skops_arrays_and_broken_arrays_elsewhere_are_reported(scan_tree):
    payload = npy("|O", evil())
    archives = {
        "evil.skops": build([Entry("schema.json", SCHEMA), Entry("0.npy", payload)]).data,
        "arrays.npz": build([Entry("w.npy", b"\x93NUMPY\x01\x00model data")]).data,  # no schema: np.load reads it as an .npz
    }
    scan = scan_tree(archives, select="models")
    assert hits(scan) == [("MOD004", "arrays.npz", "w.npy", 0), ("MOD001", "evil.skops", "0.npy", payload.index(evil()) + EVIL_CALL)]
