"""What OmegaConf reads a plain YAML scalar as, and the text it puts into an interpolation.

OmegaConf loads YAML with PyYAML's SafeLoader, which is YAML 1.1, plus its own float forms
(`1e3`) and without timestamps. A plain `yes` is the boolean True, `0x3` and `03` and `1:30`
are integers, `1_0.5` a float; interpolated into text (`urllib${v}` with `v: 0x3`) the
value becomes Python's `str()` of it (`urllib3`), not the characters written. mlgate's
composer is YAML 1.2 and keeps the characters, so a name built this way is rebuilt here.

    interpolated_text(plain: str) -> str | None   # None: OmegaConf keeps the string as written
"""

from __future__ import annotations

import re

# PyYAML's implicit resolvers (yaml/resolver.py) in the order PyYAML tries them, then
# OmegaConf's added float (omegaconf/_utils.py get_yaml_loader).
_BOOL = re.compile(r"(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)")
_FLOAT = re.compile(
    r"""(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))""",
    re.X,
)
_INT = re.compile(
    r"""(?:[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+
    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)""",
    re.X,
)
_OMEGACONF_FLOAT = re.compile(
    r"""(?:[-+]?[0-9]+(?:_[0-9]+)*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9]+(?:_[0-9]+)*(?:[eE][-+]?[0-9]+)
    |\.[0-9]+(?:_[0-9]+)*(?:[eE][-+][0-9]+)?
    |[-+]?[0-9]+(?:_[0-9]+)*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))""",
    re.X,
)
_NULL = re.compile(r"(?:~|null|Null|NULL|)")


def interpolated_text(plain: str) -> str | None:
    """The text OmegaConf interpolates for a plain (unquoted, untagged) scalar that YAML 1.1
    reads as a boolean, number or null; None for one it reads as a string."""
    try:
        if _BOOL.fullmatch(plain):
            return str(plain.lower() in ("yes", "true", "on"))
        if _FLOAT.fullmatch(plain):
            return str(_float(plain))
        if _INT.fullmatch(plain):
            return str(_int(plain))
        if _OMEGACONF_FLOAT.fullmatch(plain):
            return str(_float(plain))
    except ValueError:  # PyYAML fails the same way (int("", 2), a number past str()'s digit limit): the file does not load
        return None
    return "None" if _NULL.fullmatch(plain) else None


def _int(text: str) -> int:
    """PyYAML's construct_yaml_int."""
    digits = text.replace("_", "")
    sign = -1 if digits[0] == "-" else 1
    digits = digits.lstrip("+-")
    if digits.startswith("0b"):
        return sign * int(digits[2:], 2)
    if digits.startswith("0x"):
        return sign * int(digits[2:], 16)
    if digits != "0" and digits.startswith("0"):
        return sign * int(digits, 8)
    return sign * _sexagesimal(digits, int)


def _float(text: str) -> float:
    """PyYAML's construct_yaml_float."""
    digits = text.replace("_", "").lower()
    sign = -1 if digits[0] == "-" else 1
    digits = digits.lstrip("+-")
    if digits == ".inf":
        return sign * float("inf")
    if digits == ".nan":
        return float("nan")
    return sign * _sexagesimal(digits, float)


def _sexagesimal(digits: str, kind):
    """`1:30` is 90: base 60 for every colon-separated part (summed as PyYAML sums them)."""
    value, base = kind(0), 1
    for part in reversed(digits.split(":")):
        value += kind(part) * base
        base *= 60
    return value
