"""What a piece of content is, by its first bytes; and what a file's name promises.

Content decides the format, never the name: a pickle called `config.json` or `weights`
is still a pickle. The name only decides what happens when the content is not a format
we know (see `expects_model`): a `.pkl` full of garbage fails closed, a `.bin` of
unrelated bytes (firmware, a dataset shard) is nobody's business.
"""

from __future__ import annotations

import struct

from mlgate.files import ScanError
from mlgate.models import joblib_files
from mlgate.models.numpy_files import NPY_MAGIC
from mlgate.models.pickles import looks_like_pickle
from mlgate.models.sevenzip import MAGIC as SEVEN_ZIP_MAGIC

HEAD_SIZE = 1024  # what sniffing reads: tar needs 263 bytes, HDF5 after a userblock 520

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
GGUF_MAGIC = b"GGUF"
ZIP_LOCAL_MAGIC = b"PK\x03\x04"
ZIP_EMPTY_MAGIC = b"PK\x05\x06"  # an archive with no member is its end record alone
LFS_PREFIXES = (b"version https://git-lfs.github.com/spec/", b"version https://hawser.github.com/spec/")

# Content that is not a format we know is MOD004 under these names (they only ever hold
# models), and nothing under any other name.
STRICT_SUFFIXES = frozenset(
    {
        ".pkl",
        ".pickle",
        ".dill",
        ".pt",
        ".pth",
        ".ckpt",
        ".joblib",
        ".jbl",
        ".npy",
        ".npz",
        ".keras",
        ".gguf",
        ".h5",
        ".hdf5",
        ".onnx",
        ".safetensors",
    }
)
# Names models often hide behind, but which plenty of unrelated binaries share
# (`.bin` firmware, sentencepiece `.model`, TF `.pb`): a recognised format that fails to
# parse is MOD004, unrecognised content is not reported.
LOOSE_SUFFIXES = frozenset({".bin", ".model", ".dat", ".pb", ".mar", ".sav", ".pkz"})


class Malformed(ScanError):
    """Content of a recognised format that cannot be parsed; `offset` is where it breaks."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.offset = offset


class TooLarge(Malformed):
    """Content past a size cap (decompression bombs, absurd lengths)."""


def suffixes(name: str) -> list[str]:
    """Lower-case suffixes of a file or member name: `model.PKL.gz` -> ['.pkl', '.gz']."""
    base = name.rsplit("/", 1)[-1].lower()
    return ["." + part for part in base.split(".")[1:] if part]


def expects_model(name: str, head: bytes) -> bool:
    """Whether the name says the content must be a model format (fail closed otherwise).

    `.pth` is also the suffix of Python's path configuration files (`site` reads them at
    startup): text under that name is one of those, not a broken checkpoint.
    """
    suffix = suffixes(name)[-1:]
    if suffix == [".pth"] and is_text(head):
        return False
    return bool(STRICT_SUFFIXES.intersection(suffix))


def is_text(head: bytes) -> bool:
    """UTF-8 without NUL bytes (a character cut at the end of `head` is allowed)."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3:
            return False
    return b"\0" not in head


def model_named(name: str) -> bool:
    """Whether any suffix is a model one (`model.pkl.gz`, `weights.bin`)."""
    return bool((STRICT_SUFFIXES | LOOSE_SUFFIXES).intersection(suffixes(name)))


MAX_LFS_POINTER = 1024  # the spec caps pointer files at 1024 bytes


def sniff_head(head: bytes, size: int) -> str | None:
    """The format the first bytes announce: 'lfs', 'zip', 'npy', 'gguf', 'hdf5',
    'safetensors', 'pickle', 'tar', 'compressed', '7z' or None. `size` is the whole content's."""
    if head.startswith(LFS_PREFIXES) and size <= MAX_LFS_POINTER and b"\noid sha256:" in head:
        return "lfs"
    if head.startswith((ZIP_LOCAL_MAGIC, ZIP_EMPTY_MAGIC)):
        return "zip"
    if head.startswith(SEVEN_ZIP_MAGIC):
        return "7z"
    if head.startswith(NPY_MAGIC):
        return "npy"
    if head.startswith(GGUF_MAGIC) and len(head) >= 8 and gguf_byte_order(head) is not None:
        return "gguf"
    if head.startswith(HDF5_MAGIC):
        return "hdf5"
    if _safetensors_like(head, size):
        return "safetensors"
    if head[257:262] == b"ustar":
        # before the pickle test: a tar's first bytes are a member name, which may read as
        # pickle opcodes (`certified/...` starts with GLOBAL); scan_tar judges that reading too
        return "tar"
    if looks_like_pickle(head):
        return "pickle"
    if joblib_files.compression_of(head) is not None:
        return "compressed"
    return None


def gguf_byte_order(head: bytes) -> str | None:
    """'<' or '>' for a GGUF header with a known version (1-3), else None."""
    for order in "<>":
        if 1 <= struct.unpack_from(order + "I", head, 4)[0] <= 3:
            return order
    return None


def _safetensors_like(head: bytes, size: int) -> bool:
    """An 8-byte little-endian header length that fits the file, then a JSON object."""
    if len(head) < 10 or head[8:9] != b"{":
        return False
    length = struct.unpack_from("<Q", head)[0]
    return 2 <= length <= size - 8
