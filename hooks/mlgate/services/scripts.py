"""Shell scripts and the shell of GitHub workflow `run:` steps and Ray cluster launcher commands.

`docker run` lines are containers and are judged as such (docker_run.py).

A service started here runs on a machine (a developer's, a CI runner, a cluster node), not
in a container whose ports someone else publishes: it is reported only when its command
line or environment binds it beyond loopback (`--host 0.0.0.0`, `OLLAMA_HOST=0.0.0.0`,
`--bind_all`), at that setting. Variables set earlier in the script (`export X=...`,
`X=...`) and the step's `env:` count as its environment.
"""

from __future__ import annotations

from mlgate import shell, workflow, yamlfile
from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.problem import Locate
from mlgate.services import docker_run, report
from mlgate.services.launch import Setting, assignments, commands_in, launch_of, mentions_service
from mlgate.services.report import node_spot

_EXPORTS = frozenset({"export", "declare", "typeset", "readonly", "local"})
_LAUNCHER_KEYS = ("head_start_ray_commands", "worker_start_ray_commands", "head_setup_commands", "setup_commands")


def script_findings(path: str, text: str, locate: Locate, env: dict[str, Setting]) -> list[Finding]:
    """Findings for the services one piece of shell text starts (`env` grows as it is read)."""
    findings = []
    for command, where in commands_in(text, locate):
        if not command.argv:
            env.update(assignments(command.assignments, where))
        elif command.program in _EXPORTS:
            env.update(assignments(command.argv[1:], where))
        launch = launch_of(command, where, env)
        if launch is not None:
            findings += report.launched(path, launch)
            findings += report.configuration(path, [launch.service], launch.settings.values())
        findings += docker_run.findings(path, command, where)
    return findings


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    if not shell.is_shell_script(source) or not mentions_service(source.text):
        return []
    return script_findings(source.path, source.text, source.position, {})


def _step_env(source: SourceFile, *nodes: yamlfile.Node | None) -> dict[str, Setting]:
    env: dict[str, Setting] = {}
    for node in nodes:
        for name, _, value in yamlfile.items(yamlfile.get(node, "env")):
            text = yamlfile.text_of(value) or ""
            env[name] = Setting(name, text, node_spot(source, value), "${{" in text)
    return env


def scan_workflow(source: SourceFile, context: ScanContext) -> list[Finding]:
    if "run:" not in source.text or not mentions_service(source.text):
        return []
    findings: list[Finding] = []
    for root in yamlfile.load_documents(source):
        default = workflow.default_shell(root)
        for _, _, job in yamlfile.items(yamlfile.get(root, "jobs")):
            windows = workflow.on_windows(job)
            for step in yamlfile.elements(yamlfile.get(job, "steps")):
                found = workflow.run_script(source, step, workflow.default_shell(job) or default, windows)
                if found is not None:
                    findings += script_findings(source.path, found[0], found[1], _step_env(source, root, job, step))
    return findings


def launcher_findings(source: SourceFile, document: yamlfile.Node) -> list[Finding]:
    """Ray cluster launcher YAML: the `ray start` lines of `head_start_ray_commands` and friends."""
    findings: list[Finding] = []
    for key in _LAUNCHER_KEYS:
        env: dict[str, Setting] = {}
        for element in yamlfile.elements(yamlfile.get(document, key)):
            if yamlfile.text_of(element) is not None:
                text, locate = yamlfile.scalar_text(source, element)
                findings += script_findings(source.path, text, locate, env)
    return findings


SCANNER = Scanner("shell_scripts", matches=shell.is_script_path, scan=scan)
WORKFLOW_SCANNER = Scanner("workflows", matches=workflow.matches, scan=scan_workflow)
