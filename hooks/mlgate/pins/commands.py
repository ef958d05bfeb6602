"""What shell commands install, fetch and clone: the `pins` view of a script.

Every `pins` scanner that sees shell (Dockerfile RUN, workflow `run:`, shell scripts,
notebook `!` lines) feeds it to a `Script`, which reports:
- package installs (pip, `python -m pip`, uv, pipx, poetry, conda/mamba/micromamba) whose
  arguments are not exact pins (PIN001/002/003), and index options that open a second
  door or drop TLS (PIN004/005);
- a download piped or substituted into an interpreter: `curl ... | sh`, `bash <(curl ...)`,
  `sh -c "$(curl ...)"` (PIN011);
- `git clone` of a remote repository not followed by a checkout of a full commit (PIN002);
- settings that add indexes or trust hosts: `PIP_EXTRA_INDEX_URL=...`, `export ...`,
  `pip config set ...` (PIN004/005).

A file may give its shell in pieces (RUN instructions, the steps of a job); each piece comes
with a `place` function that turns a problem (offset into that piece) into a finding, so a
clone in one piece can be pinned by a checkout in a later one and still be placed right.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mlgate import shell
from mlgate.findings import Finding
from mlgate.hook import ScanContext
from mlgate.pins.pinned import note_pin
from mlgate.pins.requirement import (
    Problem,
    check_conda_spec,
    check_index,
    check_poetry_version,
    check_requirement,
    check_url,
    finding_of,
    uv_strategy_is_unsafe,
)
from mlgate.pins.rules import EXTRA_INDEX, INSECURE_INDEX, KNOWN_VULNERABLE, PIPE_TO_SHELL, UNPINNED, VCS_REF
from mlgate.problem import Locate, is_full_sha
from mlgate.problem import placer as problem_placer

# `mlgate.problem.Place` for pins problems, which carry rules: placing one makes a Finding.
Place = Callable[[Problem], Finding]


def placer(path: str, locate: Locate) -> Place:
    """`mlgate.problem.placer` for the pins scanners (see `Place`)."""
    place = problem_placer(path, locate)
    return lambda problem: finding_of(place(problem))


MAX_NESTING = 3  # `bash -c "sh -c '...'"` strings are analysed this deep

# Text without any of these cannot hold anything this module reports: skip the lexer.
_PREFILTER = re.compile(
    r"\b(?:pip[0-9.]*|pipx|uv|conda|mamba|micromamba|poetry|curl|wget|git)\b|INDEX|TRUSTED_HOST|FIND_LINKS|INSECURE_HOST"
)
_PYTHON = re.compile(r"(?:python|pypy)[0-9.]*|py")
_PIP = re.compile(r"pip[0-9.]*")
_VARIABLE_ONLY = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?")
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")
_RANGE_BEFORE_VARIABLE = re.compile(r"[<>~!^*]")
_SCP_REMOTE = re.compile(r"[\w.-]+@[\w.-]+:")
_LOCAL_ARCHIVE = (".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2", ".conda")

_FETCHERS = frozenset({"curl", "wget"})
_PYTHON_WGET = "python -m wget"  # the `wget` package from PyPI: saves under the URL's name
_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "ash", "mksh"})
_EXPORTS = frozenset({"export", "declare", "typeset", "readonly", "local"})
_VERIFIERS = frozenset({"sha256sum", "sha384sum", "sha512sum", "shasum", "gpg", "gpgv", "cosign", "minisign"})


def _options(spec: str) -> frozenset[str]:
    return frozenset(spec.split())


# --- index settings: options, environment variables and `pip config` keys ------------------

_SETTING_OF_OPTION = {
    "-i": "index-url", "--index-url": "index-url", "--default-index": "index-url",
    "--extra-index-url": "extra-index-url", "--index": "extra-index-url",
    "-f": "find-links", "--find-links": "find-links",
    "--trusted-host": "trusted-host", "--allow-insecure-host": "trusted-host",
}  # fmt: skip
_SETTING_OF_ENV = {
    "PIP_INDEX_URL": "index-url", "UV_INDEX_URL": "index-url", "UV_DEFAULT_INDEX": "index-url",
    "PIP_EXTRA_INDEX_URL": "extra-index-url", "UV_EXTRA_INDEX_URL": "extra-index-url", "UV_INDEX": "extra-index-url",
    "PIP_FIND_LINKS": "find-links", "UV_FIND_LINKS": "find-links",
    "PIP_TRUSTED_HOST": "trusted-host", "UV_INSECURE_HOST": "trusted-host",
}  # fmt: skip


def check_setting(setting: str, value: str, offset: int, allowed: tuple[str, ...], label: str) -> list[Problem]:
    """An index setting (`extra-index-url`, `index-url`, `find-links`, `trusted-host`) and its value.

    The value may list several URLs; `name=url` (uv `--index`) is judged by its URL. An extra
    index whose value is unknown (`$TORCH_URL`) is still an extra index.
    """
    problems = []
    for url in value.split():
        if setting == "trusted-host":
            problems.append(
                Problem(
                    INSECURE_INDEX,
                    f"{label} {url} turns TLS certificate checks off for that host: anyone on the network path can serve the packages",
                    offset,
                )
            )
            continue
        if "=" in url.split("://", 1)[0]:
            url = url.split("=", 1)[1]
        found = check_index(url, extra=setting == "extra-index-url", allowed=allowed)
        problems += [Problem(p.rule, f"{label}: {p.message}", offset) for p in found]
    return problems


def same_index(extra: str, main: str) -> bool:
    """Whether an extra index is the main index named again (`${PIP_INDEX}` for both): one source."""

    def normal(url: str) -> str:
        return url.strip().strip("\"'").rstrip("/")

    return bool(main) and normal(extra) == normal(main)


def without_extra_index(problems: list[Problem]) -> list[Problem]:
    """Problems of an index that uv searches first-index: PIN004 does not apply (see PIN004)."""
    return [problem for problem in problems if problem.rule is not EXTRA_INDEX]


def check_env(name: str, value: str, offset: int, allowed: tuple[str, ...] = ()) -> list[Problem]:
    """An environment variable that pip or uv read as an index setting (`PIP_EXTRA_INDEX_URL`)."""
    if name == "UV_INDEX_STRATEGY" and uv_strategy_is_unsafe(value):
        message = f"UV_INDEX_STRATEGY={value} lets every index serve every name, as pip does: the dependency-confusion door"
        return [Problem(EXTRA_INDEX, message, offset)]
    setting = _SETTING_OF_ENV.get(name)
    if not setting:
        return []
    problems = check_setting(setting, value, offset, allowed, name)
    return without_extra_index(problems) if name.startswith("UV_") else problems


def allowed_indexes(context: ScanContext) -> tuple[str, ...]:
    return tuple(value for value in context.options.get("allowed-indexes", []) if isinstance(value, str))


def _shifted(place: Place, to_outer: Callable[[int], int]) -> Place:
    """A place for text nested in a piece (a `bash -c` string, a heredoc body)."""
    return lambda problem: place(Problem(problem.rule, problem.message, to_outer(problem.offset)))


def _starting_at(start: int) -> Callable[[int], int]:
    """Offsets in a piece that starts at `start` of its outer text, made outer offsets."""
    return lambda offset: start + offset


# --- install commands ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Value:
    """An argument or option value: its text and how its characters map to the script."""

    text: str
    word: shell.Word
    start: int = 0  # where the value starts in the word's text (`--spec=...`)

    def offset(self, index: int = 0) -> int:
        return self.word.offset_at(self.start + index)

    def problems(self, found: list[Problem], label: str) -> list[Problem]:
        return [Problem(p.rule, f"{label}: {p.message}", self.offset(p.offset)) for p in found]


@dataclass(frozen=True)
class _Option:
    name: str
    token: shell.Word
    value: _Value | None


def _split_args(args: list[shell.Word], takes_value: frozenset[str]) -> tuple[list[_Option], list[_Value]]:
    """Options (with their values) and operands of an install command."""
    options: list[_Option] = []
    operands: list[_Value] = []
    index = 0
    while index < len(args):
        word, text = args[index], args[index].text
        index += 1
        if text == "--":
            operands.extend(_Value(w.text, w) for w in args[index:])
            break
        if not text.startswith("-") or text == "-":
            operands.append(_Value(text, word))
            continue
        if text.startswith("--"):
            name, equals, value = text.partition("=")
            if equals:
                options.append(_Option(name, word, _Value(value, word, len(name) + 1)))
                continue
        else:
            name = text[:2]
            if len(text) > 2:  # `-rreqs.txt` or a cluster of flags (`-qU`)
                options.append(_Option(name, word, _Value(text[2:], word, 2) if name in takes_value else None))
                continue
        if name in takes_value and index < len(args):
            options.append(_Option(name, word, _Value(args[index].text, args[index])))
            index += 1
        else:
            options.append(_Option(name, word, None))
    return options, operands


def _unresolvable(value: _Value) -> bool:
    """A `$VAR` we cannot see through: judged only by a range operator written before it."""
    if not value.word.dynamic or "$" not in value.text:
        return False
    return _RANGE_BEFORE_VARIABLE.search(value.text[: value.text.index("$")]) is None


def _local_file(text: str) -> bool:
    return "://" not in text and ("/" in text or "\\" in text or text.lower().endswith(_LOCAL_ARCHIVE))


def _python_package(value: _Value, label: str) -> list[Problem]:
    if not value.text or _unresolvable(value) or _local_file(value.text):
        return []
    return value.problems(check_requirement(value.text), label)


def _uv_tool_package(value: _Value, label: str) -> list[Problem]:
    """`uv tool install ruff@0.5.0`: `@version` is uv's exact-version shorthand."""
    name, at, version = value.text.partition("@")
    if at and "://" not in version and not version.startswith(("git+", "file:")) and version != "latest":
        value = _Value(f"{name}=={version}", value.word, value.start)
    return _python_package(value, label)


def _poetry_package(value: _Value, label: str) -> list[Problem]:
    """`poetry add name@^1.2`: poetry's own constraint syntax after `@`."""
    text = value.text
    if not text or _unresolvable(value) or _local_file(text):
        return []
    if text.lower().startswith("git+") and "#" in text and "@" not in text.split("://", 1)[-1].split("/", 1)[-1]:
        text = text.replace("#", "@", 1)  # poetry writes the git ref after `#`
    name, at, version = text.partition("@")
    if at and "://" not in text:
        if version == "latest":
            return value.problems([Problem(UNPINNED, f"'{name}' is added at its latest version, whatever that is at install time")], label)
        return value.problems(check_poetry_version(name, version), label)
    return value.problems(check_requirement(text), label)


def _conda_package(value: _Value, label: str) -> list[Problem]:
    text = value.text
    if not text or _unresolvable(value) or _local_file(text):
        return []
    if "://" in text:
        return value.problems(check_url(text), label)
    return value.problems(check_conda_spec(text), label)


_PYTHON_TAKES_VALUE = _options(
    # pip install
    "-r --requirement -c --constraint -e --editable -t --target --platform --python-version --implementation "
    "--abi --root --prefix --src --upgrade-strategy -C --config-settings --config-setting --global-option "
    "--install-option --no-binary --only-binary --progress-bar --root-user-action --report --log --log-file "
    "--proxy --retries --timeout --exists-action --cert --client-cert --cache-dir --keyring-provider --python "
    "--use-feature --use-deprecated --group "
    # uv pip install / uv add / uv tool install
    "--override --overrides --build-constraint --build-constraints -b --extra --index-strategy --resolution "
    "--prerelease --fork-strategy -p --python-platform --link-mode --config-settings-package --no-build-package "
    "--no-binary-package --only-binary-package --exclude-newer --exclude-newer-package --reinstall-package "
    "--upgrade-package -P --refresh-package --color --config-file --directory --project --torch-backend "
    "--excludes --no-sources-package --python-preference --optional --package --script --rev --tag --branch "
    "--bounds --marker -m --with --with-editable --with-requirements --from "
    # pipx install
    "--spec --pip-args --suffix --preinstall"
) | frozenset(_SETTING_OF_OPTION)
_POETRY_TAKES_VALUE = _options("-G --group -E --extras --source --python --platform --markers -C --directory -P --project")
_CONDA_TAKES_VALUE = _options(
    "-c --channel -n --name -p --prefix --file -f --clone --solver --repodata-fn --subdir --platform -r --root-prefix"
)

_REQUIREMENT_FILES = _options(
    "-r --requirement -c --constraint --override --overrides -b --build-constraint --build-constraints --with-requirements"
)
_PACKAGE_OPTIONS = _options("-e --editable --with --with-editable --spec --from --preinstall")
_REPLACES_OPERANDS = _options("--spec --from")  # the operand then only names the app


@dataclass(frozen=True)
class _Installer:
    takes_value: frozenset[str]
    package: Callable[[_Value, str], list[Problem]]
    conda: bool = False


_PIP_INSTALL = _Installer(_PYTHON_TAKES_VALUE, _python_package)
_UV_TOOL_INSTALL = _Installer(_PYTHON_TAKES_VALUE, _uv_tool_package)
_POETRY_ADD = _Installer(_POETRY_TAKES_VALUE, _poetry_package)
_CONDA_INSTALL = _Installer(_CONDA_TAKES_VALUE, _conda_package, conda=True)

# (tool, subcommand words) -> installer
_INSTALLERS = {
    ("pip", ("install",)): _PIP_INSTALL,
    ("uv", ("pip", "install")): _PIP_INSTALL,
    ("uv", ("add",)): _PIP_INSTALL,
    ("uv", ("tool", "install")): _UV_TOOL_INSTALL,
    ("pipx", ("install",)): _PIP_INSTALL,
    ("poetry", ("add",)): _POETRY_ADD,
    ("conda", ("install",)): _CONDA_INSTALL,
    ("conda", ("create",)): _CONDA_INSTALL,
}
_TOOLS = {"uv": "uv", "pipx": "pipx", "poetry": "poetry", "conda": "conda", "mamba": "conda", "micromamba": "conda"}


def _tool(argv: list[shell.Word]) -> tuple[str, str, list[shell.Word]] | None:
    """(tool, name as written, arguments) for pip/uv/pipx/poetry/conda, `python -m pip` included."""
    program = argv[0].text.rsplit("/", 1)[-1]
    if _PIP.fullmatch(program):
        return "pip", program, argv[1:]
    if program in _TOOLS:
        return _TOOLS[program], program, argv[1:]
    if _PYTHON.fullmatch(program) or argv[0].dynamic:
        for index in range(1, len(argv)):
            text = argv[index].text
            if text == "-m" and index + 1 < len(argv):
                module, rest = argv[index + 1].text, argv[index + 2 :]
            elif text.startswith("-m") and len(text) > 2:
                module, rest = text[2:], argv[index + 1 :]
            elif text.startswith("-"):
                continue
            else:
                return None
            tool = "pip" if _PIP.fullmatch(module) else _TOOLS.get(module)
            return (tool, f"{program} -m {module}", rest) if tool else None
    return None


def _subcommand(args: list[shell.Word], takes_value: frozenset[str]) -> list[int]:
    """Indexes of the leading operands (subcommand words), skipping global options."""
    found: list[int] = []
    index = 0
    while index < len(args) and len(found) < 2:
        text = args[index].text
        if text.startswith("-"):
            index += 2 if text in takes_value else 1
            continue
        found.append(index)
        index += 1
    return found


# --- interpreters ----------------------------------------------------------------------------


def _interpreter(program: str) -> str:
    """'shell', 'python', 'script' (perl/ruby/node), 'eval', 'source' or ''."""
    if program in _SHELLS:
        return "shell"
    if _PYTHON.fullmatch(program):
        return "python"
    if program in ("perl", "ruby", "node"):
        return "script"
    if program == "eval":
        return "eval"
    if program in ("source", "."):
        return "source"
    return ""


_INLINE_FLAG = {"shell": "c", "python": "c", "script": "eEp"}
_INTERPRETER_TAKES_VALUE = {"shell": _options("-o -O +o +O --rcfile --init-file"), "python": _options("-W -X --check-hash-based-pycs")}


def _script_source(argv: list[shell.Word], kind: str) -> tuple[str, shell.Word | None]:
    """How an interpreter gets its program: ('stdin'|'inline'|'file'|'module', the word)."""
    if kind in ("eval", "source"):
        return ("inline" if kind == "eval" else "file"), (argv[1] if len(argv) > 1 else None)
    takes_value = _INTERPRETER_TAKES_VALUE.get(kind, frozenset())
    inline = from_stdin = False
    index = 1
    while index < len(argv):
        text = argv[index].text
        index += 1
        if text == "-":
            return "stdin", None
        if text == "--":
            break
        if text in takes_value:
            index += 1
        elif text.startswith("--"):
            inline = inline or text in ("--eval", "--print")
        elif text.startswith("-") and len(text) > 1:
            if kind == "python" and text[1] == "m":
                return "module", None
            inline = inline or any(flag in text[1:] for flag in _INLINE_FLAG[kind])
            from_stdin = from_stdin or (kind == "shell" and "s" in text[1:])
        else:
            index -= 1
            break
    word = argv[index] if index < len(argv) else None
    if inline:
        return "inline", word
    if from_stdin or word is None:
        return "stdin", None
    return "file", word


# --- the analysis -----------------------------------------------------------------------------


class Script:
    """The shell of one file (or one CI job), possibly given in several pieces."""

    def __init__(self, context: ScanContext):
        self.context = context
        self.allowed = allowed_indexes(context)
        self._findings: list[Finding] = []
        self._clones: list[tuple[Problem, Place]] = []  # clones no later checkout pinned yet
        self._downloads: dict[str, tuple[str, int, Place]] = {}  # file name -> the fetch that wrote it
        self._pip_index = ""  # the index `pip config set global.index-url` set for every later pip

    def add(self, text: str, place: Place) -> None:
        """Analyse one piece of shell text; `place` maps offsets into `text`."""
        if _PREFILTER.search(text):
            self._commands(shell.parse(text), place, 0)

    def add_command(self, command: shell.Command, place: Place) -> None:
        """Analyse a command given already split (a Dockerfile exec form)."""
        self._commands([command], place, 0)

    def add_env(self, name: str, value: str, offset: int, place: Place) -> None:
        self._report(place, check_env(name, value, offset, self.allowed))

    def findings(self) -> list[Finding]:
        return self._findings + [place(problem) for problem, place in self._clones]

    def _report(self, place: Place, problems: Iterable[Problem]) -> None:
        self._findings.extend(place(problem) for problem in problems)

    def _commands(self, commands: list[shell.Command], place: Place, depth: int) -> None:
        for command in shell.walk(commands):
            self._command(command, place, depth)

    def _command(self, command: shell.Command, place: Place, depth: int) -> None:
        for word in command.assignments:
            self._assignment(word, place)
        argv = command.argv
        if not argv:
            self._heredoc_scripts(command, place, depth)  # Dockerfile `RUN <<EOF`
            return
        program = command.program
        fetcher = _fetcher(command)
        if fetcher:
            self._fetch(command, *fetcher, place)
        elif program in _VERIFIERS:
            self._downloads.clear()  # a checksum or signature check: trust what it checked
        elif program in _EXPORTS or (program in ("echo", "printf") and any("GITHUB_ENV" in target.text for _, target in command.redirects)):
            for word in argv[1:]:
                self._assignment(word, place)
        elif program == "git":
            self._git(argv, place)
        kind = _interpreter(program)
        if kind:
            self._interpreter(command, kind, place, depth)
        elif self._downloads:
            self._runs_download(command, None)  # `./install.sh`
        tool = _tool(argv)
        if tool:
            self._install(*tool, place)

    def _assignment(self, word: shell.Word, place: Place) -> None:
        match = _ASSIGNMENT.match(word.text)
        if match:
            self._report(place, check_env(match.group(1), word.text[match.end() :], word.offset_at(0), self.allowed))

    # PIN011 ---------------------------------------------------------------------------------

    def _fetch(self, fetch: shell.Command, fetcher: str, args: list[shell.Word], place: Place) -> None:
        for stage in fetch.downstream():
            kind = _interpreter(stage.program)
            if kind in ("shell", "python", "script") and _script_source(stage.argv, kind)[0] == "stdin":
                message = f"{fetcher} output is piped into {stage.program}: the downloaded script runs without any check of what it is"
                self._report(place, [Problem(PIPE_TO_SHELL, message, fetch.offset)])
                return
        name = _downloaded_file(fetcher, args)
        if name:
            self._downloads[name] = (fetcher, fetch.offset, place)

    def _runs_download(self, runner: shell.Command, script: shell.Word | None) -> None:
        """`wget URL/get-pip.py && python get-pip.py`: one step, no check in between."""
        word = script if script is not None else runner.argv[0]
        name = word.text.rsplit("/", 1)[-1]
        if name not in self._downloads or (script is None and "/" not in word.text):
            return
        fetcher, offset, place = self._downloads.pop(name)
        runs = "it is run" if script is None else f"{runner.program} runs it"
        message = f"{fetcher} downloads {name} and {runs} without checking its sha256 first"
        self._report(place, [Problem(PIPE_TO_SHELL, message, offset)])

    def _interpreter(self, command: shell.Command, kind: str, place: Place, depth: int) -> None:
        mode, word = _script_source(command.argv, kind)
        if mode == "file" and self._downloads:
            self._runs_download(command, word)
        if word is None:
            if mode == "stdin" and kind == "shell":
                self._heredoc_scripts(command, place, depth)
            return
        for inner in shell.walk(word.substitutions):
            if fetcher := _fetcher(inner):
                message = f"{command.program} runs what {fetcher[0]} downloads: the script runs without any check of what it is"
                self._report(place, [Problem(PIPE_TO_SHELL, message, inner.offset)])
                return
        if mode == "inline" and kind in ("shell", "eval") and not word.substitutions and depth < MAX_NESTING:
            self._commands(shell.parse(word.text), _shifted(place, word.offset_at), depth + 1)

    def _heredoc_scripts(self, command: shell.Command, place: Place, depth: int) -> None:
        if depth >= MAX_NESTING:
            return
        for doc in command.heredocs:
            self._commands(shell.parse(doc.body), _shifted(place, _starting_at(doc.offset)), depth + 1)

    # PIN002 for git clone ----------------------------------------------------------------------

    _CLONE_TAKES_VALUE = _options(
        "-b --branch -o --origin -c --config --depth --reference --reference-if-able --separate-git-dir --filter "
        "-j --jobs --shallow-since --shallow-exclude --template -u --upload-pack --revision --server-option --bundle-uri"
    )

    def _git(self, argv: list[shell.Word], place: Place) -> None:
        found = shell.git_subcommand(argv)
        if found is None:
            return
        subcommand, args = found
        if subcommand == "clone":
            self._clone(args, place)
        elif subcommand in ("checkout", "reset", "switch", "fetch") and self._clones:
            refs = [word for word in args if not word.text.startswith("-")]
            # A ref held in a variable is set elsewhere: like `==${VERSION}`, we cannot judge it.
            if any(is_full_sha(word.text) or _VARIABLE_ONLY.fullmatch(word.text) for word in refs):
                self._clones.pop()

    def _clone(self, args: list[shell.Word], place: Place) -> None:
        options, operands = _split_args(args, self._CLONE_TAKES_VALUE)
        if not operands or not _remote(operands[0].text):
            return
        values = {option.name: option.value.text for option in options if option.value is not None}
        revision = values.get("--revision", "")
        if is_full_sha(revision) or _VARIABLE_ONLY.fullmatch(revision):
            return
        url = operands[0]
        branch = values.get("--branch", values.get("-b"))
        where = f"at '{branch}', a branch or tag that can be moved" if branch else "at the default branch, which moves"
        message = f"git clone of {url.text} {where}; check out a full commit SHA after cloning (or clone with --revision=<sha>)"
        self._clones.append((Problem(VCS_REF, message, url.offset()), place))

    # installs ------------------------------------------------------------------------------------

    def _install(self, tool: str, written: str, args: list[shell.Word], place: Place) -> None:
        installer_words = _subcommand(args, _PYTHON_TAKES_VALUE)
        subcommand = tuple(args[i].text for i in installer_words)
        if tool == "pip" and subcommand[:1] == ("config",):
            self._pip_config(args[installer_words[0] + 1 :], place)
            return
        for (name, words), installer in _INSTALLERS.items():
            if name == tool and subcommand[: len(words)] == words:
                used = set(installer_words[: len(words)])
                rest = [word for i, word in enumerate(args) if i not in used]
                label = " ".join((written, *words))
                self._report(place, self._install_problems(installer, rest, label, place))
                return

    def _note_pin(self, installer: _Installer, value: _Value, place: Place) -> None:
        """Keep an exact `name==1.2.3` PyPI argument for the OSV check (online runs only)."""
        if self.context.online and not installer.conda:
            where = place(Problem(KNOWN_VULNERABLE, "", value.offset()))  # where its advisories are reported
            note_pin(self.context, value.text, where.path, where.line or 1, where.column or 1, where.message)

    def _install_problems(self, installer: _Installer, args: list[shell.Word], label: str, place: Place) -> list[Problem]:
        options, operands = _split_args(args, installer.takes_value)
        problems: list[Problem] = []
        # uv searches its indexes first-index unless told otherwise: an extra index is then no door
        uv_first_index = label.startswith("uv ") and not any(
            option.name == "--index-strategy" and option.value is not None and uv_strategy_is_unsafe(option.value.text)
            for option in options
        )
        # `--index-url X --extra-index-url X`: the same index named twice is one source, not two
        main_index = next(
            (option.value.text for option in options if option.value is not None and option.name in ("-i", "--index-url")), ""
        )
        for option in options:
            value = option.value
            if value is None:
                continue
            if installer.conda:
                if option.name in ("-c", "--channel"):
                    problems += value.problems(check_index(value.text, extra=False), f"{label} channel")
            elif option.name in _SETTING_OF_OPTION:
                found = check_setting(
                    _SETTING_OF_OPTION[option.name], value.text, option.token.offset_at(0), self.allowed, f"{label} {option.name}"
                )
                problems += without_extra_index(found) if uv_first_index or same_index(value.text, main_index) else found
            elif option.name in _REQUIREMENT_FILES and "://" in value.text and not _unresolvable(value):
                problems += value.problems(check_url(value.text), label)
            elif option.name in ("-e", "--editable") and "://" not in value.text and not value.text.lower().startswith("git+"):
                continue  # an editable install of a local directory (`-e detectron2_repo`)
            elif option.name in _PACKAGE_OPTIONS:
                problems += installer.package(value, label)
                self._note_pin(installer, value, place)
        if not any(option.name in _REPLACES_OPERANDS for option in options):
            for operand in operands:
                problems += installer.package(operand, label)
                self._note_pin(installer, operand, place)
        return problems

    def _pip_config(self, args: list[shell.Word], place: Place) -> None:
        """`pip config set global.extra-index-url URL` writes the setting for every later pip."""
        operands = [word for word in args if not word.text.startswith("-")]
        if len(operands) >= 3 and operands[0].text == "set":
            key, value = operands[1], operands[2]
            setting = key.text.rsplit(".", 1)[-1]
            if setting == "index-url":
                self._pip_index = value.text
            if setting in ("index-url", "extra-index-url", "find-links", "trusted-host"):
                found = check_setting(setting, value.text, key.offset_at(0), self.allowed, f"pip config {key.text}")
                if setting == "extra-index-url" and same_index(value.text, self._pip_index):
                    found = without_extra_index(found)  # the index itself again (LLaMA-Factory's `${PIP_INDEX}` twice)
                self._report(place, found)


def _fetcher(command: shell.Command) -> tuple[str, list[shell.Word]] | None:
    """(which downloader, its arguments) for curl, wget and `python -m wget`."""
    argv = command.argv
    if command.program in _FETCHERS:
        return command.program, argv[1:]
    if len(argv) > 2 and _PYTHON.fullmatch(command.program) and argv[1].text == "-m" and argv[2].text == "wget":
        return _PYTHON_WGET, argv[3:]
    return None


def _downloaded_file(fetcher: str, args: list[shell.Word]) -> str:
    """Base name of the file a download writes, '' when it writes to stdout."""
    wget = fetcher == "wget"
    output_flag = "O" if wget else "o"
    # wget and python's wget save under the URL's name unless told otherwise; curl writes to stdout
    output, remote_name, url = "", fetcher != "curl", ""
    for index, word in enumerate(args):
        text = word.text
        following = args[index + 1].text if index + 1 < len(args) else ""
        if text.startswith("--"):
            name, equals, value = text.partition("=")
            if name in ("--output-document", "--output"):
                output = value if equals else following
            remote_name = remote_name or name == "--remote-name"
        elif text.startswith("-") and len(text) > 1:
            flags = text[1:]
            if output_flag in flags:
                output = flags[flags.index(output_flag) + 1 :] or following
            remote_name = remote_name or (fetcher == "curl" and "O" in flags)
        elif "://" in text and not url:
            url = text
    if output == "-" or not (output or (remote_name and url)):
        return ""
    return (output or url.split("?", 1)[0].split("#", 1)[0]).rstrip("/").rsplit("/", 1)[-1]


def _remote(url: str) -> bool:
    """A repository on another machine (not a local path or file:// URL)."""
    if "://" in url:
        return not url.lower().startswith("file://")
    return _SCP_REMOTE.match(url) is not None
