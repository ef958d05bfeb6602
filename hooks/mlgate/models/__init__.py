"""The `models` hook: model files that can execute code, found by reading bytes only.

`scanner.py` recognises a file by its content and hands it to one module per format;
`walker.py` is our own static pickle opcode walker and `callables.py` says which
callables are dangerous and which ones ML libraries legitimately need. `load_calls.py` reads
Python code that loads such files with a loader that runs code (`unsafe_loads.py`).
"""

from mlgate.findings import declared_rules
from mlgate.hook import Hook, Option
from mlgate.models import load_calls, rules, scanner

OPTIONS = (
    Option(
        "allowlist",
        [],
        "reviewed model files accepted while their content is unchanged: a list of {path: ..., sha256: ...}",
    ),
    Option(
        "allowed-callables",
        [],
        "extra 'module.name' callables to treat as safe data rebuilders (e.g. your own classes)",
    ),
)

HOOK = Hook(
    name="models",
    description="model files in formats that can execute code, by static inspection",
    rules=declared_rules(rules.HOOK),
    scanners=(scanner.SCANNER, load_calls.SCANNER),
    options=OPTIONS,
    online="mlgate.models.online",  # --fix: models/online.py adds weights_only=True to torch.load
    remote_scan="mlgate.models.remote",  # pickle files on the hub, read by ranged requests
)
