"""GitHub workflows (`.github/workflows/*.yml`) and actions (`action.yml`, anywhere).

- `uses: owner/repo[/path]@ref` (steps and reusable workflows) not at a full commit SHA
  (PIN020) at the value; `./local` actions are skipped, `docker://image` must carry a
  digest (PIN010); the `allowed-action-owners` option exempts owners. One at a commit is
  noted (`pinned.ACTION_AT_COMMIT`) for the online cooldown check (PIN032).
- `container:`, `services.<name>.image` and a docker action's `runs.image` without a
  digest (PIN010); `${{ }}` expressions are skipped.
- every `run:` block of a POSIX shell (the default, or `shell: bash`/`sh ...`) goes to
  `commands.Script`, one per job so a checkout in a later step pins an earlier clone;
  `${{ }}` expressions are masked to variables of the same length, so positions hold.
- `env:` entries that set indexes (`PIP_EXTRA_INDEX_URL`) at any level.

The tree is followed along its known keys only, and every node once, so YAML aliases
cost nothing however often they are repeated.
"""

from __future__ import annotations

import re

from mlgate import yamlfile
from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.pins import commands
from mlgate.pins.images import ImageJudge
from mlgate.pins.pinned import ACTION_AT_COMMIT
from mlgate.pins.requirement import Problem
from mlgate.pins.rules import ACTION_NOT_PINNED
from mlgate.problem import is_full_sha
from mlgate.workflow import default_shell, matches, on_windows, run_script

_MATRIX_REFERENCE = re.compile(r"\$\{\{\s*matrix\.([\w-]+(?:\.[\w-]+)*)\s*\}\}")
MAX_MATRIX_VALUES = 256  # aliases could multiply a matrix; we only need to see its values


def _matrix_values(job: yamlfile.Node, path: str) -> list[tuple[yamlfile.Node, str]]:
    """Scalar nodes that `${{ matrix.<path> }}` takes in the job's own `strategy.matrix`, with their text.

    `include:` entries count; a matrix computed at run time (`fromJSON(...)`) has no values.
    """
    matrix = yamlfile.get(yamlfile.get(job, "strategy"), "matrix")
    first, *rest = path.split(".")
    nodes = [yamlfile.get(matrix, first)] + [yamlfile.get(entry, first) for entry in yamlfile.elements(yamlfile.get(matrix, "include"))]
    for key in [*rest, ""]:
        flat: list[yamlfile.Node | None] = []
        for node in nodes:
            flat.extend(yamlfile.elements(node) if yamlfile.is_sequence(node) else [node])
            if len(flat) > MAX_MATRIX_VALUES:
                break
        nodes = [yamlfile.get(node, key) for node in flat] if key else flat
    values: list[tuple[yamlfile.Node, str]] = []
    for node in nodes:
        text = yamlfile.text_of(node)
        if node is not None and text is not None:
            values.append((node, text))
    return values


class _Workflow:
    def __init__(self, source: SourceFile, context: ScanContext):
        self.source = source
        self.context = context
        self.judge = ImageJudge(source, context)
        self.allowed = commands.allowed_indexes(context)
        self.owners = {owner.lower() for owner in context.options.get("allowed-action-owners", []) if isinstance(owner, str)}
        self.findings: list[Finding] = []
        self.seen: set[int] = set()

    def first_visit(self, node: yamlfile.Node | None) -> bool:
        if node is None or id(node) in self.seen:
            return False
        self.seen.add(id(node))
        return True

    def report(self, problem: Problem | None, node: yamlfile.Node) -> None:
        if problem is not None:
            _, locate = yamlfile.scalar_text(self.source, node)
            self.findings.append(commands.placer(self.source.path, locate)(problem))

    def document(self, root: yamlfile.Node) -> None:
        workflow_shell = default_shell(root)
        self.env(root)
        for _, _, job in yamlfile.items(yamlfile.get(root, "jobs")):
            if self.first_visit(job):
                self.job(job, default_shell(job) or workflow_shell)
        runs = yamlfile.get(root, "runs")
        if self.first_visit(runs):  # an action
            self.image(yamlfile.get(runs, "image"), docker_scheme=True)
            self.findings.extend(self.steps(yamlfile.get(runs, "steps"), None, False).findings())

    def job(self, job: yamlfile.Node, default_shell: str | None) -> None:
        self.uses(yamlfile.get(job, "uses"))
        container = yamlfile.get(job, "container")
        self.image(yamlfile.get(container, "image") if yamlfile.is_mapping(container) else container, job)
        for _, _, service in yamlfile.items(yamlfile.get(job, "services")):
            self.image(yamlfile.get(service, "image"), job)
        self.env(job)
        self.findings.extend(self.steps(yamlfile.get(job, "steps"), default_shell, on_windows(job)).findings())

    def steps(self, steps: yamlfile.Node | None, default_shell: str | None, windows: bool) -> commands.Script:
        """The `run:` blocks of one job (or action) as one script, and the steps' `uses:`."""
        script = commands.Script(self.context)
        for step in yamlfile.elements(steps):
            if not self.first_visit(step):
                continue
            self.uses(yamlfile.get(step, "uses"))
            self.env(step)
            found = run_script(self.source, step, default_shell, windows)
            if found is not None:
                script.add(found[0], commands.placer(self.source.path, found[1]))
        return script

    def env(self, node: yamlfile.Node) -> None:
        """`env:` entries are environment variables of every `run:` below them."""
        for name, key_node, value_node in yamlfile.items(yamlfile.get(node, "env")):
            value = yamlfile.text_of(value_node)
            for problem in commands.check_env(name, value, 0, self.allowed) if value is not None else []:
                self.report(problem, key_node)

    def image(self, node: yamlfile.Node | None, job: yamlfile.Node | None = None, docker_scheme: bool = False) -> None:
        reference = yamlfile.text_of(node)
        if node is None or reference is None:
            return
        matrix = _MATRIX_REFERENCE.search(reference)
        if job is not None and matrix:
            self.matrix_image(node, reference, matrix, job)
            return
        if docker_scheme:  # an action's `runs.image` is a local Dockerfile unless it says docker://
            if not reference.startswith("docker://"):
                return
            self.report(self.judge.check(reference[len("docker://") :], len("docker://")), node)
        else:
            self.report(self.judge.check(reference.removeprefix("docker://")), node)

    def matrix_image(self, node: yamlfile.Node, reference: str, matrix: re.Match[str], job: yamlfile.Node) -> None:
        """`image: ${{ matrix.config.image }}`: judge the values the matrix gives it.

        A whole-value reference is reported at each matrix value (where the fix goes); a
        template (`builder:py${{ matrix.python }}`) at the image, once.
        """
        if "${{" in reference[: matrix.start()] + reference[matrix.end() :]:
            return  # another expression we cannot see through
        values = _matrix_values(job, matrix.group(1))
        if matrix.group() == reference:
            for value, _text in values:
                self.image(value)
            return
        for _value, text in values:
            problem = self.judge.check(reference[: matrix.start()] + text + reference[matrix.end() :])
            if problem is not None:
                problem.message += f" (with matrix.{matrix.group(1)} = {text})"
                self.report(problem, node)
                return

    def uses(self, node: yamlfile.Node | None) -> None:
        value = yamlfile.text_of(node)
        if value is not None:
            value = value.strip()  # `uses: |` keeps a trailing newline, which the runner strips
        if node is None or value is None or value.startswith(("./", "../")) or "${{" in value:
            return
        if value.startswith("docker://"):
            self.image(node, docker_scheme=True)
            return
        target, at, ref = value.partition("@")
        if target.split("/", 1)[0].lower() in self.owners:
            return
        if is_full_sha(ref):
            self.note_commit(target, ref, node)
            return
        kind = "reusable workflow" if "/.github/workflows/" in target else "action"
        if not at:
            message = f"{kind} {value} names no ref: it runs whatever the default branch holds"
        else:
            message = f"{kind} {target} is used at '{ref}', a tag or branch its owner (or whoever takes over the account) can move"
        self.report(Problem(ACTION_NOT_PINNED, message, 0), node)

    def note_commit(self, target: str, sha: str, node: yamlfile.Node) -> None:
        """An action at a commit: its date is checked on an online run (the cooldown, PIN032)."""
        parts = target.split("/")
        if not self.context.online or len(parts) < 2 or not parts[0] or not parts[1]:
            return
        _, locate = yamlfile.scalar_text(self.source, node)
        line, column = locate(0)
        self.context.note(ACTION_AT_COMMIT.note((parts[0], parts[1], sha.lower()), self.source.path, line or 1, column or 1))


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    workflow = _Workflow(source, context)
    for root in yamlfile.load_documents(source):
        workflow.document(root)
    return workflow.findings


SCANNER = Scanner("workflows", matches=matches, scan=scan)
