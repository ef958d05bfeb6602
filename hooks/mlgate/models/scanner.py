"""The models scanner: every file is recognised by its bytes and handed to its format.

Every path matches: a pickle named `config.json`, `README` or `weights` is still a
pickle, and sniffing a file costs one read of its first kilobyte (plus its last 64 kB
when only an end-of-archive record could tell, which is how a zip with data put before
it is found). What the bytes are decides the format; the name only decides whether
content we do not recognise fails closed (`formats.expects_model`).

Archives are read member by member, each member sniffed by content whatever its name or
folder, with caps on decompressed bytes per member and per file (decompression bombs)
and on nesting depth. Only bytes that can hold code are read: PyTorch tensor storages,
the bulk of a 1 GB checkpoint, are never touched.

Reviewed files are accepted by the `allowlist` option (path + sha256): only files with an
entry are hashed, and a digest that no longer matches is said in every finding.

`scan_remote` scans content read on demand (a file on the hub read by ranged requests, see
`mlgate.models.remote`): pickles and zip archives only, whose code-bearing bytes are found
without reading the rest; the audit of a remote zip leaves out the local headers of raw tensor
storages (a request each, and nothing a loader runs).
"""

from __future__ import annotations

import dataclasses
import io
import mmap
import os
import posixpath
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mlgate.files import ScanError, SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.models import (
    archive_code,
    chat_templates,
    gguf,
    hdf5,
    hydra_configs,
    joblib_files,
    keras,
    lfs,
    numpy_files,
    onnx,
    pickles,
    safetensors,
    sevenzip,
    skops_files,
    tensorflow,
    torch_formats,
)
from mlgate.models.formats import HEAD_SIZE, LFS_PREFIXES, Malformed, TooLarge, expects_model, is_text, model_named, sniff_head, suffixes
from mlgate.models.rules import ARCHIVE_TAMPERING, PICKLE_FORMAT, SAFETENSORS_INVALID, UNPARSEABLE
from mlgate.models.walker import walk
from mlgate.models.where import Where
from mlgate.models.ziparchive import BrokenMember, Issue, Member, ZipArchive, end_records, escapes_folder
from mlgate.problem import SHA256_HEX

MEMBER_LIMIT = 64 << 20  # decompressed bytes of one archive member analysed
FILE_LIMIT = 512 << 20  # decompressed bytes of all members of one file together
MAX_DEPTH = 4  # archives inside archives
MAX_TAR_MEMBERS = 1 << 16
_SMALL_FILE = 1 << 20  # read at once; larger files are memory-mapped and read where needed
_COMPRESSED_SNIFF = 1 << 16
# Formats whose content can run code: past a size cap they fail closed; the others (HDF5
# weights inside a .keras, a GGUF in a zip) are only reported when they can be read.
_CODE_KINDS = frozenset({"pickle", "zip", "tar", "compressed", "7z"})
_DESCRIPTIONS = {
    None: "not a format mlgate knows",
    "zip": "a zip archive",
    "pickle": "a pickle",
    "npy": "a NumPy array",
    "gguf": "a GGUF file",
    "hdf5": "an HDF5 file",
    "tar": "a tar archive",
    "compressed": "compressed data",
    "lfs": "a git-LFS pointer",
    "onnx": "an ONNX model",
    "safetensors": "a safetensors file",
    "saved_model": "a TensorFlow SavedModel",
    "keras_metadata": "Keras SavedModel metadata",
    "7z": "a 7z archive",
}
KERAS_CONFIG = "config.json"  # the architecture Keras rebuilds (in a .keras zip, a preset folder)


def matches(path: str) -> bool:
    """Every file: formats are recognised by content (see the module docstring)."""
    return True


# `ScanContext.once` purpose of a file's scan: a model file that Python code loads (load_calls) is scanned once per run.
PURPOSE = "models.scan"


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    return context.once(PURPOSE, source, lambda scanned: _scan(scanned, context))


def _scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    entries, problem = allowlist(context.options)
    pinned = entries.get(source.path)
    with _content(source) as data:
        digest = None
        if pinned is not None:
            import hashlib  # only files with an allowlist entry are hashed

            digest = hashlib.sha256(data).hexdigest()
        if digest is not None and digest == pinned:
            return []
        job = _Job(context.options, source.abspath)
        found = job.scan(data, Where(source.path), source.name, 0)
    if problem is not None and (found or job.recognised):
        raise ScanError(problem)
    if digest is not None and pinned is not None:  # (digest is only taken for a pinned file)
        changed = f" (the allowlisted sha256 {pinned[:12]}... no longer matches: the file's is {digest[:12]}...)"
        found = [dataclasses.replace(finding, message=finding.message + changed) for finding in found]
    return found


SCANNER = Scanner("models", matches=matches, scan=scan)

REMOTE_KINDS = frozenset({"pickle", "zip"})  # formats `scan_remote` reads


def scan_remote(data, path: str, options: dict) -> tuple[list[Finding], str | None]:
    """Findings for content read on demand (`len`, index, slices, `find`), and what was not
    scanned because the format is not one whose code can be found without reading it all."""
    job = _Job(options, Path(path))
    name = path.rsplit("/", 1)[-1]
    kind = job.kind_of(data, name) if len(data) else None
    if len(data) and kind not in REMOTE_KINDS:
        from mlgate.online.ranged import NOT_READ_REMOTELY  # online runs only: an offline run never imports mlgate.online

        return [], f"{_DESCRIPTIONS.get(kind, kind)}: {NOT_READ_REMOTELY}"
    return job.scan(data, Where(path), name, 0), None


def allowlist(options: dict) -> tuple[dict[str, str], str | None]:
    """{display path: sha256} from the `allowlist` option, and what is wrong with it."""
    entries: dict[str, str] = {}
    for number, entry in enumerate(options.get("allowlist") or [], 1):
        where = f"models.allowlist entry {number}"
        if not isinstance(entry, dict) or not {"path", "sha256"} <= set(entry) or set(entry) - {"path", "sha256", "reason"}:
            return entries, f"{where}: expected {{path: ..., sha256: ...}} (and optionally reason), got {entry!r}"
        path, digest = entry["path"], entry["sha256"]
        if not isinstance(path, str) or not path.strip():
            return entries, f"{where}: 'path' must be a file path"
        if not isinstance(digest, str) or not SHA256_HEX.fullmatch(digest.removeprefix("sha256:")):
            return entries, f"{where}: 'sha256' must be 64 hexadecimal digits"
        entries[_normal_path(path)] = digest.removeprefix("sha256:").lower()
    return entries, None


def _normal_path(path: str) -> str:
    path = path.strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


@contextmanager
def _content(source: SourceFile) -> Iterator[bytes | mmap.mmap]:
    """The file's bytes: read when small (once for every hook: the others decode the same bytes
    as text), memory-mapped otherwise (only touched pages are read, which keeps a 1 GB checkpoint
    scan at a few MB of memory)."""
    try:
        small = source.small_bytes(_SMALL_FILE)
    except OSError as error:
        raise _unreadable(error) from None
    if small is not None:
        yield small
        return
    try:
        handle = source.open_binary()
    except OSError as error:
        raise _unreadable(error) from None
    with handle:
        if os.fstat(handle.fileno()).st_size <= _SMALL_FILE:
            yield handle.read()
            return
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            yield mapped
        finally:
            try:
                mapped.close()
            except BufferError:
                pass  # a view into it is still referenced; it closes when that goes


def _unreadable(error: OSError) -> ScanError:
    return ScanError(f"cannot read file: {error.strerror or error}")


class _Job:
    """One file's scan: options, the decompression budget, what was recognised."""

    def __init__(self, options: dict, path: Path):
        self.options = options
        self.path = path
        self.budget = FILE_LIMIT
        self.inflation = joblib_files.Allowance(0)  # compressed joblib output, sized by the file at depth 0
        self.recognised = False
        self._sniffed: dict[tuple[bytes, int], str | None] = {}

    def sniff(self, head: bytes, size: int) -> str | None:
        """`sniff_head`, once per head: a member is sniffed from its header, then again as content."""
        key = (head, size)
        if key not in self._sniffed:
            self._sniffed[key] = sniff_head(head, size)
        return self._sniffed[key]

    def scan(self, data, where: Where, name: str, depth: int) -> list[Finding]:
        if not len(data):
            return []  # an empty file (a placeholder `model.pkl`) has nothing any loader could run
        kind = self.kind_of(data, name)
        if depth == 0:
            self.recognised = kind is not None
            self.inflation = joblib_files.Allowance(len(data))
        found = []
        # an LFS pointer gets LFS advice (MOD012), not advice to re-export weights it does not hold
        if ".safetensors" in suffixes(name)[-1:] and kind not in ("safetensors", "lfs"):
            found.append(where.finding(SAFETENSORS_INVALID, f"named .safetensors but the content is {_DESCRIPTIONS[kind]}", 0))
        if kind is None:
            if found:
                return found
            head = bytes(data[:HEAD_SIZE])
            if chat_templates.may_hold_templates(name):  # Jinja templates in any JSON/YAML/template file
                found += chat_templates.scan(data, where, name)
            if name.rsplit("/", 1)[-1] == KERAS_CONFIG and len(data) <= MEMBER_LIMIT:
                found += keras.scan_config(bytes(data), where)  # a keras_hub preset folder
            elif depth > 0 and hydra_configs.is_config(name):  # a config inside a model archive
                found += hydra_configs.scan(bytes(data), where)
            elif expects_model(name, head) and not _refused_at_once(data, head):
                message = f"named {suffixes(name)[-1]} but the content is not a format mlgate knows: it cannot be checked"
                found.append(where.finding(UNPARSEABLE, message, 0))
            elif model_named(name) and len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
                message = f"starts like a pickle (protocol {head[1]}) but does not parse as one: it cannot be checked"
                found.append(where.finding(UNPARSEABLE, message, 0))
            return found
        try:
            found += self.scan_as(kind, data, where, name, depth)
        except Malformed as error:
            found.append(where.finding(UNPARSEABLE, f"{_DESCRIPTIONS.get(kind, kind)} that cannot be parsed: {error}", error.offset))
        except ScanError as error:
            if depth == 0:
                raise
            found.append(where.finding(UNPARSEABLE, str(error), 0))
        return found + self.pickle_reading(kind, data, where, found)

    def pickle_reading(self, kind: str, data, where: Where, found: list[Finding]) -> list[Finding]:
        """What pickle.load would run on bytes of another format (a tar whose first header, a
        protobuf whose first bytes are also a pickle that calls something): judged all the same."""
        if kind == "pickle":
            return []
        seen = {(finding.rule.code, finding.message) for finding in found}
        return [
            finding for finding in pickles.scan_other_reading(data, where, self.options) if (finding.rule.code, finding.message) not in seen
        ]

    def nested(self, depth: int) -> pickles.NestedScan:
        """Scans a value stored inside a pickle as a file of its own (a .keras or torch zip kept as bytes)."""

        def scan_value(value: bytes, where: Where) -> list[Finding]:
            if depth + 1 > MAX_DEPTH:
                return [_too_deep(where)]
            return self.scan(value, where, "", depth + 1)

        return scan_value

    def kind_of(self, data, name: str) -> str | None:
        head = bytes(data[:HEAD_SIZE])
        kind = self.sniff(head, len(data))
        if kind in (None, "pickle", "compressed", "npy", "gguf", "hdf5", "safetensors"):
            # zipfile finds an archive by its end record, whatever comes first (a .keras behind
            # an HDF5 or .npy header): read as a zip, whose leading bytes are scanned as their own format
            records = end_records(data)
            if records and not (kind == "pickle" and _pickle_holds(data, records[0].offset)):
                return "zip"
        if kind is None and hdf5.signature_offset(data) is not None:
            return "hdf5"
        if kind is None and ".onnx" in suffixes(name)[-1:]:
            return "onnx"
        if kind is None and tensorflow.is_saved_model(name):
            return "saved_model"
        if kind is None and keras.is_saved_model_metadata(name):
            return "keras_metadata"
        if kind is None and pickles.calls_when_unpickled(data):
            return "pickle"  # no header we know, but pickle.load would import and call (text pickles, no STOP)
        return kind

    def scan_as(self, kind: str, data, where: Where, name: str, depth: int) -> list[Finding]:
        options = self.options
        if kind == "pickle":
            if torch_formats.is_legacy_stream(bytes(data[:HEAD_SIZE])):
                return torch_formats.scan_legacy_stream(data, where, options)
            if data[0] != 0x80 and not model_named(name):
                # Headerless text that parses as a pickle by accident (a requirements list
                # starting with 'C', SHORT_BINBYTES) matters only if it calls something.
                found = pickles.scan_pickle(data, where, options, expected=False, nested=self.nested(depth))
                return [finding for finding in found if finding.rule is not PICKLE_FORMAT]
            return pickles.scan_pickle(data, where, options, expected=True, nested=self.nested(depth))
        if kind == "zip":
            return self.scan_zip(data, where, depth)
        if kind == "tar":
            return self.scan_tar(data, where, depth)
        if kind == "compressed":
            if not model_named(name) and self.sniff(joblib_files.inflated_head(data[:_COMPRESSED_SNIFF], HEAD_SIZE), HEAD_SIZE) not in (
                "pickle",
                "tar",
            ):
                return []  # compressed data under an unrelated name (`x.csv.gz`) that holds no pickle or archive
            # joblib < 0.10 kept each array of a compressed dump in a side file `x.pkl_01.npy.z`:
            # raw array bytes that ZNDArrayWrapper hands to ndarray.__setstate__, not a pickle
            side_file = suffixes(name)[-2:] == [".npy", ".z"]
            return joblib_files.scan_compressed(
                data, where, options, expected=not side_file, allowance=self.inflation, container=self.compressed_tar(depth)
            )
        if kind == "npy":
            return numpy_files.scan_npy(data, where, options, expected=True)
        if kind == "hdf5":
            return hdf5.scan(data, where, self.path if depth == 0 else None)
        if kind == "keras_metadata":
            return keras.scan_embedded(data, where)[0]
        formats = {
            "gguf": gguf.scan,
            "onnx": onnx.scan,
            "safetensors": safetensors.scan,
            "lfs": lambda data, where: lfs.scan(data, where, name),
            "saved_model": tensorflow.scan,
            "7z": sevenzip.scan,
        }
        return formats[kind](data, where)

    def compressed_tar(self, depth: int) -> Callable[[bytearray, Where], list[Finding] | None]:
        """Scans decompressed content that is a tar archive (a `.tar.gz`) member by member, as
        the loaders that open such archives read it; None for content of any other kind."""

        def scan_if_tar(content: bytearray, where: Where) -> list[Finding] | None:
            if self.sniff(bytes(content[:HEAD_SIZE]), len(content)) != "tar":
                return None
            if depth + 1 > MAX_DEPTH:
                return [_too_deep(where)]
            return self.scan_tar(content, where, depth + 1)

        return scan_if_tar

    # -- zip --------------------------------------------------------------------------------
    def scan_zip(self, data, where: Where, depth: int) -> list[Finding]:
        archive = ZipArchive(data) if isinstance(data, _BUFFERS) else ZipArchive(data, audit_local=_not_storage)
        found = [_issue_finding(issue, where) for issue in archive.issues]
        if archive.start > 0:
            found += self.scan_part(data, 0, archive.start, where, "", depth)
        prefix = torch_formats.checkpoint_prefix(archive)
        torchserve = archive_code.is_torchserve_archive([member.name for member in archive.members])
        skops = skops_files.is_skops_archive([member.name for member in archive.members])
        for member in archive.members:
            if member.is_dir or archive.is_sealed(member) or prefix is not None and torch_formats.is_storage(member, prefix):
                continue
            if torchserve and archive_code.is_python_member(member.name):
                inner = where.inside(member.name)
                found += self.read_and(archive, member, where, lambda content, inner=inner: archive_code.scan(bytes(content), inner))
                continue
            try:
                member_found = self.scan_member(archive, member, where, depth)
            except Malformed as error:  # one member that cannot be read (or is too large) hides none of the others
                member_found = [where.inside(member.name).finding(UNPARSEABLE, str(error), 0)]
            if skops and skops_files.loads_arrays_without_pickle(member.name):
                member_found = [finding for finding in member_found if finding.rule is not UNPARSEABLE]  # np.load refuses it: nothing runs
            found += member_found
        code = torch_formats.torchscript_findings(archive, prefix, where) if prefix is not None else []
        if code:
            # TorchScript's own unpickler reads its pickles; the code members are the risk.
            found = [finding for finding in found if finding.rule is not PICKLE_FORMAT]
        return found + code

    def scan_member(self, archive: ZipArchive, member: Member, container: Where, depth: int) -> list[Finding]:
        where = container.inside(member.name)
        raw = not archive.readable(member)  # unknown method: sniff the bytes as they are
        try:
            head = archive.head(member, HEAD_SIZE, raw=raw)
        except BrokenMember as error:
            head = error.partial
        except Malformed:
            return []  # no local header: already one of the archive's issues
        if not head and not member.size:
            return []  # an empty member (a `.mar` test archive's placeholder `model.pt`): nothing any loader could run
        kind = self.sniff(head, member.size)
        if kind == "npy" and not raw and not numpy_files.scan_npy(head, where, self.options):
            return []  # an array of plain numbers (an .npz member): its header says so, the data is never read
        if kind is None:
            if member.name == KERAS_CONFIG:
                return self.read_and(archive, member, container, lambda content: keras.scan_config(content, where), raw=raw)
            if read_by_name(member.name):
                return self.read_and(archive, member, container, lambda content: self.scan(content, where, member.name, depth + 1), raw=raw)
            if expects_model(member.name, head):
                return [
                    where.finding(
                        UNPARSEABLE, f"member named {suffixes(member.name)[-1]} is not a format mlgate knows: it cannot be checked", 0
                    )
                ]
            return []
        if depth + 1 > MAX_DEPTH:
            return [_too_deep(where)]
        try:
            return self.read_and(archive, member, container, lambda content: self.scan(content, where, member.name, depth + 1), raw=raw)
        except TooLarge as error:
            if kind == "npy" and not numpy_files.scan_npy(head, where, self.options):
                return []  # a large array of plain numbers: nothing in it can run
            return [where.finding(UNPARSEABLE, str(error), 0)] if kind in _CODE_KINDS or kind == "npy" else []

    def read_and(self, archive: ZipArchive, member: Member, container: Where, scan_content, *, raw: bool = False) -> list[Finding]:
        """Reads the member within the budget, checks its CRC, scans it with `scan_content`."""
        found = []
        try:
            content = archive.read(member, min(MEMBER_LIMIT, self.budget), raw=raw)
            if not raw and not archive.crc_matches(member, content):
                message = f"member {member.name!r}: CRC-32 does not match the content (PyTorch does not check it, zipfile refuses it)"
                found.append(container.finding(ARCHIVE_TAMPERING, message, member.header_offset))
        except BrokenMember as error:
            content = error.partial
            if not member.encrypted:  # an encrypted member is already reported as such
                found.append(container.inside(member.name).finding(UNPARSEABLE, str(error), len(content)))
        self.budget -= len(content)
        return found + scan_content(content)

    # -- tar --------------------------------------------------------------------------------
    def scan_tar(self, data, where: Where, depth: int) -> list[Finding]:
        members, escaping, rooted_links = tar_members(data)
        legacy_torch = {name for name, _, _ in members} >= torch_formats.LEGACY_TAR_MEMBERS
        found = [where.finding(ARCHIVE_TAMPERING, message, offset) for message, offset in escaping]
        holds_models = pickles.calls_when_unpickled(data)
        if holds_models:
            # torch.load tries a real file as a legacy tar first; pickle.load reads the same
            # bytes as opcodes from the first member's name on: both readings are judged
            found += pickles.scan_pickle(data, where, self.options, expected=False, nested=self.nested(depth))
        for name, start, size in members:
            inner = where.inside(name)
            if legacy_torch and name in ("storages", "tensors"):
                # Mostly raw tensor bytes that are stepped over, not read: no copy, no cap.
                with memoryview(data)[start : start + size] as view:
                    found += torch_formats.scan_tar_member(name, view, inner, self.options)
            elif (
                self.sniff(head := bytes(data[start : start + min(size, HEAD_SIZE)]), size) is not None
                or expects_model(name, head)
                or read_by_name(name)
            ):
                holds_models = holds_models or model_named(name) or self.sniff(head, size) in _MODEL_KINDS
                found += self.scan_part(data, start, size, inner, name, depth, member=True)
        if holds_models or not _root_filesystem(members):
            found += [where.finding(ARCHIVE_TAMPERING, message, offset) for message, offset in rooted_links]
        return found

    def scan_part(self, data, start: int, size: int, where: Where, name: str, depth: int, *, member: bool = False) -> list[Finding]:
        """A slice of a container (the data before a zip, a tar member), scanned by content."""
        if not member and self.sniff(bytes(data[start : start + min(size, HEAD_SIZE)]), size) is None:
            return []
        if depth + 1 > MAX_DEPTH:
            return [_too_deep(where)]
        try:
            return self.scan(self.part(data, start, size), where, name, depth + 1)
        except TooLarge as error:
            return [where.finding(UNPARSEABLE, str(error), 0)]

    def part(self, data, start: int, size: int) -> bytes:
        if size > min(MEMBER_LIMIT, self.budget):
            raise TooLarge(f"{size} bytes, over the {MEMBER_LIMIT >> 20} MiB limit for content inside a file", start)
        self.budget -= size
        return bytes(data[start : start + size])


def read_by_name(name: str) -> bool:
    """Archive members whose name, not their content, says they can carry code: Jinja templates (JSON, YAML, .jinja),
    TensorFlow graphs and Keras metadata, Hydra configs (a NeMo archive's model_config.yaml)."""
    return (
        chat_templates.may_hold_templates(name)
        or tensorflow.is_saved_model(name)
        or keras.is_saved_model_metadata(name)
        or hydra_configs.is_config(name)
    )


_BUFFERS = (bytes, bytearray, memoryview, mmap.mmap)  # content in memory (else read on demand, `scan_remote`)
_STORAGE_NAME = re.compile(r"[^/]+/(?:data|constants)/[0-9]+")


def _not_storage(member: Member) -> bool:
    """Not named like a raw tensor storage of a torch checkpoint (whatever its record folder)."""
    return _STORAGE_NAME.fullmatch(member.name) is None


def _too_deep(where: Where) -> Finding:
    return where.finding(UNPARSEABLE, f"archives nested more than {MAX_DEPTH} deep: not scanned", 0)


def _issue_finding(issue: Issue, where: Where) -> Finding:
    return where.finding(ARCHIVE_TAMPERING if issue.tampering else UNPARSEABLE, issue.message, issue.offset, severity=issue.severity)


def _refused_at_once(data, head: bytes) -> bool:
    """Text that pickle.load refuses at its first byte (a test's `model.pkl` holding `123`, an HTML
    error page saved as `model.pt`): every loader of a model name fails before it reads anything it
    could run (torch and joblib fall back to pickle; the other formats need their magic), as on an
    empty file. Text that reads further as a pickle is judged as one; a git-LFS pointer that cannot
    be parsed stands for weights nobody scanned, and stays reported."""
    return is_text(head) and not head.startswith(LFS_PREFIXES) and walk(data, max_pickles=1).first_op_error


def _pickle_holds(data, offset: int) -> bool:
    """Whether the pickle at the start covers `offset`: zip bytes pickled as a value make
    a pickle; a zip after the pickle is a polyglot zip-reading loaders see differently."""
    return walk(data, max_pickles=1).end > offset


# Top folders of a root filesystem: a container image's layer (`docker save`, a registry's blobs)
_ROOT_FOLDERS = frozenset({"bin", "sbin", "etc", "usr", "lib", "lib64", "var", "dev", "proc", "sys", "root", "home", "opt", "tmp", "run"})


# what a model is stored as (a root filesystem holds zips and compressed files of its own)
_MODEL_KINDS = frozenset({"pickle", "npy", "gguf", "hdf5", "safetensors", "lfs"})


def _root_filesystem(members: list[tuple[str, int, int]]) -> bool:
    """Whether a tar's files sit in at least three of a root filesystem's top folders (`bin/`,
    `etc/`, `usr/`): a container image layer, whose absolute links the container runtime resolves
    inside its own root (`usr/bin/du -> /bin/busybox`)."""
    tops = {name.lstrip("./").split("/", 1)[0] for name, _, _ in members}
    return len(tops & _ROOT_FOLDERS) >= 3


def tar_members(data) -> tuple[list[tuple[str, int, int]], list[tuple[str, int]], list[tuple[str, int]]]:
    """(name, data offset, size) of the regular files of a tar archive in `data`, and
    (message, header offset) of the members that extraction would write outside its folder
    (NeMo's restore_from extracts the whole archive): `..` or absolute names, links that
    point out; then, apart, the symbolic links to an absolute path (judged by the caller: in a
    container image's layer they point inside the image)."""
    import tarfile

    found: list[tuple[str, int, int]] = []
    escaping: list[tuple[str, int]] = []
    rooted: list[tuple[str, int]] = []
    try:
        with tarfile.open(fileobj=_BufferFile(data), mode="r:") as archive:
            while len(found) < MAX_TAR_MEMBERS and (info := archive.next()) is not None:
                if escapes_folder(posixpath.normpath(info.name)):
                    escaping.append((f"tar member name {info.name!r} leaves the archive's folder", info.offset))
                elif info.issym() or info.islnk():
                    # a symbolic link is relative to its own folder, a hard link to the archive's root
                    target = posixpath.join(posixpath.dirname(info.name), info.linkname) if info.issym() else info.linkname
                    if escapes_folder(posixpath.normpath(target)):
                        message = f"tar member {info.name!r} links to {info.linkname!r}, outside the archive's folder"
                        (rooted if info.issym() and info.linkname.startswith("/") else escaping).append((message, info.offset))
                if info.isfile():
                    if info.offset_data + info.size > len(data):
                        raise Malformed(f"tar member {info.name!r} runs past the end of the archive", info.offset)
                    found.append((info.name, info.offset_data, info.size))
    except (tarfile.TarError, EOFError, ValueError, OSError, UnicodeError, OverflowError) as error:
        raise Malformed(f"tar archive cannot be read: {error}") from None
    return found, escaping, rooted


class _BufferFile(io.RawIOBase):
    """A read-only file over bytes or an mmap, without copying it (for tarfile)."""

    def __init__(self, data):
        self.data = data
        self.at = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self.data[self.at : self.at + len(buffer)]
        buffer[: len(chunk)] = chunk
        self.at += len(chunk)
        return len(chunk)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.at, io.SEEK_END: len(self.data)}[whence]
        self.at = max(0, base + offset)
        return self.at

    def tell(self) -> int:
        return self.at
