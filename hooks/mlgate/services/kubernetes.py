"""Kubernetes manifests, KubeRay resources and Helm charts (templates and values files).

Exposed means reachable from outside the cluster:
- a `Service` of type `LoadBalancer` or `NodePort`, or with `externalIPs`, whose selector
  picks a pod running a known service, of the same file or else of a YAML file beside it (a
  folder applied together), or, when no pod matches, whose name says which service it fronts
  -> at that port entry (a setting of a pod of another file that turns authentication off is
  reported in that file, where it is written);
- an `Ingress` whose backend is such a service (its Service in this file or one beside it),
  unless its annotations put authentication in front (`nginx.ingress.kubernetes.io/auth-url`,
  `auth-type`, a Traefik auth middleware) -> at the backend;
- `hostNetwork: true`, or a `hostPort`, on a pod running a known service;
- KubeRay: `headGroupSpec.serviceType: LoadBalancer|NodePort`, `enableIngress: true`.
A `ClusterIP` Service alone is not exposed, nor a load balancer the cloud's annotations make
internal (`alb.ingress.kubernetes.io/scheme: internal`, `networking.gke.io/load-balancer-type:
Internal`, ...): both are reachable from the private network only. A Service or Ingress in
front of a KubeRay head service (`<cluster>-head-svc`, or a `ray.io/cluster` selector) is
judged with that cluster's settings, found in the same file or in a YAML file beside it.
Environment values from a Secret or ConfigMap of the same file are read (`secretKeyRef`,
`envFrom`), so a MinIO whose `MINIO_ROOT_PASSWORD` comes from a Secret holding `minioadmin` is
reported at the Secret. Pods are found wherever a `containers:` list
is (Deployments, StatefulSets, Jobs, CronJobs, custom resources). Helm `values.yaml`:
`service.type` and `ingress.enabled` next to an `image` of a known service (or in a chart
folder named after one), wherever they sit in the chart's block; `auth.enabled: false` there
is authentication switched off. The charts of charts.py are read with their own keys
(helm_values.py), a JupyterHub `config.yaml` too. A custom image counts when its name and its own port say which
service it is (`acme/mlflow-server` on 5000). YAML that is not a manifest is skipped by a prefilter,
a compose file under another name goes to compose.py, Ray launcher YAML to scripts.py.

Values are read as kubectl and Helm read them (sigs.k8s.io/yaml, go-yaml v2, YAML 1.1): merge
keys applied, JSON manifests (`.json`, or flow YAML with quoted keys) alike, `hostNetwork: yes`
(or `y`, `on`) is true, `containerPort: 0x1F90` is 8080; where the YAML 1.2 reading differs,
the worse one counts (a `<<` merged after the pod's own `hostNetwork: false` wins in go-yaml v2).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from mlgate import compose as compose_file
from mlgate import kubernetes, yamlfile
from mlgate.files import InvalidText, ScanError, SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.services import compose, helm_values, report, scripts
from mlgate.services.annotations import EXPOSING_TYPES, MIDDLEWARE_AUTH, authenticates, internal_load_balancer
from mlgate.services.catalog import BY_KEY, Service
from mlgate.services.launch import (
    Launch,
    Setting,
    classify_address,
    disabled,
    image_requires_token,
    options,
    service_of_image,
    service_of_name,
    service_of_name_and_port,
    words_command,
)
from mlgate.services.report import Exposure, node_spot

_PREFILTER_WORDS = ("kind", "containers", "headGroupSpec", "image", "repository", "head_start_ray_commands")
_PREFILTER = re.compile(rf"\b(?:{'|'.join(_PREFILTER_WORDS)})[\"']?\s*:")
# A chart's values under another name (JupyterHub's `config.yaml`): only a setting that lets anyone in matters there.
_CHART_KEYS = re.compile(r"\bauthenticator_class\s*:")
_PROXY_IMAGES = (
    "oauth2-proxy",
    "oauth2_proxy",
    "pomerium",
    "authelia",
    "vouch-proxy",
    "keycloak-gatekeeper",
    "kube-rbac-proxy",
    "kuberay/security-proxy",
)
_RAY_KINDS = ("RayCluster", "RayService", "RayJob")
_HEAD_SERVICE = "-head-svc"  # KubeRay names a cluster's head Service `<cluster>-head-svc`
_RAY_CLUSTER_LABEL = "ray.io/cluster"
_MAX_SIBLINGS = 200  # YAML files beside this one read to find a KubeRay cluster it fronts


@dataclass
class _Container:
    service: Service
    settings: dict[str, Setting]
    ports: dict[str, int]  # containerPort name -> number
    unseen_auth: bool  # a secret we cannot read may hold its key, or its image requires a token by default
    spot: tuple[int, int]


@dataclass
class _Pod:
    labels: dict[str, str]
    path: str  # the file that defines it: where a setting of its containers is reported
    containers: list[_Container] = field(default_factory=list)
    proxied: bool = False


@dataclass
class _Folder:
    """What one YAML file offers the files beside it: its pods and its Services' selectors and ports."""

    pods: list[_Pod]
    services: dict[str, tuple[dict[str, str], yamlfile.Node | None]]  # name -> (selector, spec)


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


_labels = kubernetes.labels


_Data = dict[str, tuple[str, yamlfile.Node]]  # key -> (value, the node that holds it)


@dataclass
class _Stores:
    """The Secrets and ConfigMaps of the file, by name: what `valueFrom` and `envFrom` read."""

    secrets: dict[str, _Data] = field(default_factory=dict)
    config_maps: dict[str, _Data] = field(default_factory=dict)

    def add(self, document: yamlfile.Node) -> None:
        kind, name = yamlfile.text_of(yamlfile.get(document, "kind")), _name(document)
        if kind == "Secret":
            data = {
                key: (text, value)
                for key, _, value in yamlfile.items(yamlfile.get(document, "data"))
                if (text := kubernetes.secret_value(value))
            }
            plain = {key: (yamlfile.text_of(value) or "", value) for key, _, value in yamlfile.items(yamlfile.get(document, "stringData"))}
            self.secrets[name] = {**data, **plain}  # the API server writes stringData over data
        elif kind == "ConfigMap":
            self.config_maps[name] = {
                key: (yamlfile.text_of(value) or "", value) for key, _, value in yamlfile.items(yamlfile.get(document, "data"))
            }

    def store(self, reference: yamlfile.Node | None, secret: bool) -> tuple[str, _Data | None]:
        """(`Secret <name>` or `ConfigMap <name>`, its data when the file defines it)."""
        name = yamlfile.text_of(yamlfile.get(reference, "name")) or ""
        return f"{'Secret' if secret else 'ConfigMap'} {name}", (self.secrets if secret else self.config_maps).get(name)


def _stored(source: SourceFile, variable: str, store: str, key: str, held: tuple[str, yamlfile.Node]) -> Setting:
    """A variable whose value comes from a Secret or ConfigMap of the file: placed at that value."""
    value, node = held
    return Setting(variable, value, node_spot(source, node), "$(" in value, f"{variable}={value} (from {store}, key {key})")


def _env(source: SourceFile, node: yamlfile.Node | None, stores: _Stores | None = None) -> dict[str, Setting]:
    found = {}
    stores = stores or _Stores()
    for entry in yamlfile.elements(node):
        name = yamlfile.text_of(yamlfile.get(entry, "name"))
        value = yamlfile.get(entry, "value")
        if name is None:
            continue
        if value is not None:
            text = yamlfile.text_of(value) or ""
            found[name] = Setting(name, text, node_spot(source, value), "$(" in text)
            continue
        value_from = yamlfile.get(entry, "valueFrom")
        if value_from is None:
            continue
        for ref_key, secret in (("secretKeyRef", True), ("configMapKeyRef", False)):
            reference = yamlfile.get(value_from, ref_key)
            store, data = stores.store(reference, secret)
            key = yamlfile.text_of(yamlfile.get(reference, "key")) or ""
            if data is not None and key in data:
                found[name] = _stored(source, name, store, key, data[key])
                break
        else:  # a secret or config map of another file: set, value unknown
            found[name] = Setting(name, "<from a secret or config map>", node_spot(source, entry), True)
    return found


def _env_from(source: SourceFile, container: yamlfile.Node, stores: _Stores) -> tuple[dict[str, Setting], bool]:
    """The variables `envFrom` takes from Secrets and ConfigMaps of the file, and whether some
    source is one of another file, which we cannot read."""
    found: dict[str, Setting] = {}
    unseen = False
    for entry in yamlfile.elements(yamlfile.get(container, "envFrom")):
        secret = yamlfile.get(entry, "secretRef") is not None
        store, data = stores.store(yamlfile.get(entry, "secretRef" if secret else "configMapRef"), secret)
        prefix = yamlfile.text_of(yamlfile.get(entry, "prefix")) or ""
        if data is None:
            unseen = True
            continue
        for key, held in data.items():
            found[prefix + key] = _stored(source, prefix + key, store, key, held)
    return found, unseen


def _command(source: SourceFile, container: yamlfile.Node) -> list:
    """`command:` and `args:` together, as the container runs them."""
    parts = [yamlfile.get(container, "command"), yamlfile.get(container, "args")]
    words = [(yamlfile.text_of(element) or "", node_spot(source, element)) for part in parts for element in yamlfile.elements(part)]
    if words:
        return compose.word_lines(words)
    return [line for part in parts for line in compose.command_lines(source, part)]


def _port(node: yamlfile.Node | None) -> str:
    """A port as written, or the number it is read as (`0x1F90` -> `8080`)."""
    number = yamlfile.number(node)
    return str(number) if number is not None else yamlfile.text_of(node) or ""


def _target_port(container: _Container, target: str) -> int | None:
    """The container port a Service port reaches; None when it is another container's port."""
    if container.ports:
        return container.ports.get(target)
    return int(target) if target.isdigit() else None


class _Manifest:
    def __init__(self, source: SourceFile, context: ScanContext, written: SourceFile | None = None):
        self.source = source  # as read: a Helm template's actions blanked (`templated`)
        self.written = written or source  # as the file holds it
        self.context = context
        self.pods: list[_Pod] = []
        self.services: dict[str, tuple[yamlfile.Node, yamlfile.Node | None]] = {}  # name -> (document, spec)
        self.ray_clusters: dict[str, dict[str, Setting]] = {}  # KubeRay cluster name -> its head's settings
        self.stores = _Stores()
        self.middlewares: dict[str, bool] = {}  # Traefik Middleware name -> whether it authenticates
        self.findings: list[Finding] = []

    def read(self, documents: list[yamlfile.Node]) -> None:
        """Every resource of the file's manifests, each kind once what it refers to is known."""
        by_kind = self.read_pods(documents)
        for document in by_kind.get("Middleware", []):
            self.middleware(document)
        # clusters before the Services and Ingresses in front of their head service
        for document in [document for kind in _RAY_KINDS for document in by_kind.get(kind, [])]:
            self.ray_cluster(document)
        for document in by_kind.get("Service", []):
            self.service(document)
        for document in by_kind.get("Ingress", []):
            self.ingress(document)

    def read_pods(self, documents: list[yamlfile.Node]) -> dict[str, list[yamlfile.Node]]:
        """The Secrets and ConfigMaps, then the pods of the file; its resources by kind."""
        by_kind: dict[str, list[yamlfile.Node]] = {}
        for resource in (item for document in documents for item in kubernetes.resources(document)):
            by_kind.setdefault(yamlfile.text_of(yamlfile.get(resource, "kind")) or "", []).append(resource)
        for document in by_kind.get("Secret", []) + by_kind.get("ConfigMap", []):  # what the pods' environment reads
            self.stores.add(document)
        for document in documents:
            for spec, labels in kubernetes.pods(document):
                self.pod(spec, labels)
        return by_kind

    def siblings(self) -> Iterator[SourceFile]:
        """The readable YAML files beside this one (a folder applied together, `kubectl apply -f dir/`)."""
        paths = sorted(path for path in self.source.abspath.parent.glob("*.y*ml") if path != self.source.abspath)
        for path in paths[:_MAX_SIBLINGS]:
            try:
                sibling = self.context.source(path)
                sibling.text  # noqa: B018 - read here, so that a file we cannot read is skipped
            except ScanError:
                continue  # that file's own errors are reported when it is scanned
            yield sibling

    def folder(self, sibling: SourceFile) -> _Folder:
        """The pods and Services of a file beside this one, read once per run."""
        return self.context.once("services.kubernetes.folder", sibling, lambda source: _folder(source, self.context))

    def sibling_pods(self, selector: dict[str, str]) -> list[_Pod]:
        """The pods of the files beside this one that `selector` picks."""
        found = []
        for sibling in self.siblings():
            if "containers" in sibling.text and all(value in sibling.text for value in selector.values()):
                found += [pod for pod in self.folder(sibling).pods if _selects(selector, pod.labels)]
        return found

    def sibling_service(self, name: str) -> tuple[dict[str, str], yamlfile.Node | None] | None:
        """(selector, spec) of the Service `name` defined in a file beside this one."""
        for sibling in self.siblings():
            if "Service" in sibling.text and name in sibling.text and name in (services := self.folder(sibling).services):
                return services[name]
        return None

    # pods --------------------------------------------------------------------------------

    def pod(self, spec: yamlfile.Node, labels: dict[str, str]) -> None:
        source = self.source
        pod = _Pod(labels, source.path)
        host_network = next((node for node in yamlfile.readings(spec, "hostNetwork") if yamlfile.boolean(node)), None)
        for container in kubernetes.containers(spec):
            image = yamlfile.text_of(yamlfile.get(container, "image")) or ""
            if any(proxy in image.lower() for proxy in _PROXY_IMAGES):
                pod.proxied = True
            env, unseen_env = _env_from(source, container, self.stores)
            env.update(_env(source, yamlfile.get(container, "env"), self.stores))  # `env` wins over `envFrom`
            lines = _command(source, container)
            service = service_of_image(image) or compose.service_from_env(env)
            if service is None:  # a custom image: its name and its own port may say
                declared = [_port(yamlfile.get(entry, "containerPort")) for entry in yamlfile.elements(yamlfile.get(container, "ports"))]
                names = [yamlfile.text_of(yamlfile.get(container, "name")) or "", image.rsplit(":", 1)[0]]
                service = service_of_name_and_port(names, [int(number) for number in declared if number.isdigit()])
            service, settings = compose.configure(service, lines, env)
            if service is None:
                continue
            # a pod answers no web page of its own: an exposed Ollama is SVC001 whatever its origins
            self.findings += report.configuration(source.path, [service], settings.values(), browser=False)
            launch = Launch(service, node_spot(source, yamlfile.get(container, "image") or container), settings)
            if launch.binding()[0] == "loopback":
                continue
            ports: dict[str, int] = {}
            exposures = []
            for entry in yamlfile.elements(yamlfile.get(container, "ports")):
                number = _port(yamlfile.get(entry, "containerPort"))
                if not number.isdigit():
                    continue
                ports[number] = int(number)
                ports[yamlfile.text_of(yamlfile.get(entry, "name")) or number] = int(number)
                host_port = yamlfile.get(entry, "hostPort")
                host_ip = yamlfile.text_of(yamlfile.get(entry, "hostIP")) or ""
                if host_port is not None and yamlfile.text_of(host_port) and classify_address(host_ip) != "loopback":
                    exposures.append(
                        Exposure(node_spot(source, host_port), int(number), f"on every node's interfaces (hostPort {_port(host_port)})")
                    )
            if host_network is not None:
                exposures.append(Exposure(node_spot(source, host_network), launch.port(), "on the node's interfaces (hostNetwork: true)"))
            unseen_auth = (unseen_env and service.key_in_environment) or image_requires_token(service, image)
            pod.containers.append(_Container(service, settings, ports, unseen_auth, launch.spot))
            self.exposed(pod, pod.containers[-1], exposures)
        self.pods.append(pod)

    def exposed(self, pod: _Pod, container: _Container, exposures: list[Exposure]) -> None:
        if not exposures:
            return
        service = container.service
        # a setting that turns authentication off is reported where it is written: the pod's file
        path = pod.path if disabled(service, container.settings) else self.source.path
        self.findings += report.judge(
            path,
            service,
            exposures,
            container.settings,
            configured_port=Launch(service, container.spot, container.settings).port(),
            proxied=pod.proxied or container.unseen_auth,
        )

    # Services and Ingresses ----------------------------------------------------------------

    def backend(self, name: str, selector: dict[str, str], port_entries: list[tuple[str, yamlfile.Node]], how: str) -> None:
        """A Service (or Ingress backend) reachable from outside: who is behind each port.

        Pods of the file that the selector picks decide; then a KubeRay cluster the Service
        belongs to (its settings); when neither does, the Service's name (and selector) may say
        which service it fronts (`mlflow-tracking`, `ray.io/node-type`).
        """
        pods = [pod for pod in self.pods if _selects(selector, pod.labels)] or (self.sibling_pods(selector) if selector else [])
        for pod in pods:
            for container in pod.containers:
                exposures = [Exposure(node_spot(self.source, node), _target_port(container, target), how) for target, node in port_entries]
                self.exposed(pod, container, [exposure for exposure in exposures if exposure.port is not None])
        if pods:
            return
        exposures = [
            Exposure(node_spot(self.source, node), int(target) if target.isdigit() else None, how) for target, node in port_entries
        ]
        cluster = selector.get(_RAY_CLUSTER_LABEL) or (name.removesuffix(_HEAD_SERVICE) if name.endswith(_HEAD_SERVICE) else "")
        clusters = self.ray_cluster_settings(cluster) if cluster else []
        for settings in clusters:  # every definition found: the worst one counts
            self.findings += report.judge(self.source.path, BY_KEY["ray"], exposures, settings)
        if clusters:
            return
        service = service_of_name(" ".join([name, *selector.keys(), *selector.values()]))
        if service is not None and not service.authenticated_by_default:
            self.findings += report.judge(self.source.path, service, exposures, {})

    def ray_cluster_settings(self, name: str) -> list[dict[str, Setting]]:
        """The head settings of the KubeRay cluster `name`: from this file, else from the YAML files
        beside it (a folder applied together, `kubectl apply -f dir/`); none when it is defined nowhere here."""
        if name in self.ray_clusters:
            return [self.ray_clusters[name]]
        named = re.compile(rf"^\s*name:\s*[\"']?{re.escape(name)}[\"']?\s*(?:#.*)?$", re.MULTILINE)
        found = []
        for sibling in self.siblings():
            if "headGroupSpec" not in sibling.text or not named.search(sibling.text):
                continue
            try:
                parsed, documents, _ = kubernetes.load(sibling)
            except ScanError:
                continue  # that file's own errors are reported when it is scanned
            resources = [resource for document in documents for resource in kubernetes.resources(document)]
            stores = _Stores()
            for resource in resources:
                stores.add(resource)
            found += [
                _ray_settings(parsed, resource, stores)
                for resource in resources
                if yamlfile.text_of(yamlfile.get(resource, "kind")) in _RAY_KINDS and _name(resource) == name
            ]
        return found

    def service(self, document: yamlfile.Node) -> None:
        spec = yamlfile.get(document, "spec")
        name = _name(document)
        self.services[name] = (document, spec)
        kind = yamlfile.text_of(yamlfile.get(spec, "type")) or "ClusterIP"
        external = yamlfile.elements(yamlfile.get(spec, "externalIPs"))
        if kind == "LoadBalancer" and internal_load_balancer(yamlfile.get(yamlfile.get(document, "metadata"), "annotations")):
            kind = "ClusterIP"  # an address in the private network only (its external IPs still count)
        if kind not in EXPOSING_TYPES and not external:
            return
        shown = self.as_written(yamlfile.get(yamlfile.get(document, "metadata"), "name"), name)
        how = (
            f"from outside the cluster (Service {shown} of type {kind})" if kind in EXPOSING_TYPES else f"on external IPs (Service {shown})"
        )
        self.backend(name, _labels(yamlfile.get(spec, "selector")), self.service_ports(spec), how)

    def as_written(self, node: yamlfile.Node | None, text: str) -> str:
        """A scalar as the file writes it: a Helm template's `{{ include "chart.fullname" . }}`, not
        the `x`s it was read as once blanked (`templated`)."""
        if node is None or len(text) < 4 or text.strip("x"):
            return text
        line, column = node.start_mark.line, node.start_mark.column
        written = self.written.lines[line][column : column + len(text)] if line < len(self.written.lines) else ""
        return written.strip() or text

    def service_ports(self, spec: yamlfile.Node | None, only: str | None = None) -> list[tuple[str, yamlfile.Node]]:
        found = []
        for entry in yamlfile.elements(yamlfile.get(spec, "ports")):
            port = yamlfile.get(entry, "port")
            target = _port(yamlfile.get(entry, "targetPort")) or _port(port)
            if only is not None and only not in (_port(port), yamlfile.text_of(yamlfile.get(entry, "name"))):
                continue
            found.append((target, port if port is not None else entry))
        return found

    def middleware(self, document: yamlfile.Node) -> None:
        """A Traefik Middleware: whether it puts authentication in front of the routes that use it."""
        spec = yamlfile.get(document, "spec")
        self.middlewares[_name(document)] = any(yamlfile.get(spec, kind) is not None for kind in MIDDLEWARE_AUTH)

    def ingress(self, document: yamlfile.Node) -> None:
        metadata = yamlfile.get(document, "metadata")
        annotations = yamlfile.get(metadata, "annotations")
        if authenticates(annotations, self.middlewares) or internal_load_balancer(annotations):
            return
        name = _name(document)
        spec = yamlfile.get(document, "spec")
        if spec is None:
            return
        for node in yamlfile.walk(spec):
            service = yamlfile.get(node, "service")
            backend_name = yamlfile.get(service, "name") if yamlfile.is_mapping(service) else yamlfile.get(node, "serviceName")
            backend = yamlfile.text_of(backend_name)
            if backend_name is None or backend is None:
                continue
            port = yamlfile.get(service, "port") if yamlfile.is_mapping(service) else None
            wanted = (
                _port(yamlfile.get(port, "number"))
                or yamlfile.text_of(yamlfile.get(port, "name"))
                or _port(yamlfile.get(node, "servicePort"))
            )
            how = f"from outside the cluster (Ingress {name})"
            beside = None if backend in self.services else self.sibling_service(backend)
            if backend in self.services or beside is not None:
                backend_spec = self.services[backend][1] if beside is None else beside[1]
                entries = [(target, backend_name) for target, _ in self.service_ports(backend_spec, wanted)]
                self.backend(backend, _labels(yamlfile.get(backend_spec, "selector")), entries, how)
            else:
                self.backend(backend, {}, [(wanted or "", backend_name)], how)

    def ray_cluster(self, document: yamlfile.Node) -> None:
        """KubeRay RayCluster / RayService / RayJob: the head service KubeRay creates."""
        head = _head_group(document)
        if head is None:
            return
        ray = BY_KEY["ray"]
        settings = _ray_settings(self.source, document, self.stores)
        self.ray_clusters[_name(document)] = settings
        exposures = []
        service_type = yamlfile.get(head, "serviceType")
        head_annotations = yamlfile.get(yamlfile.get(yamlfile.get(head, "headService"), "metadata"), "annotations")
        internal = yamlfile.text_of(service_type) == "LoadBalancer" and internal_load_balancer(head_annotations)
        if service_type is not None and yamlfile.text_of(service_type) in EXPOSING_TYPES and not internal:
            exposures.append(
                Exposure(
                    node_spot(self.source, service_type),
                    None,
                    f"from outside the cluster (head service of type {yamlfile.text_of(service_type)})",
                )
            )
        ingress = yamlfile.get(head, "enableIngress")
        if ingress is not None and yamlfile.boolean(ingress):
            exposures.append(Exposure(node_spot(self.source, ingress), None, "from outside the cluster (enableIngress: true)"))
        self.findings += report.judge(self.source.path, ray, exposures, settings)


def _folder(source: SourceFile, context: ScanContext) -> _Folder:
    try:
        parsed, documents, _ = kubernetes.load(source)
    except ScanError:
        return _Folder([], {})  # that file's own errors are reported when it is scanned
    manifest = _Manifest(parsed, context, written=source)
    by_kind = manifest.read_pods([document for document in documents if yamlfile.get(document, "kind") is not None])
    services = {}
    for document in by_kind.get("Service", []):
        spec = yamlfile.get(document, "spec")
        services[_name(document)] = (_labels(yamlfile.get(spec, "selector")), spec)
    return _Folder(manifest.pods, services)


def _name(document: yamlfile.Node) -> str:
    return yamlfile.text_of(yamlfile.get(yamlfile.get(document, "metadata"), "name")) or ""


def _cluster_spec(document: yamlfile.Node) -> yamlfile.Node | None:
    """The RayCluster spec of a RayCluster, RayService or RayJob."""
    spec = yamlfile.get(document, "spec")
    return yamlfile.get(spec, "rayClusterConfig") or yamlfile.get(spec, "rayClusterSpec") or spec


def _head_group(document: yamlfile.Node) -> yamlfile.Node | None:
    return yamlfile.get(_cluster_spec(document), "headGroupSpec")


def _ray_settings(source: SourceFile, document: yamlfile.Node, stores: _Stores) -> dict[str, Setting]:
    """How a KubeRay cluster starts its head: `rayStartParams`, the head containers' environment,
    and what the operator adds (`authOptions.mode: token`; `tlsOptions.enabled`, which sets
    RAY_USE_TLS and RAY_TLS_CA_CERT in every Ray container)."""
    cluster = _cluster_spec(document)
    head = yamlfile.get(cluster, "headGroupSpec")
    settings = {
        f"--{key}": Setting(f"--{key}", yamlfile.text_of(value), node_spot(source, value))
        for key, _, value in yamlfile.items(yamlfile.get(head, "rayStartParams"))
    }
    if yamlfile.text_of(yamlfile.get(yamlfile.get(cluster, "authOptions"), "mode")) == "token":
        settings["RAY_AUTH_MODE"] = Setting("RAY_AUTH_MODE", "token", (0, 0))
    if yamlfile.boolean(yamlfile.get(yamlfile.get(cluster, "tlsOptions"), "enabled")):
        settings["RAY_USE_TLS"] = Setting("RAY_USE_TLS", "1", (0, 0))
        settings["RAY_TLS_CA_CERT"] = Setting("RAY_TLS_CA_CERT", "<the operator's CA>", (0, 0))
    for container in yamlfile.elements(yamlfile.get(yamlfile.get(yamlfile.get(head, "template"), "spec"), "containers")):
        settings.update(_env_from(source, container, stores)[0])
        settings.update(_env(source, yamlfile.get(container, "env"), stores))
    return settings


def _values(
    source: SourceFile, node: yamlfile.Node, chart: Service | None, findings: list[Finding], seen: set[int], depth: int = 0
) -> None:
    """Helm values: the block of a known service (the chart's own, or one with its `image`)."""
    if not yamlfile.is_mapping(node) or id(node) in seen or depth > 20:
        return
    seen.add(id(node))
    image = yamlfile.get(node, "image")
    repository = yamlfile.text_of(yamlfile.get(image, "repository")) if yamlfile.is_mapping(image) else yamlfile.text_of(image)
    service = service_of_image(repository or "") or (chart if depth == 0 else None)
    if service is not None:
        findings += _values_findings(source, node, service)
        return  # the block's `service`, `ingress` and `auth` keys, however deep, are its own
    for _, _, value in yamlfile.items(node):
        _values(source, value, None, findings, seen, depth + 1)


def _values_findings(source: SourceFile, block: yamlfile.Node, service: Service) -> list[Finding]:
    """`service.type: LoadBalancer|NodePort`, `ingress.enabled: true`, `auth.enabled: false` in a block."""
    exposures, switched_off = [], []
    for node in yamlfile.walk(block):
        for key, _, value in yamlfile.items(node):
            # `service.type`, or the KubeRay chart's `head.serviceType` (the head service it creates)
            service_type = yamlfile.get(value, "type") if key == "service" else value if key == "serviceType" else None
            internal = yamlfile.text_of(service_type) == "LoadBalancer" and internal_load_balancer(yamlfile.get(value, "annotations"))
            if service_type is not None and yamlfile.text_of(service_type) in EXPOSING_TYPES and not internal:
                number = _port(yamlfile.get(value, "targetPort")) or _port(yamlfile.get(value, "port"))
                how = f"from outside the cluster (service.type: {yamlfile.text_of(service_type)})"
                exposures.append(Exposure(node_spot(source, service_type), int(number) if number.isdigit() else None, how))
            enabled = yamlfile.get(value, "enabled") if key in ("ingress", "auth") else None
            if enabled is None:
                continue
            if key == "ingress" and yamlfile.boolean(enabled):
                annotations = yamlfile.get(value, "annotations")
                if not authenticates(annotations, {}) and not internal_load_balancer(annotations):
                    exposures.append(Exposure(node_spot(source, enabled), None, "from outside the cluster (ingress.enabled: true)"))
            elif key == "auth" and yamlfile.boolean(enabled) is False:
                switched_off.append(Setting("auth.enabled", "false", node_spot(source, enabled)))
    if not exposures or (not switched_off and _values_authenticate(block)):
        return []
    settings: dict[str, Setting] = {}
    for key in ("extraArgs", "args", "command"):
        words = [(yamlfile.text_of(element) or "", node_spot(source, element)) for element in yamlfile.elements(yamlfile.get(block, key))]
        if words:
            command, locate = words_command(words)
            settings.update(options(service, command.argv, locate))
    for key in ("env", "extraEnv", "extraEnvVars"):
        settings.update(_env(source, yamlfile.get(block, key)))
    return report.judge(source.path, service, exposures, settings, switched_off=switched_off)


def _values_authenticate(node: yamlfile.Node) -> bool:
    """A values block that turns some authentication on (`auth.enabled: true`, a password, a token)."""
    for sub in yamlfile.walk(node):
        for key, _, value in yamlfile.items(sub):
            lowered, text = key.lower(), (yamlfile.text_of(value) or "").strip()
            if ("auth" in lowered and (yamlfile.boolean(value) or yamlfile.boolean(yamlfile.get(value, "enabled")))) or (
                any(word in lowered for word in ("password", "token", "apikey", "api_key", "existingsecret"))
                and text not in ("", "false", "null", '""', "''")
            ):
                return True
    return False


def _chart_service(path: str) -> Service | None:
    folders = path.split("/")[:-1]
    return service_of_name(folders[-1]) if folders else None


def _may_be_manifest(text: str) -> bool:
    """`_PREFILTER` or `_CHART_KEYS` in `text`. Each is a search tried at every character, so a
    plain `in` test of its words comes first: most YAML files hold none of them."""
    if ":" not in text:
        return False
    if any(word in text for word in _PREFILTER_WORDS) and _PREFILTER.search(text):
        return True
    return "authenticator_class" in text and _CHART_KEYS.search(text) is not None


def scan(source: SourceFile, context: ScanContext) -> Iterator[Finding]:
    if source.path.endswith(".json") and not kubernetes.json_is_manifest(source):
        return
    values_file = kubernetes.is_values_file(source)
    if not values_file and not _may_be_manifest(source.text):
        return
    parsed, documents, error = kubernetes.load(source)
    manifest = _Manifest(parsed, context, written=source)
    manifests = []
    for document in documents:
        kind = yamlfile.text_of(yamlfile.get(document, "kind"))
        if kind is None and compose_file.is_compose(document):
            yield from compose.document_findings(parsed, document, context)
        elif kind is None and yamlfile.get(document, "head_start_ray_commands") is not None:
            yield from scripts.launcher_findings(parsed, document)
        elif kind is None and (values_file or _CHART_KEYS.search(source.text)):
            findings: list[Finding] = []
            charts = helm_values.chart_blocks(parsed, document, context, values_file)
            for chart, block in charts:
                findings += helm_values.findings(parsed, block, chart)
            if values_file:  # the other blocks, by the images they run
                _values(parsed, document, _chart_service(source.path), findings, {id(block) for _, block in charts})
            yield from findings
        else:
            manifests.append(document)
    manifest.read(manifests)
    yield from manifest.findings
    if error:
        raise InvalidText(error)


SCANNER = Scanner("kubernetes", matches=kubernetes.matches, scan=scan)
