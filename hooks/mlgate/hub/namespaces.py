"""Is a hub namespace a look-alike of a well-known organisation, or outside the allowlist?

A look-alike is a namespace that is not a known organisation (nor a trusted one) but whose
*skeleton* equals one's, or is one edit away from one for names long enough that a single
edit is not a different common word. The skeleton folds case and the characters people and
fonts confuse: `l`/`I`/`1`/`i`, `0`/`o`, `rn`/`m`, `vv`/`w`, `5`/`s`, `_`/`.`/`-`.
"""

from __future__ import annotations

from functools import lru_cache

from mlgate.hub.organisations import KNOWN_ORGANISATIONS

_FOLD = str.maketrans({"1": "l", "i": "l", "|": "l", "0": "o", "5": "s", "_": "-", ".": "-"})
_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))
MIN_LENGTH_FOR_ONE_EDIT = 6  # `BAAI` vs `BAAL`, `timm` vs `tim`: too short to tell from a different name


def skeleton(name: str) -> str:
    text = name.lower().translate(_FOLD)
    for pair, single in _PAIRS:
        text = text.replace(pair, single)
    return text


_KNOWN_LOWER = frozenset(name.lower() for name in KNOWN_ORGANISATIONS)
_KNOWN_SKELETONS = {skeleton(name): name for name in KNOWN_ORGANISATIONS}


def _one_edit_apart(a: str, b: str) -> bool:
    """Levenshtein distance exactly 1 (substitution, insertion or deletion)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    index = 0
    while index < len(a) and a[index] == b[index]:
        index += 1
    if len(a) == len(b):
        return a[index + 1 :] == b[index + 1 :]
    return a[index:] == b[index + 1 :]


@lru_cache(maxsize=4096)
def imitated_organisation(namespace: str, trusted: frozenset[str] = frozenset()) -> str | None:
    """The known organisation `namespace` imitates, or None (`trusted` is lower-case)."""
    lower = namespace.lower()
    if lower in _KNOWN_LOWER or lower in trusted:
        return None
    shape = skeleton(namespace)
    if shape in _KNOWN_SKELETONS:
        return _KNOWN_SKELETONS[shape]
    if len(shape) < MIN_LENGTH_FOR_ONE_EDIT:
        return None
    for known_shape, name in _KNOWN_SKELETONS.items():
        if len(known_shape) >= MIN_LENGTH_FOR_ONE_EDIT and _one_edit_apart(shape, known_shape):
            return name
    return None
