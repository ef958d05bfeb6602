"""Chat templates shipped beside Hugging Face models: `tokenizer_config.json` (key
`chat_template`: a string, or a list of `{"name", "template"}`), `chat_template.json` and
`chat_template.jinja` (what transformers >= 4.43 writes).

Inference stacks render them with Jinja when a conversation is formatted; one rendered
outside a sandbox runs whatever the template reaches (the GGUF metadata variant is
CVE-2024-34359). The constructs are judged as in GGUF files (`gguf.template_injection`),
and reported as MOD009 at the byte offset of the first construct inside the JSON string.

    is_chat_template_file(name: str) -> bool
    scan(data: bytes, where, name) -> list[Finding]
"""

from __future__ import annotations

import json
import re

from mlgate.findings import Finding
from mlgate.models.gguf import injection_finding
from mlgate.models.where import Where

JSON_NAMES = frozenset({"tokenizer_config.json", "chat_template.json"})
JINJA_NAME = "chat_template.jinja"
MAX_SIZE = 32 << 20  # tokenizer configs with their added tokens stay far below this
_KEY = re.compile(r'"(chat_template|template)"\s*:\s*"')


def is_chat_template_file(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base in JSON_NAMES or base == JINJA_NAME


def scan(data: bytes, where: Where, name: str) -> list[Finding]:
    if len(data) > MAX_SIZE:
        return []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return []  # not a config transformers could read either
    if name.rsplit("/", 1)[-1] == JINJA_NAME:
        finding = injection_finding(JINJA_NAME, text, lambda index: len(text[:index].encode("utf-8")), where)
        return [finding] if finding else []
    found = []
    for match in _KEY.finditer(text):
        try:
            template, _ = json.decoder.scanstring(text, match.end())
        except json.JSONDecodeError:
            continue  # broken JSON: transformers refuses the file
        raw_start = match.end()

        def byte_offset(index: int, raw_start: int = raw_start) -> int:
            return len(text[: _raw_index(text, raw_start, index)].encode("utf-8"))

        finding = injection_finding(match.group(1), template, byte_offset, where)
        if finding is not None:
            found.append(finding)
    return found


def _raw_index(text: str, start: int, decoded: int) -> int:
    """Index in `text` of the `decoded`-th character of the JSON string starting at `start`."""
    at = start
    for _ in range(decoded):
        if text[at] == "\\":
            at += 6 if text[at + 1] == "u" else 2
        else:
            at += 1
    return at
