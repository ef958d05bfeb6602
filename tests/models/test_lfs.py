"""git-LFS pointers: recognised by content under any name, noted (MOD012), never scanned."""

from __future__ import annotations

from scanhits import hits

OID = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"
POINTER = f"version https://git-lfs.github.com/spec/v1\noid sha256:{OID}\nsize 438001234\n"


def test_pointer_under_any_name(scan_tree):
    scan = scan_tree({"pytorch_model.bin": POINTER, "weights": POINTER.replace("\n", "\r\n")}, select="models")
    assert hits(scan) == [("MOD012", "pytorch_model.bin", None, 0), ("MOD012", "weights", None, 0)]
    assert scan.messages("MOD012")[0] == f"git-LFS pointer to sha256:{OID} (438001234 bytes): the model itself was not scanned"
    assert str(scan.findings[0].severity) == "low"


def test_malformed_pointers(scan_tree):
    no_oid = "version https://git-lfs.github.com/spec/v1\nsize 12\n"
    no_size = f"version https://git-lfs.github.com/spec/v1\noid sha256:{OID}\n"
    scan = scan_tree({"model.pt": no_oid, "notes.txt": no_oid, "weights.bin": no_size}, select="models")
    assert hits(scan) == [("MOD004", "model.pt", None, 0), ("MOD004", "weights.bin", None, 0)]
    assert scan.messages("MOD004") == [
        "named .pt but the content is not a format mlgate knows: it cannot be checked",
        "a git-LFS pointer that cannot be parsed: git-LFS pointer without a sha256 oid and a size",
    ]


def test_documents_mentioning_lfs_are_not_pointers(scan_tree):
    scan = scan_tree(
        {"README.md": f"Run git lfs pull.\n{POINTER}", ".gitattributes": "*.bin filter=lfs diff=lfs merge=lfs -text\n"}, select="models"
    )
    assert (scan.findings, scan.errors) == ([], [])


def test_a_pointer_named_safetensors_is_not_advice_to_re_export(scan_tree):
    """Not MOD011 (re-export the weights): the weights are simply not there, and what reads a .safetensors runs nothing."""
    scan = scan_tree({"model.safetensors": POINTER, "broken.safetensors": "not a header"}, select="models")
    assert hits(scan) == [("MOD011", "broken.safetensors", None, 0)]


def test_empty_model_files_have_nothing_to_load(scan_tree):
    """Placeholders (kserve's example `model.pkl`): no loader runs anything from 0 bytes; one byte is checked."""
    scan = scan_tree({"model.pkl": b"", "model.joblib": b"", "model.safetensors": b"", "model.pt": b"\x00"}, select="models")
    assert hits(scan) == [("MOD004", "model.pt", None, 0)]


def test_pointers_to_pictures_documents_tensors_and_tables_are_not_reported(scan_tree):
    """lerobot keeps its test images and tensors in LFS, Triton its docs logo: what reads those runs nothing (the name is all a pointer has)."""
    names = ["tests/artifacts/image_128x128.PNG", "docs/logo.svg", "data/episode.mp4", "paper.pdf", "data/train.parquet"]
    names += [
        "tests/artifacts/frame_0.safetensors",
        "tests/reference_scores/results.json",
        "model.png.pkl",
        "tokenizer_config.json",
        "weights",
    ]
    scan = scan_tree({name: POINTER for name in names}, select="models")
    assert hits(scan) == [
        ("MOD012", "model.png.pkl", None, 0),
        ("MOD012", "tokenizer_config.json", None, 0),
        ("MOD012", "weights", None, 0),
    ]
