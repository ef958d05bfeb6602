"""Helm values files of the charts in charts.py, read with each chart's own keys.

The chart is the one the `Chart.yaml` beside the file names (itself, when its name and origin
match, or a dependency, whose values sit under its alias or name), else the one whose signature
the keys carry (the whole file, or a top-level block of an umbrella chart's values). Then:
- a Service type of `LoadBalancer`/`NodePort` (not made internal by its annotations), or an
  ingress enabled without auth annotations, makes the service reachable; the chart's default
  type counts where the file does not set it (JupyterHub's proxy is a LoadBalancer);
- a setting that lets anyone in (`authenticator_class: dummy` without a shared password,
  `auth.enabled: false`) on a reachable service -> SVC002 at that setting;
- a chart whose service has no authentication unless turned on (community MLflow, Label Studio)
  reachable without it -> SVC001 at each exposure;
- a credential at the value the chart or its service ships with -> SVC003 at the value,
  reachable or not; a credential is never counted as authentication here, the table decides.
"""

from __future__ import annotations

from mlgate import yamlfile
from mlgate.files import ScanError, SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext
from mlgate.services import report
from mlgate.services.annotations import EXPOSING_TYPES, authenticates, internal_load_balancer
from mlgate.services.catalog import BY_KEY
from mlgate.services.charts import CHARTS, Chart
from mlgate.services.launch import Setting, authenticated, disabled
from mlgate.services.report import Exposure, node_spot
from mlgate.services.rules import DEFAULT_CREDENTIALS


def at(node: yamlfile.Node | None, path: str) -> yamlfile.Node | None:
    """The value at a dotted key path (`proxy.service.type`), or None."""
    for key in path.split("."):
        node = yamlfile.get(node, key) if yamlfile.is_mapping(node) else None
    return node


def _signed(block: yamlfile.Node, chart: Chart) -> bool:
    return any(all(at(block, path) is not None for path in group) for group in chart.signatures)


def _chart_yaml(source: SourceFile) -> tuple[list[Chart], list[tuple[Chart, str]]]:
    """(the charts this Chart.yaml may be, the known charts it depends on with the key of their values)."""
    try:
        documents = yamlfile.load_documents(source)
    except ScanError:
        return [], []  # the file's own errors are reported when it is scanned
    document = documents[0] if documents else None
    name = yamlfile.text_of(yamlfile.get(document, "name")) or ""
    text = source.text.lower()
    own = [chart for chart in CHARTS if chart.name == name and any(origin in text for origin in chart.origins)]
    dependencies = []
    for entry in yamlfile.elements(yamlfile.get(document, "dependencies")):
        dependency = yamlfile.text_of(yamlfile.get(entry, "name")) or ""
        repository = (yamlfile.text_of(yamlfile.get(entry, "repository")) or "").lower()
        key = yamlfile.text_of(yamlfile.get(entry, "alias")) or dependency
        dependencies += [(chart, key) for chart in CHARTS if chart.name == dependency and any(o in repository for o in chart.origins)]
    return own, dependencies


def chart_blocks(
    source: SourceFile, document: yamlfile.Node, context: ScanContext, values_file: bool = True
) -> list[tuple[Chart, yamlfile.Node]]:
    """The blocks of a values document that are the values of a known chart. A file not named
    `values*` (JupyterHub's `config.yaml`) is one only when its keys carry a chart's signature."""
    own: list[Chart] = []
    dependencies: list[tuple[Chart, str]] = []
    if values_file and context.sibling_exists(source, "Chart.yaml"):
        chart_yaml = context.source(source.abspath.parent / "Chart.yaml")
        own, dependencies = context.once("services.chart_yaml", chart_yaml, _chart_yaml)
    found = [(chart, document) for chart in own[:1]]
    for chart, key in dependencies:
        block = yamlfile.get(document, key)
        if block is not None and yamlfile.is_mapping(block):
            found.append((chart, block))
    if found:
        return found
    signed = next((chart for chart in CHARTS if _signed(document, chart)), None)
    if signed is not None or not values_file:
        return [(signed, document)] if signed is not None else []
    # an umbrella chart's values: a dependency's block under its name
    blocks = [(block, next((chart for chart in CHARTS if _signed(block, chart)), None)) for _, _, block in yamlfile.items(document)]
    return [(chart, block) for block, chart in blocks if chart is not None]


def _setting(source: SourceFile, path: str, node: yamlfile.Node) -> Setting:
    return Setting(path, yamlfile.text_of(node), node_spot(source, node))


def _matches(node: yamlfile.Node | None, value: str | None) -> bool:
    """A values setting read as Helm reads it: `false`/`true` as YAML 1.1 booleans, text
    case-insensitively; None: set to anything (a block, or a value that is not empty)."""
    if value is None:
        return node is not None and (not yamlfile.is_scalar(node) or bool((yamlfile.text_of(node) or "").strip()))
    if value in ("true", "false"):
        return yamlfile.boolean(node) is (value == "true")
    return (yamlfile.text_of(node) or "").strip().lower() == value.lower()


def _environment(source: SourceFile, block: yamlfile.Node, chart: Chart) -> dict[str, Setting]:
    """The service's variables the chart passes (`{NAME: value}` maps and `- name:/value:` lists)."""
    found = {}
    for path in chart.environment:
        node = at(block, path)
        for name, _, value in yamlfile.items(node):
            text = yamlfile.text_of(value) or ""
            found[name] = Setting(name, text, node_spot(source, value), "{{" in text)
        for entry in yamlfile.elements(node):
            variable, held = yamlfile.text_of(yamlfile.get(entry, "name")), yamlfile.get(entry, "value")
            if variable and held is not None:
                found[variable] = Setting(variable, yamlfile.text_of(held) or "", node_spot(source, held))
    return found


def _exposures(source: SourceFile, block: yamlfile.Node, chart: Chart) -> list[Exposure]:
    exposures = []
    for path, default in chart.service_types:
        node = at(block, path)
        kind = yamlfile.text_of(node) if node is not None else default
        parent = at(block, path.rsplit(".", 1)[0]) if "." in path else block
        if kind not in EXPOSING_TYPES or (kind == "LoadBalancer" and internal_load_balancer(yamlfile.get(parent, "annotations"))):
            continue
        if node is not None:
            exposures.append(Exposure(node_spot(source, node), None, f"from outside the cluster ({path}: {kind})"))
        else:  # the chart's default: placed where the file starts
            exposures.append(Exposure(yamlfile.position(block), None, f"from outside the cluster ({path}: {kind}, the chart's default)"))
    for path in chart.ingresses:
        enabled = at(block, f"{path}.enabled")
        annotations = at(block, f"{path}.annotations")
        if (
            enabled is not None
            and yamlfile.boolean(enabled)
            and not authenticates(annotations, {})
            and not internal_load_balancer(annotations)
        ):
            exposures.append(Exposure(node_spot(source, enabled), None, f"from outside the cluster ({path}.enabled: true)"))
    return exposures


def findings(source: SourceFile, block: yamlfile.Node, chart: Chart) -> list[Finding]:
    """SVC001/SVC002/SVC003 for one chart's values block."""
    service = BY_KEY[chart.service]
    found: list[Finding] = []
    if not report.in_test_data(source.path):
        for path, shipped in chart.credentials:
            node = at(block, path)
            if node is not None and (yamlfile.text_of(node) or "") == shipped:
                message = f"{path}: {shipped} is the credential {service.name} ships with, published in its documentation: {service.danger}"
                found.append(DEFAULT_CREDENTIALS.finding(source.path, *node_spot(source, node), message))
    exposures = _exposures(source, block, chart)
    if not exposures:
        return found
    settings = _environment(source, block, chart)
    switched_off = []
    for path, values, safe_when in chart.opens:
        node = at(block, path)
        if node is None or not any(_matches(node, value) for value in values):
            continue
        safe = at(block, safe_when) if safe_when else None
        if safe is not None and (yamlfile.text_of(safe) or "").strip():
            continue
        switched_off.append(_setting(source, path, node))
    turned_on = any(_matches(at(block, path), value) for path, value in chart.auth_by)
    if (
        not switched_off
        and not disabled(service, settings)
        and (turned_on or chart.authenticated_by_default or authenticated(service, settings))
    ):
        return found
    return found + report.judge(source.path, service, exposures, settings, switched_off=switched_off)
