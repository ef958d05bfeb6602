"""Helm/Go/Jinja templates never break valid YAML: parsed as written first, actions blanked only
where the file needs it (multi-line actions and comments too), positions kept."""

from __future__ import annotations

import pytest

from mlgate import templated, yamlfile
from mlgate.files import InvalidText, SourceFile

HELM_DEPLOYMENT = """\
{{- /*
  A chart comment over
  several lines: {{ not an action }}
*/ -}}
{{- if and .Values.server.enabled
      (not .Values.server.external) }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "mlflow.fullname" . }}
  labels:
    {{- include "mlflow.labels" . | nindent 4 }}
spec:
  template:
    metadata:
      annotations: {{ toYaml .Values.podAnnotations | nindent 8 }}
    spec:
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: mlflow
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          args: ["server", "--host", "0.0.0.0", "--port", "{{ .Values.port
            | default 5000 }}"]
          ports:
            - containerPort: 5000
      hostNetwork: true
{{- end }}
"""


def test_valid_yaml_is_read_as_written_even_with_a_template_split_inside_a_scalar():
    release = (
        "apiVersion: v1\n"
        "kind: ConfigMap\n"
        "data:\n"
        "  route: publishers/{{ .ObjectMeta.Namespace }}/models/{{ .Spec.Model.Name\n"
        "    }}\n"
        "  header: '{{ .GlobalConfig.HeaderName }}'\n"
        "  script: |\n"
        "    {{- if .Values.x }}\n"
        "    echo {{ .Values.x }}\n"
        "    {{- end }}\n"
    )
    source = SourceFile.from_text("install/release.yaml", release)
    parsed, documents, error = templated.load(source)
    assert parsed is source and error is None
    data = yamlfile.get(documents[0], "data")
    assert yamlfile.text_of(yamlfile.get(data, "route")) == "publishers/{{ .ObjectMeta.Namespace }}/models/{{ .Spec.Model.Name }}"
    assert yamlfile.text_of(yamlfile.get(data, "header")) == "{{ .GlobalConfig.HeaderName }}"
    assert yamlfile.text_of(yamlfile.get(data, "script")).startswith("{{- if .Values.x }}\n")


def test_blanking_keeps_lines_and_columns_and_empties_multi_line_actions_and_comments():
    blanked = templated.untemplated(HELM_DEPLOYMENT)
    assert blanked.count("\n") == HELM_DEPLOYMENT.count("\n")
    lines = blanked.split("\n")
    assert all(not line.strip() for line in lines[:6])  # the comment and the two-line `if`
    assert lines[9] == "  name: " + "x" * len('{{ include "mlflow.fullname" . }}')
    assert not lines[11].strip()  # `{{- include ... | nindent 4 }}` alone on its line
    assert lines[15] == "      annotations: " + "x" * len("{{ toYaml .Values.podAnnotations | nindent 8 }}")
    assert lines[24].endswith('"xxxxxxxxxxxxxxx') and lines[25].strip() == '"]'  # continued on the next line: spaces
    assert len(yamlfile.compose_text(blanked)) == 1


def test_a_helm_template_is_scanned_without_errors(scan_tree):
    scan = scan_tree({"charts/mlflow/templates/deployment.yaml": HELM_DEPLOYMENT}, select="services")
    assert scan.errors == []
    assert [(code, line) for code, _, line, _ in scan.hits] == [("SVC001", 29)]  # hostNetwork: true, at its line


def test_a_templated_name_is_shown_as_the_template_writes_it(scan_tree):
    service = (
        "{{- if not .Values.noService }}\n"
        "apiVersion: v1\n"
        "kind: Service\n"
        "metadata:\n"
        "  name: {{ $.Release.Name }}\n"
        "spec:\n"
        "  type: LoadBalancer\n"
        "  ports:\n"
        "  - name: http\n"
        "    port: 8000\n"
        "  selector:\n"
        "    app: triton\n"
        "{{- end }}\n"
    )
    pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  labels: {app: triton}\nspec:\n  containers:\n  - name: s\n    image: nvcr.io/nvidia/tritonserver:24.01-py3\n    ports: [{containerPort: 8000}]\n"
    scan = scan_tree({"chart/templates/service.yaml": service, "chart/templates/pod.yaml": pod}, select="SVC001")
    assert [(code, path, line) for code, path, line, _ in scan.hits] == [("SVC001", "chart/templates/service.yaml", 10)]
    assert "(Service {{ $.Release.Name }} of type LoadBalancer)" in scan.messages("SVC001")[0]


def test_jinja_and_unclosed_tags_stay_linear_and_positioned():
    text = "a: {% raw %}1{% endraw %}\n{# note\n over lines #}\nb: 2\nc: '{{ unclosed\n"
    blanked = templated.untemplated(text)
    # a Jinja statement writes nothing: spaces, the value it encloses stays
    assert blanked.split("\n")[:4] == ["a: " + " " * 9 + "1" + " " * 12, "", "", "b: 2"]
    # an `{{ if }}` inside a line writes nothing either: the item's mapping on the next lines is read
    helm = "rules:\n  - {{- if .Values.host }}\n    host: {{ .Values.host }}\n    {{- end }}\n    http: {}\n"
    assert templated.untemplated(helm).split("\n")[1:3] == [
        "  - " + " " * len("{{- if .Values.host }}"),
        "    host: " + "x" * len("{{ .Values.host }}"),
    ]
    assert yamlfile.compose_text(templated.untemplated(helm))
    # an action that writes an item's first keys (open-webui's route): the item stays one mapping
    route = (
        "parentRefs:\n"
        "{{- range . }}\n"
        '- {{ toYaml (omit . "sectionName") | nindent 4 | trim }}\n'
        "  sectionName: http\n"
        "{{- end }}\n"
        "hostnames: []\n"
    )
    route_blanked = templated.untemplated(route)
    assert route_blanked.split("\n")[2] == "- " + "x" * (len('{{ toYaml (omit . "sectionName") | nindent 4 | trim }}') - 3) + ": x"
    (document,) = yamlfile.compose_text(route_blanked)
    assert [key for key, _, _ in yamlfile.items(yamlfile.elements(yamlfile.get(document, "parentRefs"))[0])][1:] == ["sectionName"]
    # hostile: a million lines of such items and blank lines are walked once (a pass that looked
    # ahead from each item to its next line would take minutes here)
    items = "a:\n" + ("- {{ toYaml . }}\n" + "\n" * 50) * 20_000
    assert templated.untemplated(items).count("- xxxxxxxxxxxxxx\n") == 20_000
    # an item that is a value of its own is left as it is
    assert templated.untemplated("args:\n- {{ .Values.arg }}\n- --port\n").split("\n")[1] == "- " + "x" * len("{{ .Values.arg }}")
    assert blanked.endswith("c: '{{ unclosed\n")
    hostile = "{{ " * 200_000 + "{% " * 200_000
    assert templated.untemplated(hostile) == hostile  # no closer anywhere: one pass, nothing blanked


def test_a_document_that_cannot_be_read_is_named_and_the_others_are_scanned():
    text = "kind: A\nx: 1\n---\nkind: B\n  bad: [\n---\nkind: C\n{{ if .Values.x }}\nmore: {{ .Values.x }}\n{{ end }}\n"
    parsed, documents, error = templated.load(SourceFile.from_text("m.yaml", text))
    assert [yamlfile.text_of(yamlfile.get(document, "kind")) for document in documents] == ["A", "C"]
    assert yamlfile.position(yamlfile.get(documents[1], "more")) == (9, 7)  # positions in the whole file
    assert error is not None and error.startswith("not scanned: document at line 3 (invalid YAML at line 5")
    assert parsed.line_text(9) == "more: " + "x" * len("{{ .Values.x }}")
    assert parsed.line_text(2) == "x: 1"


def test_a_file_no_document_of_which_can_be_read_is_invalid_text():
    with pytest.raises(InvalidText, match="invalid YAML"):
        templated.load(SourceFile.from_text("m.yaml", "a: [\n{{ if }}\n"))


def test_a_closer_inside_a_quoted_string_does_not_end_the_action():
    # krew plugin manifests: Go's lexer reads the URL as one string token, `}}` inside it included
    text = (
        "platforms:\n"
        "  - selector:\n"
        "      matchLabels:\n"
        "        os: darwin\n"
        '    {{addURIAndSha "https://h/download/{{ .TagName }}/k_{{ .TagName }}.tar.gz" .TagName | indent 6 }}\n'
        "    bin: kubectl-ray\n"
    )
    parsed, documents, error = templated.load(SourceFile.from_text(".krew.yaml", text))
    assert error is None and not parsed.line_text(5).strip()
    assert yamlfile.position(yamlfile.get(yamlfile.elements(yamlfile.get(documents[0], "platforms"))[0], "bin")) == (6, 10)
    jinja = "a: {{ '}}' ~ x }}\nb: {{ \"unterminated }}\n"
    assert templated.untemplated(jinja) == "a: " + "x" * len("{{ '}}' ~ x }}") + "\nb: " + "x" * len('{{ "unterminated }}') + "\n"
    hostile = '{{ " }} ' * 100_000
    assert templated.untemplated(hostile) == ""  # each string and action is passed once; a line of actions only is left empty


def test_template_lines_inside_a_block_scalar_do_not_set_its_indentation():
    # kubeflow katib chart: an action alone on a line inside `|` would fix the block's indentation
    # at its own column if it were blanked to spaces; an empty line sets nothing
    text = (
        "apiVersion: v1\n"
        "kind: ConfigMap\n"
        "data:\n"
        "  katib-config.yaml: |\n"
        "    apiVersion: config.kubeflow.org/v1beta1\n"
        "    kind: KatibConfig\n"
        "    init:\n"
        "      controller:\n"
        "{{- if .Values.webhookPort }}\n"
        "      webhookPort: {{ .Values.webhookPort }}\n"
        "{{- end }}\n"
        "  other: value\n"
    )
    parsed, documents, error = templated.load(SourceFile.from_text("katib/templates/configmap.yaml", text))
    assert error is None
    data = yamlfile.get(documents[0], "data")
    assert yamlfile.text_of(yamlfile.get(data, "katib-config.yaml")).lstrip().startswith("apiVersion:")
    assert yamlfile.position(yamlfile.get(data, "other")) == (12, 10)
    assert parsed.line_text(9) == ""
    assert parsed.line_text(10) == "      webhookPort: " + "x" * len("{{ .Values.webhookPort }}")
