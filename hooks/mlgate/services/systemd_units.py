"""systemd units: a service started by `ExecStart=` with the `Environment=` of its `[Service]` section.

How Ollama's documentation (and many a GPU box) exposes a service: a drop-in
`/etc/systemd/system/ollama.service.d/override.conf` with `Environment="OLLAMA_HOST=0.0.0.0"`.
Read as systemd reads it: `Environment=` holds space-separated assignments, each optionally
quoted (`Environment="A=1" B=2`), later ones win, and an empty `Environment=` (or `ExecStart=`)
resets the list; a line ending in `\\` continues on the next;
`ExecStart=` is one command line whose leading `-@:+!` prefixes are flags to systemd. A unit or
drop-in without `ExecStart=` (the drop-in above) is judged by the service its variables name.
"""

from __future__ import annotations

import re

from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.problem import Locate
from mlgate.services import compose, report, scripts
from mlgate.services.launch import Launch, Setting

_SECTION = re.compile(r"^[ \t]*\[([^\]\n]*)\][ \t]*$", re.MULTILINE)
_DIRECTIVE = re.compile(r"^[ \t]*(Environment|ExecStart)[ \t]*=[ \t]*(.*)$", re.MULTILINE)
# One assignment of `Environment=`: `"NAME=value with spaces"`, `'NAME=v'` or `NAME=value`.
_ASSIGNMENT = re.compile(
    r"""(")([A-Za-z_][A-Za-z0-9_]*)=([^"\n]*)"|(')([A-Za-z_][A-Za-z0-9_]*)=([^'\n]*)'|()([A-Za-z_][A-Za-z0-9_]*)=(\S*)"""
)
_EXEC_PREFIXES = "-@:+!"


def matches(path: str) -> bool:
    folder, _, name = path.rpartition("/")
    return name.endswith(".service") or (name.endswith(".conf") and folder.endswith(".service.d"))


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    text = source.text.replace("\\\n", "  ")  # continuation lines: same length, so offsets still hold
    service_section = _service_section(text)
    if service_section is None:
        return []
    start, end = service_section
    env: dict[str, Setting] = {}
    commands: list[tuple[int, str]] = []  # (offset, command line)
    for directive in _DIRECTIVE.finditer(text, start, end):
        if not directive.group(2).strip():  # `Environment=`, `ExecStart=` empty: systemd resets the list (a drop-in's override)
            (env if directive.group(1) == "Environment" else commands).clear()
        elif directive.group(1) == "Environment":
            env.update(_assignments(source, directive.group(2), directive.start(2)))
        else:
            line = directive.group(2).rstrip()
            skipped = len(line) - len(line.lstrip(_EXEC_PREFIXES))
            commands.append((directive.start(2) + skipped, line[skipped:]))
    findings: list[Finding] = []
    for offset, command in commands:
        findings += scripts.script_findings(source.path, command, _shifted(source, offset), dict(env))
    service = compose.service_from_env(env)
    if not commands and service is not None:  # a drop-in that only sets the environment of the unit it extends
        findings += report.launched(source.path, Launch(service, source.position(start), env))
        findings += report.configuration(source.path, [service], env.values())
    return findings


def _shifted(source: SourceFile, offset: int) -> Locate:
    """Positions in a command line that starts at `offset` of the file."""
    return lambda position: source.position(offset + position)


def _service_section(text: str) -> tuple[int, int] | None:
    """Where the `[Service]` section's lines are (a drop-in may hold only that section)."""
    sections = list(_SECTION.finditer(text))
    for index, section in enumerate(sections):
        if section.group(1).strip() == "Service":
            end = sections[index + 1].start() if index + 1 < len(sections) else len(text)
            return section.end(), end
    return None


def _assignments(source: SourceFile, value: str, offset: int) -> dict[str, Setting]:
    found: dict[str, Setting] = {}
    for match in _ASSIGNMENT.finditer(value):
        group = next(index for index in (3, 6, 9) if match.group(index - 1))  # the alternative that matched: its value
        name, text = match.group(group - 1), match.group(group)
        found[name] = Setting(name, text, source.position(offset + match.start(group)), "$" in text)
    return found


SCANNER = Scanner("systemd", matches=matches, scan=scan)
