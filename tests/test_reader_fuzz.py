"""Fuzzed shell scripts and Dockerfiles: every reader ends with findings or a ScanError, never
an internal error.

The inputs are built from the pieces that steer the readers (operators, quotes, expansions,
heredocs, continuations, exec forms, flags, the escape directive) and from every kind of
white space that one consumer treats as a blank and another does not (bash splits words at
space and tab only; BuildKit trims and splits instruction arguments at Unicode spaces). The
number of examples is fixed: the run is bounded by a count, not a clock. Set
MLGATE_FUZZ_EXAMPLES for a longer run (e.g. 20000).
"""

from __future__ import annotations

import os
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlgate import shell
from mlgate.config import Config, options_for
from mlgate.files import ScanError, SourceFile
from mlgate.hook import ScanContext
from mlgate.plugins import load_hooks

EXAMPLES = int(os.environ.get("MLGATE_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)

# Every character Python, Go (unicode.IsSpace) or .NET counts as white space, and the
# controls around them.
SPACES = sorted(
    {chr(c) for c in range(0x3001) if chr(c).isspace() or unicodedata.category(chr(c)) in ("Zs", "Zl", "Zp")}
    | {"\x00", "\x1b", "\u200b", "\ufeff"}
)

SHELL_PIECES = [
    " ",
    "\t",
    "\n",
    "\\",
    "\\\n",
    "'",
    '"',
    "$",
    "$(",
    "${",
    "}",
    "`",
    "(",
    ")",
    "{",
    "}",
    "|",
    "||",
    "&",
    "&&",
    ";",
    ";;",
    "<",
    ">",
    ">>",
    "2>&1",
    "<<",
    "<<-",
    "<<'EOF'",
    "EOF",
    "<(",
    "$'",
    '$"',
    "#",
    "=",
    "A=1",
    "pip",
    "install",
    "-U",
    "torch",
    "--index-url",
    "--extra-index-url",
    "https://x.example/simple",
    "-r",
    "req.txt",
    "curl",
    "-fsSL",
    "wget",
    "sh",
    "bash",
    "-c",
    "sudo",
    "-E",
    "env",
    "timeout",
    "10",
    "xargs",
    "-I",
    "conda",
    "mamba",
    "run",
    "-n",
    "poetry",
    "git",
    "clone",
    "-C",
    "command",
    "-v",
    "exec",
    "jupyter",
    "notebook",
    "lab",
    "--ip",
    "0.0.0.0",
    "--NotebookApp.token=",
    "ray",
    "start",
    "--head",
    "mlflow",
    "server",
    "--host",
    "torchserve",
    "ollama",
    "serve",
    "huggingface-cli",
    "download",
    "org/model",
    "--revision",
    "main",
    "function",
    "f()",
    "if",
    "then",
    "fi",
    "do",
    "done",
    "!",
    "-",
    "--",
    '"$@"',
    "\r",
]
DOCKER_KEYWORDS = [
    "FROM",
    "RUN",
    "CMD",
    "ENTRYPOINT",
    "ENV",
    "ARG",
    "EXPOSE",
    "ADD",
    "COPY",
    "ONBUILD RUN",
    "ONBUILD",
    "LABEL",
    "HEALTHCHECK CMD",
    "SHELL",
    "USER",
    "WORKDIR",
    "# syntax=",
    "# escape=",
    "#",
    "",
    "run",
    "RUN --mount=type=secret,id=x",
    "ADD --checksum=sha256:ab",
]
DOCKER_PIECES = [
    "#",
    "\n",
    "\\\n",
    "`\n",
    "\\",
    "`",
    '["',
    '"]',
    '[""]',
    "[]",
    '["pip", "install", "x"]',
    '["sh", "-c", "',
    '", ',
    "[",
    "]",
    "--from=",
    "--platform=$X ",
    "--mount=type=cache,target=/x ",
    "--checksum=sha256:ab ",
    " AS ",
    "build",
    "python:3.11",
    "${BASE}",
    "${A:-b}",
    "$A",
    "scratch",
    "8888",
    "/tcp",
    "<<EOF\n",
    "EOF\n",
    "<<-X\n",
    ">x",
    "=",
    "NAME=value ",
    "PIP_EXTRA_INDEX_URL=",
    "http://x/",
    "c.ServerApp.token = ''",
    "JUPYTER_TOKEN=",
    "https://x.example/a.tgz",
    "git@github.com:o/r.git#main",
    "NONE",
]

_space = st.sampled_from(SPACES)
_shell_piece = st.sampled_from(SHELL_PIECES)
_docker_piece = st.sampled_from(DOCKER_PIECES)
SHELL_TEXT = st.lists(st.one_of(_shell_piece, _shell_piece, _space), max_size=40).map("".join)
_docker_line = st.tuples(
    st.lists(_space, max_size=2).map("".join),
    st.sampled_from(DOCKER_KEYWORDS),
    st.sampled_from([" ", "\t", "\u00a0", ""]),
    st.lists(st.one_of(_docker_piece, _docker_piece, _shell_piece, _space), max_size=12).map("".join),
).map("".join)
DOCKER_TEXT = st.lists(_docker_line, max_size=8).map("\n".join)

HOOKS = load_hooks()


def scanners_of(path: str) -> list:
    return [(hook, scanner) for hook in HOOKS for scanner in hook.scanners if scanner.matches(path)]


def scan_every_reader(path: str, text: str) -> None:
    """Run each scanner that wants `path` on `text`: findings or ScanError, anything else fails."""
    found = scanners_of(path)
    assert found, path
    for hook, scanner in found:
        if hook.name == "models":
            continue  # reads bytes, not text; fuzzed in tests/models
        source = SourceFile.from_text(path, text.replace("\r\n", "\n").replace("\r", "\n"))
        try:
            list(scanner.scan(source, ScanContext(options=options_for(hook, Config()))))
        except ScanError:
            pass


@FUZZ
@given(text=SHELL_TEXT)
def test_the_shell_lexer_never_fails(text):
    commands = list(shell.walk(shell.parse(text)))
    for command in commands:
        assert all(0 <= word.offset <= word.end <= len(text) for word in command.words)
        command.program  # noqa: B018  (a property that reads the words)


@FUZZ
@given(text=SHELL_TEXT)
def test_shell_script_readers_never_fail(text):
    scan_every_reader("scripts/setup.sh", text)


@FUZZ
@given(text=DOCKER_TEXT)
def test_dockerfile_readers_never_fail(text):
    scan_every_reader("Dockerfile", text)


@FUZZ
@given(text=SHELL_TEXT)
def test_workflow_run_blocks_never_fail(text):
    block = "\n".join("          " + line for line in text.split("\n"))
    scan_every_reader(".github/workflows/ci.yml", f"on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: |\n{block}\n")


# The inputs the adversarial review found, kept as plain cases.
FOUND = [
    ("Dockerfile", 'FROM python:3.11\nCMD [""]\n'),
    ("Dockerfile", 'FROM python:3.11\nENTRYPOINT [""]\n'),
    ("Dockerfile", "FROM python:3.11\nENV >x\n"),
    ("Dockerfile", "FROM python:3.11\nRUN\u00a0pip install torch\n"),
    ("scripts/setup.sh", "\u3000pip install torch\n\u2028 jupyter notebook --ip 0.0.0.0\n\u00a0curl x | sh\n"),
]


def test_the_reviewed_crashes_are_gone():
    for path, text in FOUND:
        scan_every_reader(path, text)
