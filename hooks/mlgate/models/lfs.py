"""git-LFS pointer files: the model is not in the checkout, only its address.

A pointer is a small text file (`version https://git-lfs.github.com/spec/v1`, `oid
sha256:<hex>`, `size <bytes>`) that `git lfs pull` replaces with the real file. Nothing
in it can run, but nothing was scanned either: MOD012 (low) says so, with the oid, so a
pipeline can fetch the object and scan it.

The object is not there, so only the pointer's name says what it will be. Repositories keep
pictures, recordings, documents and fonts in LFS as well (lerobot's test images, a docs logo),
and tensors, tables and text whose readers run no code (safetensors, Parquet, Arrow, CSV, JSON:
lerobot's hundreds of `.safetensors` test artifacts, lighteval's reference scores): their pointers
are not reported, but for the JSON files a model server renders a chat template from
(`tokenizer_config.json`, `chat_template.json`).
"""

from __future__ import annotations

import re

from mlgate.findings import Finding
from mlgate.models.formats import Malformed, suffixes
from mlgate.models.rules import LFS_POINTER
from mlgate.models.where import Where

_OID = re.compile(rb"^oid (sha256:[0-9a-f]{64})\r?$", re.MULTILINE)
_SIZE = re.compile(rb"^size ([0-9]+)\r?$", re.MULTILINE)

# Names whose readers run nothing from the file: images, video, audio, documents, fonts, and
# formats that hold only tensors or tables (safetensors refuses anything but its header and bytes).
INERT_SUFFIXES = frozenset(
    ".png .jpg .jpeg .gif .bmp .webp .svg .ico .tif .tiff .heic .mp4 .avi .mov .mkv .webm .m4v .wav .mp3 .flac .ogg "
    ".m4a .aac .pdf .doc .docx .ppt .pptx .xls .xlsx .md .rst .html .css .ttf .otf .woff .woff2 "
    ".safetensors .parquet .arrow .feather .csv .tsv .json .jsonl .txt".split()
)
# JSON a model server renders a Jinja chat template from: its pointer stays reported
TEMPLATE_HOLDERS = frozenset({"tokenizer_config.json", "chat_template.json", "processor_config.json"})


def scan(data, where: Where, name: str) -> list[Finding]:
    text = bytes(data)
    oid, size = _OID.search(text), _SIZE.search(text)
    if oid is None or size is None:
        raise Malformed("git-LFS pointer without a sha256 oid and a size")
    if INERT_SUFFIXES.intersection(suffixes(name)[-1:]) and name.rsplit("/", 1)[-1].lower() not in TEMPLATE_HOLDERS:
        return []
    message = f"git-LFS pointer to {oid.group(1).decode()} ({int(size.group(1))} bytes): the model itself was not scanned"
    return [where.finding(LFS_POINTER, message, 0)]
