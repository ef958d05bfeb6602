"""skops archives (`.skops`): a zip with `schema.json` at its root, which `skops.io.load`
reads first, and the arrays it points to as `.npy` members.

skops reads those members with `np.load(..., allow_pickle=False)` (object arrays are kept in
the schema instead): a member whose header numpy refuses, or whose dtype holds objects, loads
nothing, so a broken header there is no MOD004 (modelaudit's benign samples carry one). A
pickle with calls inside such a member is still reported: `np.load(allow_pickle=True)` on the
same zip (it is also an `.npz`) would run it.

The types the schema names (`__module__`/`__class__`) are imported only when the user trusts
them (`skops.io.load(trusted=...)`), which skops itself asks for: they are not judged here.

    is_skops_archive(names) -> bool
    loads_arrays_without_pickle(name) -> bool
"""

from __future__ import annotations

SCHEMA = "schema.json"


def is_skops_archive(names: list[str]) -> bool:
    return SCHEMA in names


def loads_arrays_without_pickle(name: str) -> bool:
    """Whether skops reads this member with np.load(allow_pickle=False)."""
    return name.lower().endswith(".npy")
