"""docker-compose files: services published on the host's interfaces.

A service is recognised by its image, its `command:`/`entrypoint:` (a shell string or a
list, `sh -c '...'` unwrapped) or a variable that configures a known service. It is
reachable when a `ports:` entry publishes a port on every interface (`"8265:8265"`,
`"8265"`, long syntax without `host_ip`) or a routable address, or with
`network_mode: host`; `127.0.0.1:` ports and `expose:` are not. Authentication comes from
the service's `environment:` and command line, or from an auth proxy in the same file
(oauth2-proxy, Pomerium, Authelia, an nginx with `auth_basic`/htpasswd, Traefik basic-auth
or forward-auth labels) that names the service.
"""

from __future__ import annotations

import re

from mlgate import compose as compose_file
from mlgate import shell, yamlfile
from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.problem import Locate
from mlgate.services import report
from mlgate.services.catalog import SERVICES, Service
from mlgate.services.launch import (
    Launch,
    Setting,
    Spot,
    classify_address,
    commands_in,
    commands_of,
    image_requires_token,
    launch_of,
    options,
    service_of_image,
    service_of_name_and_port,
    words_command,
)
from mlgate.services.report import Exposure, node_spot

_PROXY_IMAGES = ("oauth2-proxy", "pomerium", "authelia", "vouch-proxy", "traefik-forward-auth", "keycloak-gatekeeper", "oauth2_proxy")
_AUTH_WORDS = re.compile(r"htpasswd|auth_basic|auth_request|basicauth|forwardauth|oauth2|oidc", re.IGNORECASE)
_VARIABLE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}|\$[A-Za-z_][A-Za-z0-9_]*")
_CONTAINER_PORTS = re.compile(r"(\d+)(?:-(\d+))?")
MAX_RANGE = 100  # ports of one range entry looked at (a range of thousands is not a service)


def short_port(text: str) -> tuple[str, int, int] | None:
    """(host IP or '', first, last container port) of `[IP:][HOST:]CONTAINER[-END][/proto]`.

    A variable takes its default (`${BIND:-127.0.0.1}`); one without a default is unknown,
    which for the host port changes nothing and for the address means "not known to be loopback".
    """
    text = _VARIABLE.sub(lambda match: match.group(1) if match.group(1) is not None else "$", text).split("/", 1)[0]
    if text.startswith("["):  # [::1]:8080:80
        ip, _, rest = text[1:].partition("]")
        parts = [ip, *rest.lstrip(":").split(":")]
    else:
        parts = text.rsplit(":", 2)
    match = _CONTAINER_PORTS.fullmatch(parts[-1])
    if match is None:
        return None
    ip = parts[0] if len(parts) == 3 else ""
    return ("" if ip == "$" else ip), int(match.group(1)), int(match.group(2) or match.group(1))


_FROM_HOST = "<from the host environment>"


def environment(source: SourceFile, node: yamlfile.Node | None) -> dict[str, Setting]:
    """`environment:` as a mapping or a list of `NAME=value` strings (or, after `extends`, a
    list of both, later ones winning)."""
    found: dict[str, Setting] = {}
    for name, _, value_node in yamlfile.items(node):
        text = yamlfile.text_of(value_node)
        if text is None:  # `NAME:` with no value: passed through from the host, set but unknown
            found[name] = Setting(name, _FROM_HOST, node_spot(source, value_node), True)
        else:
            found[name] = Setting(name, text, node_spot(source, value_node), "$" in text)
    for element in yamlfile.elements(node):
        if not yamlfile.is_scalar(element):
            found.update(environment(source, element))
            continue
        text = yamlfile.text_of(element) or ""
        name, equals, value = text.partition("=")
        if equals:
            line, column = node_spot(source, element)
            found[name] = Setting(name, value, (line, column + len(name) + 1), "$" in value)
        elif name:  # `- NAME`: passed through from the host
            found[name] = Setting(name, _FROM_HOST, node_spot(source, element), True)
    return found


def command_lines(source: SourceFile, node: yamlfile.Node | None) -> list[tuple[shell.Command, Locate]]:
    """The commands of a `command:`/`args:` value (a string, or a list of words)."""
    if node is not None and yamlfile.text_of(node) is not None:
        text, locate = yamlfile.scalar_text(source, node)
        return list(commands_in(text, locate))
    return word_lines([(yamlfile.text_of(element) or "", node_spot(source, element)) for element in yamlfile.elements(node)])


def word_lines(words: list[tuple[str, Spot]]) -> list[tuple[shell.Command, Locate]]:
    """The commands of separately written words (`["sh", "-c", "ray start ..."]`)."""
    if not words:
        return []
    command, locate = words_command(words)
    return list(commands_of([command], locate))


def configure(
    service: Service | None, lines: list[tuple[shell.Command, Locate]], env: dict[str, Setting]
) -> tuple[Service | None, dict[str, Setting]]:
    """The service (from the image, or the command that starts one) and all its settings.

    An image's command line often leaves out the program (`command: server /data` for MinIO,
    `start-notebook.sh --ServerApp.token=''`): its options are read for the image's service.
    """
    launches = [launch for command, locate in lines if (launch := launch_of(command, locate, env)) is not None]
    if launches and (service is None or all(launch.service is not service for launch in launches)):
        service = launches[0].service
    settings = dict(env)
    if service is None:
        return None, settings
    for launch in launches:
        if launch.service is service:
            settings.update(launch.settings)
    if not launches:
        for command, locate in lines:
            settings.update(options(service, command.argv, locate))
    return service, settings


def service_from_env(env: dict[str, Setting]) -> Service | None:
    """A service only a variable names (`GRADIO_SERVER_NAME=0.0.0.0` in a python image): one of its
    own variables, never a generic one (`PORT=3000` in a Node.js image is not Text Generation Inference)."""
    for service in SERVICES:
        if any(name in env for name in service.own_variables):
            return service
    return None


def _port_exposures(source: SourceFile, ports: yamlfile.Node | None) -> list[Exposure]:
    exposures = []
    for entry in yamlfile.elements(ports):
        if yamlfile.is_mapping(entry):
            target = yamlfile.text_of(yamlfile.get(entry, "target")) or ""
            host_ip = yamlfile.text_of(yamlfile.get(entry, "host_ip")) or ""
            published = yamlfile.get(entry, "published")
            spot_node = published if published is not None else yamlfile.get(entry, "target")
            if not target.isdigit() or spot_node is None or (host_ip and classify_address(host_ip) == "loopback"):
                continue
            shown = f"{host_ip + ':' if host_ip else ''}{yamlfile.text_of(published) or ''}:{target}"
            exposures.append(Exposure(node_spot(source, spot_node), int(target), f"on every interface of the host (published {shown})"))
            continue
        text = (yamlfile.text_of(entry) or "").strip()
        parsed = short_port(text)
        if parsed is None:
            continue
        ip, first, last = parsed
        if ip and classify_address(ip) == "loopback":
            continue
        where = "on every interface of the host" if not ip or classify_address(ip) == "all" else f"on {ip}"
        for number in range(first, min(last, first + MAX_RANGE) + 1):
            exposures.append(Exposure(node_spot(source, entry), number, f"{where} (published {text})"))
    return exposures


def auth_proxies(services: list[tuple[str, yamlfile.Node]]) -> list[tuple[str, list[str]]]:
    """(name, every key and value under it) of each service that is an auth proxy: a known
    proxy image, or a service whose settings mention basic auth, htpasswd, OAuth or OIDC."""
    proxies = []
    for name, node in services:
        nodes = list(yamlfile.walk(node))
        texts = [text for sub in nodes if (text := yamlfile.text_of(sub))] + [key for sub in nodes for key, _, _ in yamlfile.items(sub)]
        image = (yamlfile.text_of(yamlfile.get(node, "image")) or "").lower()
        if any(proxy in image for proxy in _PROXY_IMAGES) or any(_AUTH_WORDS.search(text) for text in texts):
            proxies.append((name, texts))
    return proxies


def _fronted(name: str, proxies: list[tuple[str, list[str]]]) -> bool:
    """An auth proxy elsewhere in the file names this service (its upstream or dependency)."""
    word = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")
    return any(proxy != name and any(word.search(text) for text in texts) for proxy, texts in proxies)


def _labels_authenticate(node: yamlfile.Node) -> bool:
    labels = yamlfile.get(node, "labels")
    texts = (
        [key for key, _, _ in yamlfile.items(labels)] + [yamlfile.text_of(sub) or "" for sub in yamlfile.walk(labels)]
        if labels is not None
        else []
    )
    return any(_AUTH_WORDS.search(text) for text in texts)


def service_findings(source: SourceFile, name: str, node: yamlfile.Node, proxies: list[tuple[str, list[str]]]) -> list[Finding]:
    env = environment(source, yamlfile.get(node, "environment"))
    lines = command_lines(source, yamlfile.get(node, "entrypoint")) + command_lines(source, yamlfile.get(node, "command"))
    image_node = yamlfile.get(node, "image")
    image = yamlfile.text_of(image_node) or ""
    exposures = _port_exposures(source, yamlfile.get(node, "ports"))
    service = service_of_image(image) or service_from_env(env)
    if service is None:  # a custom image or a build: its name and published port may say
        names = [name, yamlfile.text_of(yamlfile.get(node, "container_name")) or "", image.rsplit(":", 1)[0]]
        service = service_of_name_and_port(names, [exposure.port for exposure in exposures if exposure.port])
    service, settings = configure(service, lines, env)
    if service is None:
        return []
    network_mode = yamlfile.get(node, "network_mode")
    host_network = network_mode is not None and yamlfile.text_of(network_mode) == "host"
    published = bool(yamlfile.elements(yamlfile.get(node, "ports"))) or host_network  # 127.0.0.1: ports too: the host's browser
    findings = report.configuration(source.path, [service], settings.values(), browser=published)
    launch = Launch(service, node_spot(source, image_node or node), settings)
    bound, _ = launch.binding()
    if bound == "loopback":
        return findings  # listening on the container's loopback: publishing reaches nothing
    # On the host's network the service's own default decides (an official image binds every interface).
    if (
        network_mode is not None
        and host_network
        and (bound != "default" or service.binds_all_by_default or service_of_image(image) is service)
    ):
        exposures.append(Exposure(node_spot(source, network_mode), launch.port(), "on every interface of the host (network_mode: host)"))
    # An env_file may hold the service's key (VLLM_API_KEY): we cannot see it, so we do not guess.
    unseen_key = yamlfile.get(node, "env_file") is not None and service.key_in_environment
    proxied = _labels_authenticate(node) or _fronted(name, proxies) or unseen_key or image_requires_token(service, image)
    findings += report.judge(source.path, service, exposures, settings, configured_port=launch.port(), proxied=proxied)
    if exposures and not proxied and yamlfile.get(node, "env_file") is None and yamlfile.get(node, "secrets") is None:
        findings += report.unset_credentials(source.path, service, settings, launch.spot)
    return findings


def document_findings(source: SourceFile, document: yamlfile.Node, context: ScanContext | None = None) -> list[Finding]:
    findings: list[Finding] = []
    services = list(compose_file.services(source, document, context))
    proxies = auth_proxies(services)
    for name, node in services:
        if yamlfile.is_mapping(node):
            findings += service_findings(source, name, node, proxies)
    return findings


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    return [finding for document in yamlfile.load_documents(source) for finding in document_findings(source, document, context)]


SCANNER = Scanner("compose", matches=compose_file.matches, scan=scan)
