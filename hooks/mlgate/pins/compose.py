"""docker-compose files: images a service pulls by tag (PIN010).

`services.<name>.image` is checked like a Dockerfile `FROM`. A service that also has
`build:` is built here and only *tagged* with that name (nothing is pulled), so its `image:`
is not a reference to check; the build's Dockerfile is read by its own scanner. Images
named by a variable (`${TRAINER_IMAGE}`) are not judged.
"""

from __future__ import annotations

from mlgate import compose, yamlfile
from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.pins import commands
from mlgate.pins.images import ImageJudge


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    findings: list[Finding] = []
    judge = ImageJudge(source, context)
    for document in yamlfile.load_documents(source):
        for _, _, service in yamlfile.items(yamlfile.get(document, "services")):
            image = yamlfile.get(service, "image")
            reference = yamlfile.text_of(image)
            if image is None or reference is None or yamlfile.get(service, "build") is not None:
                continue
            problem = judge.check(reference)
            if problem is not None:
                _, locate = yamlfile.scalar_text(source, image)
                findings.append(commands.placer(source.path, locate)(problem))
    return findings


SCANNER = Scanner("compose", matches=compose.matches, scan=scan)
