"""7z archives: mlgate does not open them, so they fail closed (MOD004).

7z can hold anything a zip can (picklescan and modelaudit ship 7z archives with malicious
pickles inside, and the nullifAI models on Hugging Face were PyTorch checkpoints packed with
7z). Reading one needs LZMA/LZMA2 folders, BCJ filters and an encoded header - a reader of
its own or a heavy dependency (py7zr) - so the archive is reported as unscanned wherever it
is and whatever its name, at the severity of any other model content mlgate cannot read.

    MAGIC: the six bytes every 7z archive starts with
    scan(data, where) -> list[Finding]
"""

from __future__ import annotations

from mlgate.findings import Finding
from mlgate.models.rules import UNPARSEABLE
from mlgate.models.where import Where

MAGIC = b"7z\xbc\xaf\x27\x1c"


def scan(data, where: Where) -> list[Finding]:
    message = f"a 7z archive ({len(data)} bytes): mlgate cannot open 7z, so nothing in it (pickles included) was scanned"
    return [where.finding(UNPARSEABLE, message, 0)]
