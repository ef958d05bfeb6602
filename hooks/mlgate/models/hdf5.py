"""HDF5 files: a Keras `.h5` model keeps its architecture as JSON in the root group's
`model_config` attribute, where a Lambda layer is bytecode that runs on load.

The raw bytes are searched for that JSON first: HDF5 stores an attribute's value
contiguously and uncompressed, so every config Keras could read is found without
handing a hostile file to the HDF5 C library (which has had memory-safety CVEs on
crafted files). Only a file that looks like a Keras model but shows no JSON config is
opened with h5py, when it is installed, to read that one attribute; without h5py it is
an error entry saying h5py is needed — never a silent pass.
"""

from __future__ import annotations

import io
from pathlib import Path

from mlgate.files import ScanError
from mlgate.findings import Finding
from mlgate.models import keras
from mlgate.models.formats import HDF5_MAGIC
from mlgate.models.where import Where

_KERAS_MARKERS = (b"model_config", b"keras_version")
_FIRST_USERBLOCK = 512  # the superblock sits at 0 or after a user block of 512 * 2**n bytes


def signature_offset(data) -> int | None:
    """Where the HDF5 superblock signature is (0, 512, 1024, 2048, ...), or None."""
    at = 0
    while at + len(HDF5_MAGIC) <= len(data):
        if data[at : at + len(HDF5_MAGIC)] == HDF5_MAGIC:
            return at
        at = _FIRST_USERBLOCK if at == 0 else at * 2
    return None


def scan(data, where: Where, path: Path | None = None) -> list[Finding]:
    found, seen = keras.scan_embedded(data, where)
    if seen or found or not any(data.find(marker) >= 0 for marker in _KERAS_MARKERS):
        return found
    config = _config_with_h5py(data, path)
    if config is None:
        raise ScanError(
            "Keras HDF5 model whose model_config could not be found in the raw bytes: "
            "install h5py so mlgate can read it and check it for Lambda layers"
        )
    at = data.find(config) if config else -1
    return keras.scan_config(config, where.at(at) if at >= 0 else where)


def _config_with_h5py(data, path: Path | None) -> bytes | None:
    """The model_config attribute read by h5py: None without h5py or when it cannot open
    the file, b'' when the attribute is absent."""
    try:
        import h5py
    except ImportError:
        return None
    try:
        with h5py.File(path if path is not None else io.BytesIO(bytes(data)), "r") as handle:
            value = handle.attrs.get("model_config")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8")
    return value if isinstance(value, bytes) else b""
