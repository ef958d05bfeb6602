"""Python files (`*.py`, `*.pyw`): hub references found by `python_code`, never imported.

A cheap prefilter skips files that mention nothing a hub reference needs, so most of a
repository is read but never parsed.
"""

from __future__ import annotations

import re

from mlgate import python_ast, python_flow
from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.hub.python_code import Unit, scan_units
from mlgate.hub.references import Judge
from mlgate.notes import Note
from mlgate.problem import placer

# Text without any of these cannot hold a reference python_code reports (plain substring
# tests: much faster than one regex alternation over every position of every file).
_MARKERS = (
    "from_pretrained", "hf_hub", "huggingface", "hf.co/", "hf-mirror.com", "hf://", "HF://", "hub:", "snapshot_download", "load_dataset",
    "torch.hub", "hub.load", "load_state_dict_from_url", "load_url", "download_url_to_file", "get_file",
    "trust_remote_code", "pipeline", "SentenceTransformer", "CrossEncoder", "SparseEncoder", "vllm", "LLM(",
    "load_lora_weights", "load_textual_inversion", "load_ip_adapter", "load_adapter", "urlretrieve", "urlopen",
    "requests", "httpx", "wget", "model_name", "model_id", "base_model", "tokenizer_name", "dataset_name",
    "config_name", "MODEL_ID", "MODEL_NAME", "hf download", "hf_repo",
)  # fmt: skip
# Or a `ns/name` literal assigned to something named like a model setting (`model = "ns/name"`).
_SLASH_LITERAL = re.compile(r"""["'][A-Za-z0-9][\w.-]*/[\w.-]+["']""")
# (`source`, `repo`, `pretrained`, `checkpoint`: what a project's own loader calls the repository it
# hands on, torchtune's `alpaca_dataset(source="tatsu-lab/alpaca")`)
_SETTING_BEFORE = re.compile(
    r"(?i:(?:model|tokenizer|dataset|vae|adapter|embed|teacher|reward|ref|draft|source|repo|pretrained|checkpoint|ckpt)"
    r"\w*[\"']?\s*(?::\s*[\w.\[\] |]+\s*=|[=:,])\s*(?:\w+\(\s*)?)$"
)


def worth_parsing(text: str) -> bool:
    """Cheap test: can `text` hold anything the Python analysis reports?"""
    if any(marker in text for marker in _MARKERS):
        return True
    for match in _SLASH_LITERAL.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        if _SETTING_BEFORE.search(text, max(line_start, match.start() - 80), match.start()):
            return True
    return False


def matches(path: str) -> bool:
    return path.endswith((".py", ".pyw"))


def scan(source: SourceFile, context: ScanContext) -> list[Finding | Note]:
    text = source.text
    if not worth_parsing(text):
        return []
    judge = Judge(context, str(source.abspath.parent), source.path)
    unit = Unit(text, placer(source.path, source.position), module=python_ast.module(source))
    return scan_units(judge, [unit], text, python_flow.file_flow(source))


SCANNER = Scanner("python", matches=matches, scan=scan)
