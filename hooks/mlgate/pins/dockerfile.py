"""Dockerfiles: base images by digest, RUN commands, remote ADD sources, index settings.

- `FROM image[:tag]` without `@sha256:` (PIN010) at the image token; `scratch`, earlier
  stage names and `--platform=` are skipped, `${ARG}` takes the ARG's default (declared
  before the first FROM) and is skipped when it has none; the same for `COPY --from=image`
  and the `# syntax=` frontend image.
- `RUN` (shell form, exec form, heredoc) goes to `commands.Script`: installs, `curl | sh`,
  clones (a checkout in a later RUN pins a clone in an earlier one).
- `ADD <url>` without `--checksum=sha256:` (PIN012); `ADD` of a git repository not at a
  full commit (`#<sha>`) (PIN002).
- `ENV`/`ARG` index settings (`PIP_EXTRA_INDEX_URL=...`): build arguments are environment
  variables of every later RUN.

Instructions come from the core `mlgate.dockerfile` (continuations joined, file offsets kept).
"""

from __future__ import annotations

import re

from mlgate import shell
from mlgate.dockerfile import Instruction, command_form, instructions, legacy_env, matches, name_values, tokens
from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.pins import commands
from mlgate.pins.images import ImageJudge
from mlgate.pins.requirement import Problem
from mlgate.pins.rules import ADD_NO_CHECKSUM, VCS_REF
from mlgate.problem import is_full_sha

_ARG_REFERENCE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def _substitute(reference: str, args: dict[str, str]) -> str | None:
    """`${BASE}:tag` with the ARG defaults filled in, or None when one is unknown."""
    unknown = False

    def value(match: re.Match) -> str:
        nonlocal unknown
        name = match.group(1) or match.group(3)
        if args.get(name):
            return args[name]
        if match.group(2):
            return match.group(2)
        unknown = True
        return ""

    resolved = _ARG_REFERENCE.sub(value, reference)
    return None if unknown or "$" in resolved else resolved


def _git_source(source: str) -> bool:
    lower = source.lower()
    return lower.startswith(("git@", "git://", "ssh://")) or lower.split("#", 1)[0].rstrip("/").endswith(".git")


class _Dockerfile:
    def __init__(self, source: SourceFile, context: ScanContext):
        self.source = source
        self.script = commands.Script(context)
        self.judge = ImageJudge(source, context)
        self.problems: list[tuple[Problem, Instruction]] = []
        self.global_args: dict[str, str] = {}
        self.stages: set[str] = set()
        self.seen_from = False

    def place(self, instruction: Instruction) -> commands.Place:
        return commands.placer(self.source.path, lambda offset: self.source.position(instruction.file_offset(offset)))

    def image(self, reference: str, offset: int, instruction: Instruction) -> None:
        resolved = _substitute(reference, self.global_args)
        if resolved is None or resolved.lower() in self.stages or resolved.isdigit():
            return
        problem = self.judge.check(resolved, offset)
        if problem is not None:
            if resolved != reference:
                problem.message += f" (written as {reference})"
            self.problems.append((problem, instruction))

    def instruction(self, instruction: Instruction) -> None:
        keyword, text = instruction.keyword, instruction.text
        if keyword == "ONBUILD":
            self.instruction(instruction.tail(0))
        elif keyword == "FROM":
            self.from_(instruction)
        elif keyword in ("ARG", "ENV"):
            self.variables(instruction)
        elif keyword == "#syntax":
            self.image(text, 0, instruction)
        elif keyword == "RUN":
            script, exec_words = command_form(text)
            if exec_words is not None:
                self.script.add_command(shell.command_from_words(exec_words), self.place(instruction))
            else:
                self.script.add(script, self.place(instruction))
        elif keyword in ("ADD", "COPY"):
            self.add_or_copy(instruction)

    def from_(self, instruction: Instruction) -> None:
        words = [token for token in tokens(instruction.text) if not token[0].startswith("--")]
        if not words:
            return
        self.image(*words[0], instruction)
        if len(words) >= 3 and words[1][0].lower() == "as":
            self.stages.add(words[2][0].lower())
        self.seen_from = True

    def variables(self, instruction: Instruction) -> None:
        place = self.place(instruction)
        legacy = legacy_env(instruction)
        if legacy is not None:  # `ENV NAME value with spaces`
            name, value, _ = legacy
            self.script.add_env(name, value, 0, place)
            return
        for word in name_values(instruction):
            name, equals, value = word.text.partition("=")
            if instruction.keyword == "ARG" and not self.seen_from:
                self.global_args[name] = value
            if equals:
                self.script.add_env(name, value, word.offset_at(0), place)

    def add_or_copy(self, instruction: Instruction) -> None:
        words = tokens(instruction.text)
        flags = [token for token in words if token[0].startswith("--")]
        paths = [token for token in words if not token[0].startswith("--")]
        for flag, offset in flags:
            if flag.startswith("--from="):
                self.image(flag[len("--from=") :], offset + len("--from="), instruction)
        if instruction.keyword != "ADD":
            return
        verified = any(flag.startswith("--checksum=") for flag, _ in flags)
        for source, offset in paths[:-1]:
            if _git_source(source):
                ref = source.partition("#")[2].split(":", 1)[0]
                if not is_full_sha(ref):
                    where = f"at '{ref}', a branch or tag that can be moved" if ref else "at the default branch, which moves"
                    self.problems.append(
                        (Problem(VCS_REF, f"ADD of the git repository {source} {where}; add #<full commit SHA>", offset), instruction)
                    )
            elif source.lower().startswith(("http://", "https://")) and not verified:
                message = f"ADD {source} without --checksum: whoever controls the URL controls what lands in the image"
                self.problems.append((Problem(ADD_NO_CHECKSUM, message, offset), instruction))

    def findings(self) -> list[Finding]:
        found = [self.place(instruction)(problem) for problem, instruction in self.problems]
        return found + self.script.findings()


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    dockerfile = _Dockerfile(source, context)
    for instruction in instructions(source.text):
        dockerfile.instruction(instruction)
    return dockerfile.findings()


SCANNER = Scanner("dockerfile", matches=matches, scan=scan)
