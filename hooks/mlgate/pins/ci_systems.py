"""CI files of other systems than GitHub Actions: Buildkite, GitLab CI, CircleCI, Azure Pipelines, Lightning.

What each system calls a shell step or an image is one row of `SYSTEMS`: the files it reads,
the keys whose values are shell commands (a string, or a list of strings and nested lists as
YAML anchors make them), and the keys whose values are container images (a string, or a
mapping with `name:` as GitLab writes it). Commands go to `commands.Script`, the reader of
workflow `run:` steps, one script per mapping that holds them (a job or a step, so a clone
pinned by a later checkout of the same job is seen); images go to `images.ImageJudge` (PIN010).

The tree is walked once, every node once (aliases cost nothing), along every mapping: the keys
are distinctive enough in these files. Azure's `- task:` steps hold a script in `inputs:` only
for the shell tasks (`Bash@3`, `CmdLine@2`, `ShellScript@2`); the inputs of other tasks
(PowerShell, Python) are not shell and are not read.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from mlgate import yamlfile
from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.pins import commands
from mlgate.pins.images import ImageJudge
from mlgate.workflow import mask_expressions


@dataclass(frozen=True)
class CiSystem:
    name: str
    patterns: tuple[str, ...]  # fnmatch patterns of the `/`-separated path (with a leading `/`)
    command_keys: frozenset[str]
    image_keys: frozenset[str]
    shell_tasks: tuple[str, ...] = ()  # Azure: `task:` names whose `inputs` hold shell
    not_containers: frozenset[str] = frozenset()  # keys holding a VM or agent, whose `image:` is no container
    # Asked of every file of a repository: the patterns as one expression, as `fnmatch.fnmatchcase`
    # reads each, tried only on a path holding the longest literal piece of one of them (`/.buildkite/`).
    _expression: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _pieces: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_expression", re.compile("|".join(fnmatch.translate(pattern) for pattern in self.patterns)))
        # a pattern with `?` or `[...]` has no piece every match holds as written: the empty piece
        pieces = tuple("" if "?" in pattern or "[" in pattern else max(pattern.split("*"), key=len) for pattern in self.patterns)
        object.__setattr__(self, "_pieces", pieces)

    def matches(self, path: str) -> bool:
        path = "/" + path
        return any(piece in path for piece in self._pieces) and self._expression.match(path) is not None


def _keys(*names: str) -> frozenset[str]:
    return frozenset(names)


SYSTEMS = (
    CiSystem("Buildkite", ("*/.buildkite/*.yml", "*/.buildkite/*.yaml"), _keys("command", "commands"), _keys("image")),
    CiSystem(
        "GitLab CI", ("*/.gitlab-ci.yml", "*/.gitlab-ci.yaml"), _keys("script", "before_script", "after_script"), _keys("image", "services")
    ),
    CiSystem(
        "CircleCI",
        ("*/.circleci/config.yml", "*/.circleci/config.yaml"),
        _keys("run", "command"),
        _keys("image"),
        not_containers=_keys("machine", "macos"),
    ),
    CiSystem(
        "Azure Pipelines",
        ("*/azure-pipelines.yml", "*/azure-pipelines.yaml", "*/.azure-pipelines/*.yml", "*/.azure-pipelines/*.yaml"),
        _keys("script", "bash"),
        _keys("image"),
        shell_tasks=("bash@", "cmdline@", "shellscript@"),
    ),
    CiSystem("Lightning", ("*/.lightning/workflows/*.yml", "*/.lightning/workflows/*.yaml"), _keys("run", "script"), _keys("image")),
)


def system_of(path: str) -> CiSystem | None:
    return next((system for system in SYSTEMS if system.matches(path)), None)


# Every system's literal pieces in one expression: the YAML files of no system are answered in one search.
_ANY_PIECE = re.compile("|".join(re.escape(piece) for system in SYSTEMS for piece in system._pieces))


def matches(path: str) -> bool:
    # every system's files are YAML: the other files of a repository are answered without a pattern
    return path.endswith((".yml", ".yaml")) and _ANY_PIECE.search("/" + path) is not None and system_of(path) is not None


class _Reader:
    def __init__(self, source: SourceFile, context: ScanContext, system: CiSystem):
        self.source = source
        self.context = context
        self.system = system
        self.judge = ImageJudge(source, context)
        self.findings: list[Finding] = []
        self.seen: set[int] = set()  # nodes walked
        self.read: set[int] = set()  # nodes read as commands: an anchored list used twice is read once

    def visit(self, root: yamlfile.Node) -> None:
        pending = [root]
        while pending:
            node = pending.pop()
            if id(node) in self.seen:
                continue
            self.seen.add(id(node))
            if yamlfile.is_sequence(node):
                pending.extend(reversed(yamlfile.elements(node)))
            elif yamlfile.is_mapping(node):
                pending.extend(reversed(self.mapping(node)))

    def mapping(self, node: yamlfile.Node) -> list[yamlfile.Node]:
        """Read the commands and images of one mapping; return the nodes to walk further."""
        script = commands.Script(self.context)
        task = (yamlfile.text_of(yamlfile.get(node, "task")) or "").lower()
        further = []
        for key, _, value in yamlfile.items(node):
            if key in self.system.command_keys:
                for scalar in self.scalars(value):
                    text, locate = yamlfile.scalar_text(self.source, scalar)
                    script.add(mask_expressions(text), commands.placer(self.source.path, locate))
            elif key in self.system.image_keys:
                for image in self.images(value):
                    self.image(image)
            if key in self.system.not_containers:
                continue  # `machine: {image: ubuntu-2204:current}` is a VM image
            if key == "inputs" and self.system.shell_tasks and task and not task.startswith(self.system.shell_tasks):
                continue  # a PowerShell or Python task: its `script` input is not shell
            further.append(value)
        self.findings.extend(script.findings())
        return further

    def scalars(self, value: yamlfile.Node) -> list[yamlfile.Node]:
        """A command string, or the strings of a list (nested lists flattened, as anchors make them)."""
        found: list[yamlfile.Node] = []
        pending = [value]
        while pending:
            item = pending.pop()
            if id(item) in self.read:
                continue
            self.read.add(id(item))
            if yamlfile.is_sequence(item):
                pending.extend(reversed(yamlfile.elements(item)))
            elif yamlfile.is_scalar(item) and yamlfile.text_of(item) is not None:
                found.append(item)
        return found

    def images(self, value: yamlfile.Node) -> list[yamlfile.Node]:
        """`image: ref`, `image: {name: ref}` (GitLab), and `services: [ref, {name: ref}]`."""
        values = yamlfile.elements(value) if yamlfile.is_sequence(value) else [value]
        found = []
        for item in values:
            named = yamlfile.get(item, "name") if yamlfile.is_mapping(item) else item
            if named is not None and yamlfile.is_scalar(named):
                found.append(named)
        return found

    def image(self, node: yamlfile.Node) -> None:
        reference = yamlfile.text_of(node)
        problem = self.judge.check(reference.removeprefix("docker://")) if reference else None
        if problem is not None:
            _, locate = yamlfile.scalar_text(self.source, node)
            self.findings.append(commands.placer(self.source.path, locate)(problem))


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    system = system_of(source.path)
    if system is None:
        return []
    reader = _Reader(source, context, system)
    for root in yamlfile.load_documents(source):
        reader.visit(root)
    return reader.findings


SCANNER = Scanner("ci_systems", matches=matches, scan=scan)
