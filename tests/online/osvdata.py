"""OSV records shaped like the ones osv.dev serves (trimmed to the fields mlgate reads),
kept as an offline database folder in tests/fixtures/osv (the rule pages' examples use it).

- torch and requests: real advisories;
- keras PYSEC-2099-1: found by its words (an ML package, model loading, code execution);
- yamltool PYSEC-2099-2: the same words in a package that loads no models.
"""

import json
from pathlib import Path

DATABASE = Path(__file__).resolve().parents[1] / "fixtures" / "osv"


def record(vuln_id: str) -> dict:
    return json.loads((DATABASE / f"{vuln_id}.json").read_text(encoding="utf-8"))


TORCH = record("GHSA-53q9-r3pm-6pq6")
REQUESTS = record("GHSA-9wx4-h78v-vm56")
KERAS = record("PYSEC-2099-1")
YAML_TOOL = record("PYSEC-2099-2")
