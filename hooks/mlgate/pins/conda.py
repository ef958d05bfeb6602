"""Conda environment files (`*environment*.yml`, `conda*.yml`, `env.yml`, `env-*.yml`, `env_*.yml`).

`dependencies` entries are conda MatchSpecs; a nested `- pip:` list holds requirement
lines, read as a requirements file would be (options, includes, hashes). Channels over
plain http are reported. A YAML file by one of these names without `dependencies` is
not a conda environment and is left alone.

`python` and `pip` without an exact version are not reported: they are the environment's
toolchain (the interpreter the solver picks to fit the other pins, and the installer of the
`pip:` list), not a library the project imports; every other entry, and every `pip:` line, is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mlgate import yamlfile
from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.identity import in_example_folder
from mlgate.pins import requirements
from mlgate.pins.requirement import CONDA_SPEC, Problem, check_conda_spec, check_url, place_in
from mlgate.pins.rules import INSECURE_INDEX, UNPINNED

# `environment.yml`, `dev-environment.yaml`, `conda-gpu.yml`, `env.yml`, `env_cuda.yml`; not
# `envoy_config.yaml` (a proxy's configuration) nor other names that merely start with "env"
NAME = re.compile(r"([^/]*environment[^/]*|conda[^/]*|env(?:[-_.][^/]*)?)\.ya?ml")
TOOLCHAIN = frozenset({"python", "pip"})


def matches(path: str) -> bool:
    return NAME.fullmatch(path.rsplit("/", 1)[-1].lower()) is not None


def is_toolchain(spec: str) -> bool:
    """`python`, `pip>=23`, `conda-forge::python=3.11`: the interpreter or its installer."""
    match = CONDA_SPEC.match(spec)
    return match is not None and match.group(1).rsplit("::", 1)[-1].lower() in TOOLCHAIN


def spec_problems(spec: str) -> list[Problem]:
    # An explicit package URL (`https://conda.anaconda.org/.../pkg.conda#<md5>`) is a download.
    if "://" in spec:
        return check_url(spec)
    return [] if is_toolchain(spec) else check_conda_spec(spec)


def scan(source: SourceFile, context: ScanContext) -> Iterator[Finding]:
    if "dependencies" not in source.text:
        return
    sample = in_example_folder(source)
    for document in yamlfile.load_documents(source):
        dependencies = yamlfile.get(document, "dependencies")
        if not yamlfile.is_sequence(dependencies):
            continue
        for channel in yamlfile.elements(yamlfile.get(document, "channels")):
            name = yamlfile.text_of(channel)
            if name and name.lower().startswith("http://"):
                problem = Problem(INSECURE_INDEX, f"channel {name} is plain http: anyone on the network path can serve other packages")
                yield place_in(problem, source.path, yamlfile.scalar_text(source, channel)[1])
        pip_lines: list[requirements.Line] = []
        for entry in yamlfile.elements(dependencies):
            spec = yamlfile.text_of(entry)
            if spec is not None:
                _text, locate = yamlfile.scalar_text(source, entry)
                for problem in spec_problems(spec):
                    if not (sample and problem.rule is UNPINNED):  # ranges in a sample: see PIN001
                        yield place_in(problem, source.path, locate)
            for item in yamlfile.elements(yamlfile.get(entry, "pip")):
                if yamlfile.text_of(item) is not None:
                    text, locate = yamlfile.scalar_text(source, item)
                    pip_lines.append(requirements.Line.from_text(text, locate))
        if pip_lines:
            yield from requirements.scan_lines(pip_lines, source, context)


SCANNER = Scanner("conda", matches=matches, scan=scan)
