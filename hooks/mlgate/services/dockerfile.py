"""Dockerfiles: the service the image starts, and whether it is meant to be reached.

The last `ENTRYPOINT`/`CMD` of the final stage (exec or shell form, `sh -c` unwrapped, the
two joined as Docker joins them) or the base image says which service runs; `ENV`/`ARG`
values and Jupyter settings written into its config by a `RUN` (`c.ServerApp.token = ''`)
configure it. The container is reachable when the service binds every interface — by an
explicit option (`--host 0.0.0.0`, reported there) or, for services that do so by default
and official images, when an `EXPOSE` names its port (reported at that port).
"""

from __future__ import annotations

import re

from mlgate import shell
from mlgate.dockerfile import Instruction, exec_form, instructions, legacy_env, matches, name_values, tokens
from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.problem import Locate
from mlgate.services import compose, report
from mlgate.services.launch import (
    Launch,
    Setting,
    assignments,
    commands_in,
    commands_of,
    image_requires_token,
    service_of_image,
    words_command,
)
from mlgate.services.report import Exposure

_JUPYTER_SETTING = re.compile(r"c\.(ServerApp|NotebookApp|IdentityProvider)\.(token|ip|password)\s*=\s*(?:u?(['\"])(.*?)\3)")


class _Image:
    def __init__(self, source: SourceFile):
        self.source = source
        self.reset("")

    def reset(self, base: str) -> None:
        self.base = base
        self.env: dict[str, Setting] = {}
        self.exposed: list[tuple[str, tuple[int, int]]] = []
        self.entrypoint: Instruction | None = None
        self.cmd: Instruction | None = None

    def locate(self, instruction: Instruction) -> Locate:
        return lambda offset: self.source.position(instruction.file_offset(offset))

    def instruction(self, instruction: Instruction) -> None:
        keyword = instruction.keyword
        if keyword == "FROM":
            words = [word for word, _ in tokens(instruction.text) if not word.startswith("--")]
            self.reset(words[0] if words else "")
        elif keyword in ("ENV", "ARG"):
            legacy = legacy_env(instruction)
            if legacy is not None:
                name, value, offset = legacy
                self.env[name] = Setting(name, value, self.locate(instruction)(offset), "$" in value)
            else:
                self.env.update(assignments(name_values(instruction), self.locate(instruction)))
        elif keyword == "EXPOSE":
            for word, offset in tokens(instruction.text):
                self.exposed.append((word.split("/", 1)[0], self.locate(instruction)(offset)))
        elif keyword == "ENTRYPOINT":
            self.entrypoint, self.cmd = instruction, None  # a new ENTRYPOINT resets CMD
        elif keyword == "CMD":
            self.cmd = instruction
        elif keyword == "RUN":
            for match in _JUPYTER_SETTING.finditer(instruction.text):
                name = f"--{match.group(1)}.{match.group(2)}"
                self.env[name] = Setting(name, match.group(4), self.locate(instruction)(match.start(4)))

    def command_lines(self) -> list[tuple[shell.Command, Locate]]:
        parts = [part for part in (self.entrypoint, self.cmd) if part is not None]
        forms = [exec_form(part.text) if part.text.lstrip().startswith("[") else None for part in parts]
        exec_forms = [form for form in forms if form is not None]
        if parts and len(exec_forms) == len(parts):  # every part is an exec form
            words = [(text, self.locate(part)(offset)) for part, form in zip(parts, exec_forms, strict=True) for text, offset in form]
            if not words:
                return []
            command, locate = words_command(words)
            return list(commands_of([command], locate))
        return [line for part in parts for line in commands_in(part.text, self.locate(part))]

    def findings(self) -> list[Finding]:
        path = self.source.path
        service, settings = compose.configure(
            service_of_image(self.base) or compose.service_from_env(self.env), self.command_lines(), self.env
        )
        if service is None:
            return []
        findings = report.configuration(path, [service], settings.values())
        launch = Launch(service, (1, 1), settings)
        bound, _ = launch.binding()
        exposure = report.bind_exposure(launch)
        if exposure is not None:
            exposures = [exposure]
        elif bound == "default" and (service.binds_all_by_default or service_of_image(self.base) is service):
            exposures = [
                Exposure(spot, int(port), f"on every interface of the container (EXPOSE {port})")
                for port, spot in self.exposed
                if port.isdigit()
            ]
        else:
            exposures = []
        proxied = image_requires_token(service, self.base)
        return findings + report.judge(path, service, exposures, settings, configured_port=launch.port(), proxied=proxied)


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    image = _Image(source)
    for instruction in instructions(source.text):
        image.instruction(instruction)
    return image.findings()


SCANNER = Scanner("dockerfile", matches=matches, scan=scan)
