"""Hub references in shell: scripts, Dockerfile RUN/CMD/ENTRYPOINT, workflow `run:`, notebook `!` lines.

- `huggingface-cli download REPO` / `hf download REPO` without `--revision <sha>` (HUB001);
- `git clone https://huggingface.co/ns/name` not followed by a checkout of a full commit (HUB001);
- hub download URLs and `hf://` paths in any word (HUB001/HUB004), other weight URLs fetched
  by curl/wget with no checksum tool in the script (HUB005) or over http (HUB004);
- options and variables that name a model (`--model_name_or_path ns/name`, `--model`,
  `vllm serve ns/name`, `MODEL_ID=ns/name`, lm-eval's `--model_args pretrained=ns/name,...`),
  pinned by `--revision`/`revision=` in the same command;
- `--trust-remote-code` / `trust_remote_code=True` (HUB002), critical when not pinned, and not
  reported when the model it trusts is a local path;
- `python -c "..."` code, read by `python_code` like a file.
Commands given as lists of strings (YAML `args:`, `subprocess.run([...])`) come in through
`add_arguments`, each string placed by its own function.
"""

from __future__ import annotations

import functools
import re

from mlgate import shell
from mlgate.findings import Finding
from mlgate.hub.references import (
    REFERENCE_KEYS,
    URL_MARKERS,
    Judge,
    Reference,
    is_api_model,
    is_pickle_file,
    is_weight_url,
    repo_id_of,
    setting_key,
)
from mlgate.notes import Note
from mlgate.problem import Place, Problem, is_full_sha

# Text without any of these cannot hold anything this module reports: skip the lexer.
PREFILTER = re.compile(
    r"huggingface|\bhf\b|hf\.co|hf://|hf[-_]hub:|trust.remote.code|model|MODEL|dataset|DATASET|tokenizer|\.(?:pt|pth|bin|ckpt|safetensors|onnx|gguf|h5)\b"
)
_CHECKSUM_TOOLS = re.compile(r"\b(?:sha256sum|sha512sum|shasum|sha256|hashlib)\b")
_CLI_REVISIONS = frozenset({"--revision", "--model-revision", "--model_revision"})
_CLI_TRUST = frozenset({"--trust-remote-code", "--trust_remote_code"})
# Serving CLIs that take the model as their first operand: (program, subcommand words).
_MODEL_OPERAND = (("vllm", ("serve",)), ("lmdeploy", ("serve", "api_server")), ("lmdeploy", ("chat",)))
_SERVING_PROGRAMS = frozenset(name for name, _ in _MODEL_OPERAND)


def _served_model(argv: list[shell.Word]) -> tuple[shell.Word, str] | None:
    """The model operand of `vllm serve MODEL`, `lmdeploy serve api_server MODEL`, `lmdeploy chat MODEL`."""
    program = argv[0].text.rsplit("/", 1)[-1]
    if program not in _SERVING_PROGRAMS:
        return None
    for name, subcommand in _MODEL_OPERAND:
        count = len(subcommand)
        if program == name and len(argv) > count + 1 and tuple(word.text for word in argv[1 : count + 1]) == subcommand:
            return argv[count + 1], " ".join((name, *subcommand))
    return None


_FALSE = frozenset({"false", "False", "0", "no"})
_MODEL_ARGS = frozenset({"--model_args", "--model-args"})
_LLAMA_CPP_REPO = frozenset({"-hf", "-hfr"})  # llama.cpp's short forms of --hf-repo
_PYTHON = re.compile(r"python[0-9.]*")
_ARGV_STRIDE = 1 << 20  # offsets of a list of arguments: element index * stride + offset inside it
_DOWNLOAD_TAKES_VALUE = frozenset(
    {
        "--revision",
        "--repo-type",
        "--include",
        "--exclude",
        "--local-dir",
        "--cache-dir",
        "--token",
        "--max-workers",
        "--local-dir-use-symlinks",
    }
)


class ShellScan:
    """The hub view of the shell of one file, possibly given in several pieces."""

    def __init__(self, judge: Judge, whole_text: str):
        self.judge = judge
        self.whole_text = whole_text
        self.found: list[tuple[Problem, Place]] = []
        self.clones: list[tuple[list[Problem], Place]] = []  # hub clones no later checkout pinned yet
        self.placed: list[Finding | Note] = []  # findings (and notes) of inline Python, already placed

    @functools.cached_property
    def verified(self) -> bool:
        """Whether the file runs a checksum tool anywhere: searched only when a fetched weight URL asks
        (a whole-text search, and a Python file makes a ShellScan for its subprocess calls)."""
        return _CHECKSUM_TOOLS.search(self.whole_text) is not None

    def add(self, text: str, place: Place) -> None:
        if PREFILTER.search(text):
            self.commands(shell.parse(text), place)

    def add_command(self, command: shell.Command, place: Place) -> None:
        self.commands([command], place)

    def add_arguments(self, words: list[str], places: list[Place]) -> None:
        """A command given as a list of strings, each placed by its own function (YAML `args:`, subprocess lists)."""
        command = shell.command_from_words([(text, index * _ARGV_STRIDE) for index, text in enumerate(words)])
        self.add_command(command, lambda problem: places[problem.offset // _ARGV_STRIDE](_moved(problem, problem.offset % _ARGV_STRIDE)))

    def findings(self) -> list[Finding | Note]:
        pending = [(problem, place) for problems, place in self.clones for problem in problems]
        return [place(problem) for problem, place in self.found + pending] + self.placed

    def report(self, problems: list[Problem], place: Place) -> None:
        self.found.extend((problem, place) for problem in problems)

    def commands(self, commands: list[shell.Command], place: Place) -> None:
        for command in shell.walk(commands):
            self.command(command, place)

    def command(self, command: shell.Command, place: Place) -> None:
        argv = command.argv
        for word in command.assignments:
            self.assignment(word, place)
        if not argv:
            return
        program = command.program
        if program in ("export", "declare", "readonly", "local"):
            for word in argv[1:]:
                self.assignment(word, place)
            return
        if program == "git":
            self.git(argv, place)
            return
        if URL_MARKERS.search("\n".join(word.text for word in argv)):  # one search for the command, not one per word
            for word in argv:
                self.report(_in_word(self.judge.urls(word.text), word), place)
        if program in ("curl", "wget"):
            for word in argv[1:]:
                if "://" in word.text and is_weight_url(word.text):
                    self.report(_in_word(self.judge.weight_url(word.text, 0, self.verified, program), word), place)
        if program in ("huggingface-cli", "hf") and len(argv) > 2 and argv[1].text == "download":
            self.hub_download(argv[2:], place)
            return
        if _PYTHON.fullmatch(program):
            self.python_inline(argv, place)
        self.options(argv, place)

    def python_inline(self, argv: list[shell.Word], place: Place) -> None:
        """`python -c "from transformers import ...; AutoModel.from_pretrained('ns/name')"` (image builds)."""
        for index, word in enumerate(argv[1:-1], start=1):
            if word.text == "-c":
                code = argv[index + 1]
                if code.dynamic:
                    return
                # imported here: python_code reads shell strings (subprocess) through this module
                from mlgate.hub.python_code import Unit, scan_units

                def inner(problem: Problem, code: shell.Word = code) -> Finding | Note:
                    return place(_moved(problem, code.offset_at(problem.offset)))

                self.placed.extend(scan_units(self.judge, [Unit(code.text, inner)], code.text))
                return
            if not word.text.startswith("-"):
                return  # a script file

    def assignment(self, word: shell.Word, place: Place) -> None:
        name, equals, value = word.text.partition("=")
        spec = REFERENCE_KEYS.get(setting_key(name)) if equals else None
        if spec is None or word.dynamic:
            return
        repo_id = repo_id_of(value, bare=False)
        if repo_id is None or is_api_model(repo_id, spec[0]) or self.judge.is_local(value):
            return
        reference = Reference(repo_id, word.offset_at(len(name) + 1), spec[0], where=f"${name}")
        self.report(self.judge.reference(reference), place)

    def hub_download(self, args: list[shell.Word], place: Place) -> None:
        values: dict[str, str] = {}
        operands: list[shell.Word] = []
        index = 0
        while index < len(args):
            text = args[index].text
            name, equals, value = text.partition("=")
            if name in _DOWNLOAD_TAKES_VALUE:
                if not equals and index + 1 < len(args):
                    index += 1
                    value = args[index].text
                values[name] = value
            elif not text.startswith("-"):
                operands.append(args[index])
            index += 1
        if not operands or operands[0].dynamic:
            return
        repo_id = repo_id_of(operands[0].text, bare=True)
        if repo_id is None:
            return
        kind = values.get("--repo-type", "model")
        revision = values.get("--revision")
        known = revision is None or "$" not in revision
        pickled = any(is_pickle_file(word.text) for word in operands[1:])  # `hf download ns/name model.bin`
        reference = Reference(repo_id, operands[0].offset_at(0), kind, revision, known, where="hf download", runs_code=pickled)
        self.report(self.judge.reference(reference), place)

    def options(self, argv: list[shell.Word], place: Place) -> None:
        """`--model_name_or_path ns/name`, `vllm serve ns/name`, `--trust-remote-code`, `--model_args`."""
        references: list[Reference] = []
        revision: str | None = None
        revision_known = True
        trust: list[int] = []
        local_models = False
        from_variable = False  # a model given by a variable (`--model-path $(MODEL_PATH)`): its pin is elsewhere
        index = 0 if argv[0].text.startswith("--") else 1  # a Dockerfile CMD may hold only the entrypoint's options
        served = _served_model(argv)
        if served is None and not any(word.text.startswith("-") for word in argv[index:]):
            return  # no option and no served model: nothing named, nothing trusted
        if served is not None:
            word, where = served
            self.candidate(word, word.text, 0, "model", False, where, references)
            local_models = not word.dynamic and self.judge.is_local_path(word.text)
            from_variable = word.dynamic
        while index < len(argv):
            word = argv[index]
            index += 1
            name, equals, value = word.text.partition("=")
            if name in _LLAMA_CPP_REPO:
                name = "--hf-repo"
            elif not name.startswith("--"):
                continue
            following = argv[index] if index < len(argv) else None
            if name in _CLI_TRUST:
                if _turns_trust_on(value if equals else None, following):
                    trust.append(word.offset_at(0))
                continue
            if not equals and following is not None and not following.text.startswith("-"):
                value, value_word, start, index = following.text, following, 0, index + 1
            elif equals:
                value_word, start = word, len(name) + 1
            else:
                continue
            key = setting_key(name)
            if name in _CLI_REVISIONS:
                revision, revision_known = value, not value_word.dynamic
            elif name in _MODEL_ARGS:
                self.model_args(value, value_word, start, place)
            elif key in REFERENCE_KEYS and not value_word.dynamic:
                kind, bare = REFERENCE_KEYS[key]
                if key == "hf_repo":
                    value = value.split(":", 1)[0]  # llama.cpp's `ns/name:Q4_K_M` names a quantisation
                self.candidate(value_word, value, start, kind, bare, name, references)
                local_models = local_models or self.judge.is_local_path(value)
            elif key in REFERENCE_KEYS and REFERENCE_KEYS[key][0] == "model":
                from_variable = True
        # with no model named, one given by a variable and no revision: its pin, if any, is where it is set
        known = revision_known and not (from_variable and revision is None and not references)
        self.option_references(references, revision, known, trust, local_models, place)

    def option_references(
        self, references: list[Reference], revision: str | None, revision_known: bool, trust: list[int], local_models: bool, place: Place
    ) -> None:
        """The models an option list names, at the revision it gives; then its `--trust-remote-code`, judged by whether they are pinned."""
        pinned: bool | None = None
        for reference in references:
            reference.revision, reference.revision_known = revision, revision_known
            reference.runs_code = reference.remote_code = bool(trust)
            self.report(self.judge.reference(reference), place)
            pinned = reference.pinned
        if not references:
            if local_models:
                return  # the model is the project's own files: so is the code it trusts
            pinned = Reference("", 0, revision=revision, revision_known=revision_known).pinned
        for offset in trust:
            self.report(self.judge.trust_remote_code(offset, pinned, "--trust-remote-code", named=bool(references)), place)

    def candidate(self, word: shell.Word, value: str, start: int, kind: str, bare: bool, where: str, into: list[Reference]) -> None:
        repo_id = repo_id_of(value, bare=bare)
        if repo_id is None or word.dynamic or is_api_model(repo_id, kind) or self.judge.is_local(value):
            return
        into.append(Reference(repo_id, word.offset_at(start), kind, where=where))

    def model_args(self, value: str, word: shell.Word, start: int, place: Place) -> None:
        """lm-eval's `--model_args pretrained=ns/name,revision=...,trust_remote_code=True`."""
        fields = {}
        position = 0
        for item in value.split(","):
            key, _, item_value = item.partition("=")
            fields[key.strip()] = (item_value, position + len(key) + 1)
            position += len(item) + 1
        revision = fields.get("revision", (None, 0))[0]
        trust_offset = value.find("trust_remote_code=True")
        named = False
        for key in ("pretrained", "model", "tokenizer", "peft"):
            if key in fields:
                repo_id = repo_id_of(fields[key][0], bare=key == "pretrained")
                if repo_id is not None and not self.judge.is_local(repo_id):
                    reference = Reference(
                        repo_id,
                        word.offset_at(start + fields[key][1]),
                        "model",
                        revision,
                        "$" not in (revision or ""),
                        where="--model_args",
                        runs_code=trust_offset != -1,
                        remote_code=trust_offset != -1,
                    )
                    self.report(self.judge.reference(reference), place)
                    named = True
        if trust_offset != -1:
            pinned = Reference("", 0, revision=revision, revision_known="$" not in (revision or "")).pinned
            self.report(self.judge.trust_remote_code(word.offset_at(start + trust_offset), pinned, named=named), place)

    def git(self, argv: list[shell.Word], place: Place) -> None:
        found = shell.git_subcommand(argv)
        if found is None:
            return
        subcommand, args = found
        if subcommand == "lfs" and args and args[0].text == "clone":
            subcommand, args = "clone", args[1:]
        if subcommand == "clone":
            branch = None
            for position, word in enumerate(args):
                if word.text in ("-b", "--branch") and position + 1 < len(args):
                    branch = args[position + 1].text
                elif word.text.startswith("--branch="):
                    branch = word.text.split("=", 1)[1]
            for word in args:
                if "://" in word.text:
                    problems = _in_word(self.judge.urls(word.text, clone=True), word)
                    if branch is not None and problems and problems[0].rule.code == "HUB001":
                        problems[0].message += f" (cloned at branch or tag '{branch}')"
                    if problems:
                        self.clones.append((problems, place))
                    break
        elif subcommand in ("checkout", "reset", "switch") and self.clones and any(is_full_sha(word.text) or word.dynamic for word in args):
            problems, clone_place = self.clones.pop()
            # the namespace checks stand whatever is checked out
            self.report([problem for problem in problems if problem.rule.code != "HUB001"], clone_place)


def _turns_trust_on(value: str | None, following: shell.Word | None) -> bool:
    """Whether `--trust-remote-code` is on: given alone, `=value` or followed by a word that is a boolean."""
    if value is None:  # no `=`: a following boolean word is its value
        value = following.text if following is not None and following.text in _FALSE | {"true", "True", "1", "yes"} else ""
    return value not in _FALSE


def _moved(problem: Problem, offset: int) -> Problem:
    return Problem(problem.rule, problem.message, offset, problem.severity)


def _in_word(problems: list[Problem], word: shell.Word) -> list[Problem]:
    """Problems with offsets into a word's text, moved to the script."""
    return [_moved(problem, word.offset_at(problem.offset)) for problem in problems]
