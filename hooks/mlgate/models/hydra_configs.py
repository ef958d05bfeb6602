"""Hydra configs inside model archives: `_target_` names a callable the loader calls.

NeMo checkpoints (`.nemo`, a tar) and other Hydra-based model archives keep their
architecture as YAML (`model_config.yaml`); restoring the model passes it to
`hydra.utils.instantiate`, which imports and calls whatever each `_target_` names with the
sibling keys as arguments (CVE-2025-23304: `_target_: os.system` ran on restore). A target
that `callables.dangerous_reason` knows (processes, eval, imports, files, network, ...) is
MOD014, at the byte offset of the target's name in the member. Model classes
(`nemo.collections...`, `torch.optim.Adam`) are what configs are for and are not reported.

The YAML is not parsed: `_target_` keys are found by a pattern over the text, in block and
flow style, with or without quotes, so that a config YAML would refuse still counts.

    is_config(name: str) -> bool
    scan(data: bytes, where) -> list[Finding]
"""

from __future__ import annotations

import re

from mlgate.findings import Finding
from mlgate.models.callables import dangerous_reason
from mlgate.models.rules import HYDRA_TARGET
from mlgate.models.where import Where

_SUFFIXES = (".yaml", ".yml")
MAX_SIZE = 16 << 20
_TARGET = re.compile(rb"""(?:^|[\s{,])["']?_target_["']?\s*:\s*["']?([A-Za-z_][\w.]*)""", re.MULTILINE)
_CALL_ALIAS = ".__call__"  # `os.system.__call__` is os.system to instantiate


def is_config(name: str) -> bool:
    return name.lower().endswith(_SUFFIXES)


def scan(data: bytes, where: Where) -> list[Finding]:
    if len(data) > MAX_SIZE or b"_target_" not in data:
        return []
    found = []
    seen = set()
    for match in _TARGET.finditer(data):
        target = match.group(1).decode("ascii")
        while target.endswith(_CALL_ALIAS):
            target = target[: -len(_CALL_ALIAS)]
        reason = dangerous_reason(target)
        if reason is not None and target not in seen:
            seen.add(target)
            message = f"Hydra _target_ {target} is called when the model is restored (hydra.utils.instantiate): {reason}"
            found.append(where.finding(HYDRA_TARGET, message, match.start(1)))
    return found
