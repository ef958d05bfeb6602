"""PyTorch's own layouts: which bytes of a checkpoint `torch.load` unpickles, and which are
raw tensor data that cannot hold code (never read).

- zip checkpoints (torch >= 1.6): `<prefix>/data.pkl` plus raw storages `<prefix>/data/<key>`;
  every other member is sniffed by the zip scanner like any archive member;
- TorchScript archives (`torch.jit.save`): Python source under `<prefix>/code/` (and
  mobile `bytecode.pkl`) that runs when the model is loaded -> MOD006;
- the legacy stream (torch < 1.6): five pickles back to back (magic number, protocol
  version, sys info, the object, the storage keys), then raw storages;
- the legacy tar (torch < 0.4): members `sys_info`, `pickle`, and `storages` / `tensors`
  in which small pickles alternate with raw bytes.
"""

from __future__ import annotations

import re
import struct

from mlgate.findings import Finding
from mlgate.models import pickles
from mlgate.models.formats import Malformed
from mlgate.models.rules import PICKLE_FORMAT, TORCHSCRIPT_CODE, UNPARSEABLE
from mlgate.models.walker import SiteKind, Walk
from mlgate.models.where import Where
from mlgate.models.ziparchive import Member, ZipArchive

# torch.save's MAGIC_NUMBER as pickled by protocol 2+ (LONG1) and by protocol 0/1 (LONG).
_LEGACY_MAGIC = (b"\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19", b"L119547037146038801333356L\n")
LEGACY_PICKLES = 5
_STORAGE_KEY = re.compile(r"[0-9]+")
_CODE_SHOWN = 5

_ELEMENT_SIZES = {
    "Double": 8,
    "Float": 4,
    "Half": 2,
    "BFloat16": 2,
    "Long": 8,
    "Int": 4,
    "Short": 2,
    "Char": 1,
    "Byte": 1,
    "Bool": 1,
    "ComplexDouble": 16,
    "ComplexFloat": 8,
    "QUInt8": 1,
    "QInt8": 1,
    "QInt32": 4,
    "QUInt4x2": 1,
    "QUInt2x4": 1,
}
_STORAGE_TYPE = re.compile(r"torch\.(?:cuda\.)?(\w+)Storage")
LEGACY_TAR_MEMBERS = frozenset({"pickle", "storages", "tensors"})


def is_legacy_stream(head: bytes) -> bool:
    """Whether a pickle stream starts with torch.save's legacy magic-number pickle."""
    return any(magic in head[:32] for magic in _LEGACY_MAGIC)


def scan_legacy_stream(data, where: Where, options: dict) -> list[Finding]:
    """The five pickles `torch.load` unpickles; the storage bytes after them are not code."""
    return pickles.scan_pickle(data, where, options, expected=True, max_pickles=LEGACY_PICKLES)


def checkpoint_prefix(archive: ZipArchive) -> str | None:
    """The record folder of a torch zip checkpoint (torch takes the first member's), if
    `<prefix>/data.pkl` is there."""
    if not archive.members:
        return None
    prefix = archive.members[0].name.split("/", 1)[0]
    return prefix if any(member.name == f"{prefix}/data.pkl" for member in archive.members) else None


def is_storage(member: Member, prefix: str) -> bool:
    """Raw tensor bytes torch reads by key from data.pkl's persistent ids: never unpickled."""
    folder, _, key = member.name.rpartition("/")
    return folder in (f"{prefix}/data", f"{prefix}/constants") and bool(_STORAGE_KEY.fullmatch(key))


def torchscript_findings(archive: ZipArchive, prefix: str, where: Where) -> list[Finding]:
    """MOD006 naming the code members `torch.jit.load` compiles and runs."""

    def is_code(name: str) -> bool:
        return name.startswith(f"{prefix}/code/") and name.endswith(".py") or name == f"{prefix}/bytecode.pkl"

    code = [member for member in archive.members if not member.is_dir and is_code(member.name)]
    if not code:
        return []
    names = ", ".join(member.name for member in code[:_CODE_SHOWN])
    more = f" and {len(code) - _CODE_SHOWN} more" if len(code) > _CODE_SHOWN else ""
    message = f"TorchScript archive with {len(code)} code member(s) that run when it is loaded: {names}{more}"
    return [where.inside(code[0].name).finding(TORCHSCRIPT_CODE, message, 0, context=f"torchscript|{prefix}")]


def scan_tar_member(name: str, data, where: Where, options: dict) -> list[Finding]:
    """`storages` and `tensors` of a legacy tar: pickles interleaved with raw bytes."""
    skip = _skip_storage if name == "storages" else _skip_tensor
    rules = pickles.policy(options)
    found: list[Finding] = []
    sites = Walk()  # the calls of all its pickles: one finding per rule for the member
    at = 0
    first = True
    while at < len(data):
        reading = pickles.walk_all_readings(data, rules, start=at, max_pickles=1)
        sites.merge(reading, lambda site: True)
        found += pickles.stream_findings(reading, data, where, expected=True, start=at, calls=False)
        if reading.error is not None or not reading.pickles:
            break
        try:
            following = reading.end if first else skip(reading, data, reading.end)
        except Malformed as error:
            found.append(where.finding(UNPARSEABLE, str(error), error.offset))
            break
        if following is None:
            break
        first, at = False, following
    # As for one pickle: MOD003 once, and only when nothing worse was found.
    worse = pickles.call_findings(sites.sites.values(), where, rules) + [finding for finding in found if finding.rule is not PICKLE_FORMAT]
    return sorted(worse, key=lambda finding: finding.offset or 0) or found[:1]


def _skip_storage(reading: Walk, data, at: int) -> int | None:
    """After a (key, location, storage type) pickle: an int64 element count and the elements.
    A pickle naming no storage type is the final storage-views pickle."""
    kinds = [_STORAGE_TYPE.fullmatch(site.name) for site in reading.sites.values() if site.kind is SiteKind.GLOBAL]
    kind = next((match.group(1) for match in kinds if match), None)
    if kind is None:
        return None
    if kind not in _ELEMENT_SIZES:
        raise Malformed(f"legacy storage of unknown type {kind}Storage", at)
    return _checked(data, at + 8 + _read(data, at, "<q") * _ELEMENT_SIZES[kind], at)


def _skip_tensor(reading: Walk, data, at: int) -> int | None:
    """After a (key, storage id, tensor type) pickle: ndim (int32 + 4 padding bytes),
    sizes and strides (int64 each), the storage offset (int64)."""
    ndim = _read(data, at, "<i")
    if ndim < 0:
        raise Malformed(f"legacy tensor with {ndim} dimensions", at)
    return _checked(data, at + 8 + 16 * ndim + 8, at)


def _read(data, at: int, fmt: str) -> int:
    if at + struct.calcsize(fmt) > len(data):
        raise Malformed("legacy torch tar member truncated", at)
    return struct.unpack_from(fmt, data, at)[0]


def _checked(data, end: int, at: int) -> int:
    if end > len(data) or end < at:
        raise Malformed("legacy torch tar member: raw data runs past its end", at)
    return end
