"""Turning what a reader saw (a service, where it is reachable, its settings) into findings.

Every reader ends here, so the rules are applied the same way to every file kind:
- reachable, and settings turn authentication off -> one SVC002 at the first of them (not
  again as SVC001);
- reachable, no authentication and no auth proxy in front -> SVC001 at each exposure (a
  port that requires a client certificate, Ray's gRPC ports with TLS on, is authenticated);
- default credentials set on the service that accepts them (the MinIO server, not a client
  holding the same string to connect) -> SVC003 at the value, reachable or not (they are
  public knowledge);
- a setting that lets every web origin call the service (`OLLAMA_ORIGINS=*`) -> SVC004 at the
  value, reachable or not: the browsers of its users reach it, loopback included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mlgate import yamlfile
from mlgate.files import SourceFile, is_test_path
from mlgate.findings import Finding, Severity
from mlgate.services.catalog import Port, Service
from mlgate.services.launch import Launch, Setting, Spot, authenticated, default_credentials, disabled, loads_code, mutually_authenticated
from mlgate.services.rules import ANY_ORIGIN, AUTH_DISABLED, DEFAULT_CREDENTIALS, EXPOSED


@dataclass(frozen=True)
class Exposure:
    """Where a service becomes reachable: `how` completes "reachable ..."."""

    spot: Spot
    port: int | None  # the port inside the container / on the host; None: the main API
    how: str
    api: Port | None = None  # the API it reaches when the setting names it (`management_address`), whatever the port


def node_spot(source: SourceFile, node: yamlfile.Node) -> Spot:
    """Where a YAML node's value starts (inside the quotes of a quoted scalar)."""
    if yamlfile.is_scalar(node):
        return yamlfile.scalar_text(source, node)[1](0)
    return yamlfile.position(node)


def _ports(service: Service, exposures: list[Exposure], configured: int | None) -> list[tuple[Exposure, int, Port]]:
    """Exposures of a dangerous API, with the port number each one reaches and its API."""
    found = []
    for exposure in exposures:
        number = exposure.port
        if exposure.api is not None:  # the setting says which API, the number is where it listens
            if exposure.api.severity is not None:
                found.append((exposure, number or exposure.api.number, exposure.api))
            continue
        known = any(port.number == number for port in service.ports)
        if number is not None and not known and number != configured and len(service.ports) > 1:
            continue  # a port of a multi-API service we cannot tell apart: not guessed
        port = service.port(number if known else None)
        if port.severity is not None:
            found.append((exposure, number or configured or port.number, port))
    return found


def judge(
    path: str,
    service: Service,
    exposures: Iterable[Exposure],
    settings: dict[str, Setting],
    *,
    configured_port: int | None = None,
    proxied: bool = False,
    switched_off: Iterable[Setting] = (),
) -> list[Finding]:
    """SVC001/SVC002 for one service given where it is reachable and how it is configured.

    `switched_off`: settings the reader knows turn authentication off beyond the catalog's
    (a Helm chart's `auth.enabled: false`).
    """
    reached = _ports(service, list(exposures), configured_port)
    if not reached:
        return []
    where = ", ".join(sorted({f"{number}" for _, number, _ in reached}, key=int))
    switched_off = disabled(service, settings) or list(switched_off)
    if switched_off:  # one finding, at the first setting that turns authentication off
        written = [_written(setting) for setting in switched_off]
        message = (
            f"{' and '.join(written)} leave{'s' if len(written) == 1 else ''} {service.name} without authentication "
            f"while it is reachable (port {where}, {reached[0][0].how}): {service.danger}"
        )
        return [AUTH_DISABLED.finding(path, *switched_off[0].spot, message, severity=service.severity)]
    if proxied or authenticated(service, settings):
        return []
    if mutually_authenticated(service, settings):  # a client certificate is authentication
        reached = [(exposure, number, port) for exposure, number, port in reached if not port.mutual_tls]
    opener = loads_code(service, settings)
    findings = []
    for exposure, number, port in reached:
        message = f"{service.name} ({port.api}, port {number}) is reachable {exposure.how} with no authentication in front of it: {service.danger}"
        if opener is not None:  # anyone who reaches it loads a model of their choosing
            message += f"; {_written(opener)} lets anyone load models through it"
        findings.append(EXPOSED.finding(path, *exposure.spot, message, severity=Severity.CRITICAL if opener else port.severity))
    return findings


def _written(setting: Setting) -> str:
    if setting.written:
        return setting.written
    if setting.value is None:
        return setting.name
    return f"{setting.name}={setting.value!r}" if setting.value.strip("'\"") == "" else f"{setting.name}={setting.value}"


def in_test_data(path: str) -> bool:
    """Whether a file is test data (`files.is_test_path`): its default credentials are those of a
    throwaway instance, so SVC003 leaves it alone. A Helm chart's `templates/tests/` is deployed
    with the release, so it is no test data."""
    return is_test_path(path) and "/templates/tests/" not in "/" + path.replace("\\", "/").lower()


def credentials(path: str, services: Iterable[Service], settings: Iterable[Setting]) -> list[Finding]:
    """SVC003 for every setting set to a credential one of `services` ships with (not in test data).
    `services`: the one these settings start (a MinIO container), never a client that holds the
    same string to connect; every known one for a `.env` file, which any container may read."""
    if in_test_data(path):
        return []
    return [
        DEFAULT_CREDENTIALS.finding(
            path,
            *setting.spot,
            f"{_written(setting)} is {service.name}'s default credential, published in its documentation: {service.danger}",
        )
        for service, setting in default_credentials(settings, services)
    ]


def configuration(path: str, services: Iterable[Service], settings: Iterable[Setting], *, browser: bool = True) -> list[Finding]:
    """What the settings of a service do wherever it listens: SVC003 default credentials and
    SVC004 every origin allowed (not in test data). `services` as for `credentials`; `browser`:
    whether its users' browsers can reach it at all (a container publishing no port, or a pod
    behind a ClusterIP, answers no web page whatever origins it allows)."""
    services, settings = tuple(services), tuple(settings)
    return credentials(path, services, settings) + (any_origin(path, services, settings) if browser else [])


def any_origin(path: str, services: Iterable[Service], settings: Iterable[Setting]) -> list[Finding]:
    """SVC004 for a variable of one of `services` listing `*` (or `http://*`) among the origins it answers."""
    if in_test_data(path):
        return []
    found = []
    for setting in settings:
        service = next((service for service in services if setting.name in service.origins_by), None)
        if service is None or setting.dynamic or not _every_origin(setting.value or ""):
            continue
        message = (
            f"{_written(setting)} lets every web page the users of {service.name} open call its API from their browser, "
            f"even when it listens on 127.0.0.1: {service.danger}"
        )
        found.append(ANY_ORIGIN.finding(path, *setting.spot, message, severity=service.severity))
    return found


def _every_origin(origins: str) -> bool:
    """Whether a comma-separated origin list admits every origin: `*`, or a wildcard host
    (`http://*`, `https://*`), as gin-contrib/cors reads Ollama's list."""
    entries = {entry.strip().strip("'\"").rstrip("/") for entry in origins.strip("'\"").split(",")}
    return bool(entries & {"*", "http://*", "https://*", "*://*"})


def unset_credentials(path: str, service: Service, settings: dict[str, Setting], spot: Spot) -> list[Finding]:
    """SVC003 for a reachable service started without any of its credential variables (not in test data)."""
    names = [name for name, _ in service.default_credentials]
    if in_test_data(path) or not service.authenticated_by_default or not names or set(names) & settings.keys():
        return []
    name, value = service.default_credentials[0]
    message = f"{service.name} is started without {name}, so it accepts its default credentials ({value}): {service.danger}"
    return [DEFAULT_CREDENTIALS.finding(path, *spot, message)]


def bind_exposure(launch: Launch) -> Exposure | None:
    """The exposure a launch's own bind setting makes (`--host 0.0.0.0`), or None."""
    bound, setting = launch.binding()
    if bound not in ("all", "network") or setting is None:
        return None
    written = _written(setting)
    where = "on every interface" if bound == "all" else f"on {setting.value}"
    return Exposure(setting.spot, launch.port(), f"{where} ({written})")


def launched(path: str, launch: Launch) -> list[Finding]:
    """A service started on a machine (a script, a CI step, Python code): reachable only when
    its command line or environment binds it beyond loopback."""
    exposure = bind_exposure(launch)
    if exposure is None:
        return []
    return judge(path, launch.service, [exposure], launch.settings, configured_port=launch.port())
