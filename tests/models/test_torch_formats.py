"""PyTorch layouts: zip checkpoints, TorchScript, the legacy stream and the legacy tar.

Fixtures are written by hand in the layouts torch.save used; the raw tensor bytes in
them deliberately look like a malicious pickle, to prove they are never read as code.
"""

from __future__ import annotations

import io
import pickle
import struct
import tarfile

from picklegen import EMPTY_TUPLE, MARK, REDUCE, STOP, TUPLE, TUPLE1, Pickle, global_, short_unicode
from scanhits import EVIL_CALL, evil, hits
from targen import tar_archive
from zipgen import DEFLATED, Entry, build

from mlgate.models import torch_formats

BENIGN = pickle.dumps({"layer.weight": 1}, protocol=2)
MAGIC = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
RAW_LOOKING_EVIL = evil("rm -rf /")  # tensor bytes that happen to read as a pickle


def checkpoint(data_pkl: bytes, *extra: Entry) -> bytes:
    return build(
        [
            Entry("archive/data.pkl", data_pkl, method=DEFLATED),
            Entry("archive/byteorder", b"little"),
            Entry("archive/data/0", RAW_LOOKING_EVIL),
            Entry("archive/data/1", b"\x80\x02" + b"\0" * 64),
            Entry("archive/version", b"3\n"),
            *extra,
        ]
    ).data


def test_zip_checkpoint_storages_are_never_read(scan_tree):
    scan = scan_tree({"model.pt": checkpoint(BENIGN)}, select="models")
    assert hits(scan) == [("MOD003", "model.pt", "archive/data.pkl", 0)]


def test_zip_checkpoint_with_a_malicious_data_pkl(scan_tree):
    scan = scan_tree({"pytorch_model.bin": checkpoint(evil())}, select="models")
    assert hits(scan) == [("MOD001", "pytorch_model.bin", "archive/data.pkl", EVIL_CALL)]


def test_other_members_of_a_checkpoint_are_sniffed(scan_tree):
    data = checkpoint(BENIGN, Entry("archive/.data/serialization_id", evil()), Entry("archive/extra/notes.txt", evil()))
    scan = scan_tree({"model.pt": data}, select="models")
    assert hits(scan) == [
        ("MOD001", "model.pt", "archive/.data/serialization_id", EVIL_CALL),
        ("MOD003", "model.pt", "archive/data.pkl", 0),
        ("MOD001", "model.pt", "archive/extra/notes.txt", EVIL_CALL),
    ]


def test_data_folder_outside_a_checkpoint_is_not_skipped(scan_tree):
    scan = scan_tree({"bundle.zip": build([Entry("x/data/0", evil())]).data}, select="models")
    assert hits(scan) == [("MOD001", "bundle.zip", "x/data/0", EVIL_CALL)]


def test_torchscript_code_members(scan_tree):
    """MOD006 only: TorchScript's own unpickler reads its pickle members."""
    data = checkpoint(
        BENIGN,
        Entry("archive/code/__torch__/model.py", b"class Model(Module):\n  def forward(self, x):\n    return x\n"),
        Entry("archive/code/__torch__/model.py.debug_pkl", BENIGN),
        Entry("archive/constants.pkl", BENIGN),
        Entry("archive/extra/hook.pkl", evil()),
    )
    scan = scan_tree({"scripted.pt": data}, select="models")
    assert hits(scan) == [
        ("MOD006", "scripted.pt", "archive/code/__torch__/model.py", 0),
        ("MOD001", "scripted.pt", "archive/extra/hook.pkl", EVIL_CALL),
    ]
    assert scan.messages("MOD006") == [
        "TorchScript archive with 1 code member(s) that run when it is loaded: archive/code/__torch__/model.py"
    ]


def test_mobile_bytecode_and_many_code_members(scan_tree):
    code = [Entry(f"m/code/__torch__/part{n}.py", b"def f(x):\n  return x\n") for n in range(7)]
    data = build([Entry("m/data.pkl", BENIGN), Entry("m/bytecode.pkl", BENIGN), *code]).data
    scan = scan_tree({"mobile.ptl": data}, select="models")
    assert hits(scan) == [("MOD006", "mobile.ptl", "m/bytecode.pkl", 0)]
    assert scan.messages("MOD006") == [
        "TorchScript archive with 8 code member(s) that run when it is loaded: m/bytecode.pkl, "
        "m/code/__torch__/part0.py, m/code/__torch__/part1.py, m/code/__torch__/part2.py, m/code/__torch__/part3.py and 3 more"
    ]


def test_a_checkpoint_without_code_is_not_torchscript(scan_tree):
    scan = scan_tree({"model.pt": checkpoint(BENIGN, Entry("archive/codebook.py", b"x = 1\n"))}, select="models")
    assert [rule for rule, *_ in hits(scan)] == ["MOD003"]


def legacy_stream(main: bytes) -> tuple[bytes, int]:
    """torch.save(..., _use_new_zipfile_serialization=False): (bytes, offset of `main`)."""
    head = MAGIC + pickle.dumps(1001, protocol=2) + pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2)
    keys = pickle.dumps(["0"], protocol=2)
    storage = struct.pack("<q", len(RAW_LOOKING_EVIL)) + RAW_LOOKING_EVIL
    return head + main + keys + storage, len(head)


def test_legacy_stream_stops_before_the_storages(scan_tree):
    data, _ = legacy_stream(BENIGN)
    scan = scan_tree({"old.pth": data}, select="models")
    assert hits(scan) == [("MOD003", "old.pth", None, 0)]


def test_legacy_stream_with_a_malicious_object(scan_tree):
    data, at = legacy_stream(evil())
    scan = scan_tree({"old": data}, select="models")
    assert hits(scan) == [("MOD001", "old", None, at + EVIL_CALL)]


def test_legacy_magic_is_recognised_in_every_protocol():
    assert torch_formats.is_legacy_stream(MAGIC)
    assert torch_formats.is_legacy_stream(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=0))
    assert torch_formats.is_legacy_stream(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=4))
    assert not torch_formats.is_legacy_stream(BENIGN)


def args_pickle(*items: bytes) -> bytes:
    stream = Pickle(2)
    stream.add(MARK, *items, TUPLE, STOP)
    return stream.bytes()


COUNT = pickle.dumps(1, protocol=2)


def storage_args(storage_type: str = "FloatStorage") -> bytes:
    return args_pickle(short_unicode("0"), short_unicode("cpu"), global_("torch", storage_type))


def storages_member(args: bytes) -> bytes:
    """A count, one (key, location, type) pickle, 7 float32 of raw data, the views pickle."""
    raw = RAW_LOOKING_EVIL.ljust(28, b" ")
    return COUNT + args + struct.pack("<q", len(raw) // 4) + raw + pickle.dumps([], protocol=2)


def tensors_member() -> bytes:
    args = args_pickle(short_unicode("t0"), short_unicode("0"), global_("torch", "FloatTensor"))
    layout = struct.pack("<i4x", 1) + struct.pack("<qqq", 7, 1, 0)
    return COUNT + args + layout


def test_legacy_tar_reads_only_the_pickles(scan_tree):
    data = tar_archive({"sys_info": BENIGN, "pickle": BENIGN, "storages": storages_member(storage_args()), "tensors": tensors_member()})
    scan = scan_tree({"ancient.pt": data}, select="models")
    assert hits(scan) == [
        ("MOD003", "ancient.pt", "pickle", 0),
        ("MOD003", "ancient.pt", "storages", 0),
        ("MOD003", "ancient.pt", "sys_info", 0),
        ("MOD003", "ancient.pt", "tensors", 0),
    ]


def test_legacy_tar_with_malicious_pickles(scan_tree):
    evil_args = args_pickle(global_("os", "system"), short_unicode("id"), TUPLE1, REDUCE, global_("torch", "FloatStorage"))
    data = tar_archive({"pickle": evil(), "storages": storages_member(args=evil_args), "tensors": tensors_member()})
    scan = scan_tree({"ancient.pt": data}, select="models")
    assert hits(scan) == [
        ("MOD001", "ancient.pt", "pickle", EVIL_CALL),
        ("MOD001", "ancient.pt", "storages", len(COUNT) + evil_args.index(REDUCE)),
        ("MOD003", "ancient.pt", "tensors", 0),
    ]


def test_legacy_tar_member_calls_are_one_finding_per_rule(scan_tree):
    """The pickles of one `storages` member are one reading: one MOD002 naming both classes."""
    args = args_pickle(global_("evil.one", "A"), EMPTY_TUPLE, REDUCE, short_unicode("cpu"), global_("torch", "FloatStorage"))
    views = Pickle(2)
    views.add(global_("evil.two", "B"), EMPTY_TUPLE, REDUCE, STOP)
    storages = COUNT + args + struct.pack("<q", 7) + RAW_LOOKING_EVIL.ljust(28, b" ") + views.bytes()
    data = tar_archive({"pickle": BENIGN, "storages": storages, "tensors": tensors_member()})
    scan = scan_tree({"ancient.pt": data}, select="models")
    assert hits(scan) == [
        ("MOD003", "ancient.pt", "pickle", 0),
        ("MOD002", "ancient.pt", "storages", len(COUNT) + args.index(REDUCE)),
        ("MOD003", "ancient.pt", "tensors", 0),
    ]
    assert scan.messages("MOD002") == [
        "pickle calls evil.one.A via REDUCE, which is not in the allowlist of data-rebuilding callables; also evil.two.B"
    ]


def test_legacy_tar_storage_of_unknown_type_fails_closed(scan_tree):
    args = storage_args("WeirdStorage")
    data = tar_archive({"pickle": BENIGN, "storages": storages_member(args), "tensors": tensors_member()})
    scan = scan_tree({"ancient.pt": data}, select="models")
    count_and_args = len(COUNT) + len(args)
    assert hits(scan) == [
        ("MOD003", "ancient.pt", "pickle", 0),
        ("MOD004", "ancient.pt", "storages", count_and_args),
        ("MOD003", "ancient.pt", "tensors", 0),
    ]
    assert scan.messages("MOD004") == ["legacy storage of unknown type WeirdStorage"]


def test_tar_of_model_files_is_scanned_member_by_member(scan_tree):
    data = tar_archive({"model/weights.pkl": evil(), "model/README.md": b"# model\n"})
    scan = scan_tree({"model.tar": data}, select="models")
    assert hits(scan) == [("MOD001", "model.tar", "model/weights.pkl", EVIL_CALL)]


def test_tar_members_that_extraction_would_write_outside_the_folder(scan_tree):
    """NeMo's restore_from extracts the whole .nemo tar: `..` names and outward links write elsewhere."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, kind, link in [
            ("ok/../inside.txt", tarfile.REGTYPE, ""),
            ("../../.bashrc", tarfile.REGTYPE, ""),
            ("cfg/key", tarfile.SYMTYPE, "../../../home/user/.ssh/id_rsa"),
            ("cfg/sibling", tarfile.SYMTYPE, "../ok.txt"),
            ("hard", tarfile.LNKTYPE, "/etc/passwd"),
        ]:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, link
            archive.addfile(info, io.BytesIO(b""))
    data = buffer.getvalue()
    scan = scan_tree({"model.nemo": data}, select="models")
    assert hits(scan) == [("MOD005", "model.nemo", None, 512), ("MOD005", "model.nemo", None, 1024), ("MOD005", "model.nemo", None, 2048)]
    assert scan.messages("MOD005") == [
        "tar member name '../../.bashrc' leaves the archive's folder",
        "tar member 'cfg/key' links to '../../../home/user/.ssh/id_rsa', outside the archive's folder",
        "tar member 'hard' links to '/etc/passwd', outside the archive's folder",
    ]


def _tar_with_links(files: dict[str, bytes], links: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
        for name, target in links.items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            archive.addfile(info)
    return buffer.getvalue()


def test_absolute_links_of_a_container_image_layer_point_inside_the_image(scan_tree):
    """cog's test data: `docker save` output and registry blobs, whose busybox links (`usr/bin/du ->
    /bin/busybox`) the container runtime resolves inside the image's root. The same links beside a
    model, or in an archive that is no root filesystem, are judged as extraction would write them."""
    rootfs = {"bin/busybox": b"\x7fELF", "etc/passwd": b"root:x:0:0\n", "lib/ld-musl.so": b"\x7fELF", "usr/share/motd": b"hi\n"}
    links = {"usr/bin/du": "/bin/busybox"}
    files = {
        "layer.tar": _tar_with_links(rootfs, links),
        "poisoned-layer.tar": _tar_with_links({**rootfs, "usr/models/weights.pkl": evil()}, links),
        "model.tar": _tar_with_links({"model/weights.safetensors.json": b"{}"}, {"model/key": "/root/.ssh/id_rsa"}),
    }
    scan = scan_tree(files, select="models")
    assert hits(scan) == [
        ("MOD005", "model.tar", None, 1024),
        ("MOD005", "poisoned-layer.tar", None, 5120),
        ("MOD001", "poisoned-layer.tar", "usr/models/weights.pkl", EVIL_CALL),
    ]
    assert scan.messages("MOD005") == [
        "tar member 'model/key' links to '/root/.ssh/id_rsa', outside the archive's folder",
        "tar member 'usr/bin/du' links to '/bin/busybox', outside the archive's folder",
    ]
