"""Is a container image reference immutable? Shared by Dockerfiles and workflows (PIN010)."""

from __future__ import annotations

import re

from mlgate.pins.requirement import Problem
from mlgate.pins.rules import IMAGE_NO_DIGEST

DIGEST = re.compile(r"@sha256:[0-9a-fA-F]{64}")


def check_image(reference: str, offset: int = 0) -> Problem | None:
    """`image[:tag][@sha256:<digest>]`: only a digest names fixed content.

    `scratch` (no image at all) and references still holding a variable (`${BASE}`,
    `${{ matrix.image }}`) are not judged.
    """
    reference = reference.strip()
    if not reference or "$" in reference or reference.lower() == "scratch" or DIGEST.search(reference):
        return None
    last = reference.rsplit("/", 1)[-1]
    _, colon, tag = last.partition(":")
    if "@" in last:
        why = "has a digest that is not a full sha256, so it does not fix the content"
    elif colon and tag:
        why = f"is referenced by the tag '{tag}', which its publisher (or whoever takes over the repository) can move"
    else:
        why = "has no tag or digest: it is whatever 'latest' points to when it is pulled"
    return Problem(IMAGE_NO_DIGEST, f"image {reference} {why}", offset)
