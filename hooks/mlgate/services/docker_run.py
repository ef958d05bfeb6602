"""`docker run` (and podman/nerdctl) in shell: a container whose ports are published.

`-p 8265:8265` publishes on every interface of the host, `-p 127.0.0.1:8265:8265` on loopback
only, `--network host` shares the host's interfaces. The image (or the command after it) says
which service runs; `-e NAME=value` and the command's options configure it.
"""

from __future__ import annotations

from mlgate import shell
from mlgate.findings import Finding
from mlgate.problem import Locate
from mlgate.services import compose, report
from mlgate.services.launch import Setting, Spot, classify_address, image_requires_token, service_of_image
from mlgate.services.report import Exposure

_RUNTIMES = frozenset({"docker", "podman", "nerdctl"})
_TAKES_VALUE = frozenset(
    "-p --publish -e --env --env-file --name -v --volume --network --net -w --workdir --entrypoint --gpus --shm-size "
    "--ipc -u --user --mount --label -l --restart -m --memory --cpus --runtime --device --add-host -h --hostname "
    "--platform --pull --ulimit --log-driver --log-opt --cap-add --cap-drop --security-opt --cidfile --expose "
    "--memory-swap --pid --tmpfs --group-add --dns --link --volumes-from --stop-signal --uts --userns --cgroupns".split()
)


def _run_arguments(argv: list[shell.Word]) -> int | None:
    """Index of the first argument of `docker run` / `docker container run`, or None."""
    texts = [word.text for word in argv[1:3]]
    if texts[:1] == ["run"]:
        return 2
    if texts == ["container", "run"]:
        return 3
    return None


def findings(path: str, command: shell.Command, locate: Locate) -> list[Finding]:
    argv = command.argv
    start = _run_arguments(argv) if command.program in _RUNTIMES else None
    if start is None:
        return []
    env: dict[str, Setting] = {}
    published: list[tuple[str, Spot]] = []
    host_network: Spot | None = None
    env_file = False
    index = start
    while index < len(argv) and argv[index].text.startswith("-"):
        word = argv[index]
        name, equals, value = word.text.partition("=")
        spot = locate(word.offset_at(len(name) + 1))
        if not equals and name in _TAKES_VALUE and index + 1 < len(argv):
            index += 1
            value, spot = argv[index].text, locate(argv[index].offset_at(0))
        index += 1
        if name in ("-p", "--publish"):
            published.append((value, spot))
        elif name in ("-e", "--env") and "=" in value:
            variable, _, setting = value.partition("=")
            env[variable] = Setting(variable, setting, (spot[0], spot[1] + len(variable) + 1), "$" in setting)
        elif name in ("--network", "--net") and value == "host":
            host_network = spot
        elif name == "--env-file":
            env_file = True
    if index >= len(argv):
        return []
    image, rest = argv[index], argv[index + 1 :]
    lines = [(shell.command_from_words([(word.text, word.offset) for word in rest]), locate)] if rest else []
    service, settings = compose.configure(service_of_image(image.text), lines, env)
    if service is None:
        return []
    found = report.configuration(path, [service], settings.values(), browser=bool(published) or host_network is not None)
    exposures = []
    for value, spot in published:
        parsed = compose.short_port(value)
        if parsed is None or (parsed[0] and classify_address(parsed[0]) == "loopback"):
            continue
        ip, first, last = parsed
        where = "on every interface of the host" if not ip or classify_address(ip) == "all" else f"on {ip}"
        exposures += [
            Exposure(spot, number, f"{where} (docker run -p {value})") for number in range(first, min(last, first + compose.MAX_RANGE) + 1)
        ]
    if host_network is not None:
        exposures.append(Exposure(host_network, None, "on every interface of the host (--network host)"))
    proxied = (env_file and service.key_in_environment) or image_requires_token(service, image.text)
    found += report.judge(path, service, exposures, settings, proxied=proxied)
    if exposures and not env_file:
        found += report.unset_credentials(path, service, settings, locate(image.offset_at(0)))
    return found
