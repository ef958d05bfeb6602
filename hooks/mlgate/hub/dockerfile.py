"""Dockerfiles: RUN, CMD and ENTRYPOINT go to `commands.ShellScan` (downloads, `--model` options,
`--trust-remote-code`); ENV/ARG that name a model (`ENV MODEL_ID=ns/name`) and hub URLs in any
other instruction (`ADD https://huggingface.co/.../resolve/main/model.bin /models/`) are judged too.
"""

from __future__ import annotations

from mlgate import dockerfile, shell
from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.hub.commands import PREFILTER, ShellScan
from mlgate.hub.references import Judge
from mlgate.notes import Note
from mlgate.problem import Locate, placer

_COMMANDS = frozenset({"RUN", "CMD", "ENTRYPOINT"})


def _locate(source: SourceFile, instruction: dockerfile.Instruction) -> Locate:
    """File positions of offsets into one instruction's text."""
    return lambda offset: source.position(instruction.file_offset(offset))


def scan(source: SourceFile, context: ScanContext) -> list[Finding | Note]:
    if not PREFILTER.search(source.text):
        return []
    judge = Judge(context, str(source.abspath.parent), source.path)
    script = ShellScan(judge, source.text)
    for instruction in dockerfile.instructions(source.text):
        if instruction.keyword == "ONBUILD":
            instruction = instruction.tail(0)
        place = placer(source.path, _locate(source, instruction))
        keyword = instruction.keyword
        if keyword in _COMMANDS:
            text, exec_words = dockerfile.command_form(instruction.text)
            if exec_words is not None:
                script.add_command(shell.command_from_words(exec_words), place)
            else:
                script.add(text, place)
        elif keyword in ("ENV", "ARG"):
            for word in dockerfile.name_values(instruction):
                script.assignment(word, place)
        else:
            script.report(judge.urls(instruction.text), place)
    return script.findings()


SCANNER = Scanner("dockerfile", matches=dockerfile.matches, scan=scan)
