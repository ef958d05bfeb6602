"""Writes tar archives in memory (NeMo `.nemo` files, legacy torch tars, bundles of a model
folder), for the tests and for benchmarks/model_specimens.py."""

from __future__ import annotations

import io
import tarfile


def tar_archive(members: dict[str, bytes]) -> bytes:
    """A POSIX (pax) tar of regular files, in the order given."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()
