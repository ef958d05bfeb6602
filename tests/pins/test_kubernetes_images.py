"""Kubernetes manifests, Helm values and kustomizations: images pulled by tag (PIN010)."""

from __future__ import annotations

DIGEST = "sha256:" + "ab" * 32


def test_pod_images_of_every_workload_kind_init_containers_too(scan_tree):
    text = (
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata: {name: api}\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      initContainers:\n"
        "        - name: fetch\n"
        "          image: busybox:1.36\n"  # line 9
        "      containers:\n"
        "        - name: api\n"
        "          image: 'ghcr.io/acme/api'\n"  # line 12: quoted, no tag
        "        - name: sidecar\n"
        f"          image: envoyproxy/envoy:v1.29@{DIGEST}\n"  # pinned
        "---\n"
        "apiVersion: batch/v1\n"
        "kind: CronJob\n"
        "metadata: {name: nightly}\n"
        "spec:\n"
        "  jobTemplate:\n"
        "    spec:\n"
        "      template:\n"
        "        spec:\n"
        "          containers:\n"
        "            - name: train\n"
        "              image: pytorch/pytorch:latest\n"  # line 26
        "---\n"
        "apiVersion: v1\n"
        "kind: Pod\n"
        "metadata: {name: debug}\n"
        "spec:\n"
        "  containers:\n"
        "    - name: shell\n"
        "      image: ${DEBUG_IMAGE}\n"  # a variable: not judged
    )
    scan = scan_tree({"deploy/app.yaml": text}, select="PIN010")
    assert scan.hits == [
        ("PIN010", "deploy/app.yaml", 9, 18),
        ("PIN010", "deploy/app.yaml", 12, 19),
        ("PIN010", "deploy/app.yaml", 26, 22),
    ]
    assert scan.errors == []
    assert "image pytorch/pytorch:latest is referenced by the tag 'latest'" in scan.messages("PIN010")[2]


def test_statefulset_daemonset_and_job_in_a_list_and_json(scan_tree):
    listed = (
        "apiVersion: v1\n"
        "kind: List\n"
        "items:\n"
        "  - kind: StatefulSet\n"
        "    spec:\n"
        "      template:\n"
        "        spec:\n"
        "          containers: [{name: db, image: 'postgres:16'}]\n"  # line 8
        "  - kind: DaemonSet\n"
        "    spec:\n"
        "      template:\n"
        "        spec:\n"
        f"          containers: [{{name: agent, image: 'fluent/fluent-bit@{DIGEST}'}}]\n"
    )
    manifest = '{"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {"containers": [{"image": "python:3.12"}]}}}}\n'
    scan = scan_tree({"k8s/list.yaml": listed, "k8s/job.json": manifest}, select="PIN010")
    assert scan.rule_lines == [("PIN010", "k8s/job.json", 1), ("PIN010", "k8s/list.yaml", 8)]


def test_helm_values_images(scan_tree):
    values = (
        "image:\n"
        "  repository: vllm/vllm-openai\n"
        "  tag: v0.6.3\n"  # line 3: at the tag
        "  pullPolicy: IfNotPresent\n"
        "proxy:\n"
        "  image:\n"
        "    registry: quay.io\n"
        "    repository: oauth2-proxy/oauth2-proxy\n"
        "    tag: v7.6.0\n"
        f"    digest: {DIGEST}\n"  # pinned by its digest
        "exporter:\n"
        "  image:\n"
        "    repository: prom/statsd-exporter\n"  # line 13: no tag, the chart's appVersion
        '    tag: ""\n'
        "init:\n"
        "  image: busybox:latest\n"  # line 16: a string
        "extraContainers:\n"
        "  - name: x\n"
        "    image: alpine\n"  # line 19
    )
    scan = scan_tree({"charts/serve/values.yaml": values}, select="PIN010")
    assert scan.hits == [
        ("PIN010", "charts/serve/values.yaml", 3, 8),
        ("PIN010", "charts/serve/values.yaml", 13, 17),
        ("PIN010", "charts/serve/values.yaml", 16, 10),
        ("PIN010", "charts/serve/values.yaml", 19, 12),
    ]
    assert "vllm/vllm-openai:v0.6.3" in scan.messages("PIN010")[0]
    assert "chart fills in a tag" in scan.messages("PIN010")[1]


def test_a_scalar_image_is_joined_with_its_sibling_tag_or_digest_as_the_chart_joins_them(scan_tree):
    values = (
        "runtimes:\n"
        "  mlserver:\n"
        "    image: docker.io/seldonio/mlserver\n"
        "    tag: 1.5.0\n"  # line 4: judged as mlserver:1.5.0, at its tag
        "  triton:\n"
        "    image: nvcr.io/nvidia/tritonserver\n"
        f"    digest: {DIGEST}\n"  # pinned
        "  plain:\n"
        "    image: alpine\n"  # line 9: no version anywhere
        "    tag: ''\n"
    )
    scan = scan_tree({"charts/runtimes/values.yaml": values}, select="PIN010")
    assert scan.hits == [("PIN010", "charts/runtimes/values.yaml", 4, 10), ("PIN010", "charts/runtimes/values.yaml", 9, 12)]
    assert "docker.io/seldonio/mlserver:1.5.0" in scan.messages("PIN010")[0] and "no tag" not in scan.messages("PIN010")[0]


def test_a_scalar_image_with_a_sibling_repository_and_version_as_nvidias_charts_write_them(scan_tree):
    """NVIDIA's gpu-operator: `{{ .repository }}/{{ .image }}:{{ .version | default .Chart.AppVersion }}`."""
    values = (
        "devicePlugin:\n"
        "  repository: quay.io/acme\n"
        "  image: k8s-device-plugin\n"
        "  version: v0.20.0\n"  # line 4: quay.io/acme/k8s-device-plugin:v0.20.0
        "validator:\n"
        "  repository: quay.io/acme\n"
        "  image: validator\n"  # line 7: the chart's appVersion
        "vgpuManager:\n"
        "  repository: ''\n"
        "  image: vgpu-manager\n"  # the user's to fill in: nothing to judge
        "  version: ''\n"
        "pinned:\n"
        "  repository: quay.io/acme\n"
        "  image: toolkit\n"
        f"  digest: {DIGEST}\n"
    )
    scan = scan_tree({"deployments/chart/values.yaml": values}, select="PIN010")
    assert scan.hits == [("PIN010", "deployments/chart/values.yaml", 4, 12), ("PIN010", "deployments/chart/values.yaml", 7, 10)]
    assert scan.messages("PIN010") == [
        "image quay.io/acme/k8s-device-plugin:v0.20.0 is referenced by the tag 'v0.20.0', which its publisher "
        "(or whoever takes over the repository) can move",
        "image quay.io/acme/validator has no tag or digest in the values: the chart fills in a tag (its appVersion "
        "in most charts), which can move",
    ]


def test_helm_templates_are_not_judged_where_the_image_is_a_template(scan_tree):
    template = (
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        '  name: {{ include "serve.fullname" . }}\n'
        "  labels:\n"
        '    {{- include "serve.labels" . | nindent 4 }}\n'
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      {{- with .Values.imagePullSecrets }}\n"
        "      imagePullSecrets:\n"
        "        {{- toYaml . | nindent 8 }}\n"
        "      {{- end }}\n"
        "      containers:\n"
        "        - name: serve\n"
        '          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"\n'
        "          resources: {{ toYaml .Values.resources | nindent 12 }}\n"
        "        - name: metrics\n"
        "          image: prom/statsd-exporter:v0.26.0\n"  # line 19: literal in the template
    )
    scan = scan_tree({"charts/serve/templates/deployment.yaml": template}, select="PIN010")
    assert scan.hits == [("PIN010", "charts/serve/templates/deployment.yaml", 19, 18)]
    assert scan.errors == []


def test_kustomize_images(scan_tree):
    kustomization = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\n"
        "resources: [deployment.yaml]\n"
        "images:\n"
        "  - name: kserve/controller\n"
        "    newTag: latest\n"  # line 6
        "  - name: kserve/agent\n"
        "    newName: ghcr.io/acme/agent\n"
        "    newTag: v1.2\n"  # line 9
        "  - name: kserve/router\n"
        f"    digest: {DIGEST}\n"  # pinned
        "  - name: kserve/storage\n"
        "    newName: registry.local/storage\n"  # renamed only: the manifest's tag is checked there
    )
    scan = scan_tree({"config/kustomization.yaml": kustomization}, select="PIN010")
    assert scan.hits == [("PIN010", "config/kustomization.yaml", 6, 13), ("PIN010", "config/kustomization.yaml", 9, 13)]
    assert "image kserve/controller:latest" in scan.messages("PIN010")[0]
    assert "image ghcr.io/acme/agent:v1.2" in scan.messages("PIN010")[1]


def test_a_base_is_retagged_by_the_overlays_that_build_from_it(scan_tree):
    """kubeflow/manifests: `components/controller/controller.yaml` says `image: ghcr.io/kubeflow/katib/katib-controller`
    and `installs/standalone/kustomization.yaml` (resources: ../../components/controller) sets its newTag."""
    pod = "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - image: {image}\n"
    files = {
        "components/controller/controller.yaml": pod.format(image="ghcr.io/acme/controller"),
        "components/controller/kustomization.yaml": "resources:\n  - controller.yaml\n",
        "components/ui/ui.yaml": pod.format(image="ghcr.io/acme/ui"),  # no overlay sets its tag
        "components/ui/kustomization.yaml": "resources:\n  - ui.yaml\n",
        "installs/standalone/kustomization.yaml": (
            "resources:\n  - ../../components/controller\n  - ../../components/ui\n  - https://github.com/x/y//config?ref=v1\n"
            "images:\n  - name: ghcr.io/acme/controller\n    newTag: v0.19.0\n"
        ),
        # a cycle is cut, not followed forever
        "loop/a/kustomization.yaml": "resources:\n  - ../b\n",
        "loop/b/kustomization.yaml": "resources:\n  - ../a\n",
    }
    scan = scan_tree(files, select="PIN010")
    assert scan.rule_lines == [("PIN010", "components/ui/ui.yaml", 6), ("PIN010", "installs/standalone/kustomization.yaml", 7)]


def test_negatives_pinned_or_not_a_pod(scan_tree):
    files = {
        "deploy/pinned.yaml": (
            f"kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - image: nginx:1.27@{DIGEST}\n"
        ),
        # `image:` outside a pod spec, in a ConfigMap's data or a plain config: not a pod image
        "deploy/config.yaml": "kind: ConfigMap\ndata:\n  image: nginx:1.27\n",
        "conf/app.yaml": "logo:\n  image: banner.png\n",
        "data.json": '{"image": "python:3.12"}\n',  # JSON without apiVersion: data
        # a values file's templated value and a variable
        "charts/x/values.yaml": 'image:\n  repository: "{{ .Values.global.repo }}"\n  tag: v1\nother:\n  image: $IMAGE\n',
    }
    scan = scan_tree(files, select="PIN010")
    assert scan.hits == []
    assert scan.errors == []


def test_compose_files_and_workflows_are_left_to_their_scanners(scan_tree):
    files = {
        "docker-compose.yml": "services:\n  app:\n    image: python:3.12\n",
        ".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    container: python:3.12\n    steps: []\n",
    }
    scan = scan_tree(files, select="PIN010")
    assert scan.rule_lines == [("PIN010", ".github/workflows/ci.yml", 5), ("PIN010", "docker-compose.yml", 3)]


def _deployment(image: str) -> str:
    """A Deployment whose one container's `image:` is on line 7, column 18."""
    return f"kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: {image}\n"


def test_manifests_under_a_release_folder_are_frozen_history(scan_tree):
    files = {
        "install/v0.16.0/kserve.yaml": _deployment("kserve/controller:v0.16.0"),
        "install/v0.16.0-rc1/kserve.yaml": _deployment("kserve/controller:v0.16.0-rc1"),
        "releases/1.2/charts/values.yaml": "image: busybox:1.36\n",
        "install/0.3.0.dev1/kustomization.yaml": "images:\n  - name: kserve/agent\n    newTag: latest\n",
        # a version in the file name, or a folder that only starts like one: not a release folder
        "install/v0.16.0.yaml": _deployment("kserve/controller:v0.16.0"),
        "config/v1beta1-api/kserve.yaml": _deployment("kserve/agent:v0.16.0"),
        "deploy/v2/kserve.yaml": _deployment("kserve/router:v2"),
        # only the file's folder and the one above count: not a version folder far above
        "1.0/deploy/app/kserve.yaml": _deployment("kserve/storage:v1"),
    }
    scan = scan_tree(files, select="PIN010")
    assert scan.hits == [
        ("PIN010", "1.0/deploy/app/kserve.yaml", 7, 18),
        ("PIN010", "config/v1beta1-api/kserve.yaml", 7, 18),
        ("PIN010", "deploy/v2/kserve.yaml", 7, 18),
        ("PIN010", "install/v0.16.0.yaml", 7, 18),
    ]


def test_placeholder_tags_that_tooling_replaces_are_not_reported(scan_tree):
    values = (
        "hub:\n"
        "  image:\n"
        "    name: quay.io/jupyterhub/k8s-hub\n"
        '    tag: "set-by-chartpress"\n'
        "proxy:\n"
        "  image:\n"
        "    repository: acme/proxy\n"
        "    tag: REPLACE_ME\n"
        "a:\n  image: acme/a:PLACEHOLDER\n"
        "b:\n  image: acme/b:TAG\n"
        "c:\n  image: 'acme/c:<tag>'\n"
        "d:\n  image: acme/d:%TAG%\n"
        "e:\n  image: acme/e:changeme\n"
        "f:\n  image: acme/f:$(TAG)\n"
        "g:\n  image:\n    repository: acme/g\n    tag: '{{ .Values.tag }}'\n"
        "h:\n  image: acme/h:__VERSION__\n"
        "i:\n  image: '<your-image>'\n"
        # real tags that only contain a placeholder word: reported
        "j:\n  image: acme/j:tagged-1.0\n"  # line 30
        "k:\n  image:\n    repository: acme/k\n    tag: stable-changeme-not\n"  # line 34
        "l:\n  image: localhost:5000/acme/l\n"  # line 36: a registry port, not a tag
        "m:\n  image: IMAGE_URL\n"  # Docker refuses upper case in a repository name: a placeholder
        "n:\n  image: Registry.Example.com/acme/n:v1\n"  # line 40: a host name's case does not matter
    )
    kustomization = "images:\n  - name: acme/operator\n    newTag: ${TAG}\n  - name: acme/web\n    newTag: set-by-ci\n  - name: acme/api\n    newTag: nightly\n"
    scan = scan_tree({"chart/values.yaml": values, "config/kustomization.yaml": kustomization}, select="PIN010")
    assert scan.hits == [
        ("PIN010", "chart/values.yaml", 30, 10),
        ("PIN010", "chart/values.yaml", 34, 10),
        ("PIN010", "chart/values.yaml", 36, 10),
        ("PIN010", "chart/values.yaml", 40, 10),
        ("PIN010", "config/kustomization.yaml", 7, 13),
    ]
    assert "acme/api:nightly" in scan.messages("PIN010")[4]


def test_a_base_manifest_retagged_by_the_kustomization_beside_it(scan_tree):
    kustomization = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\n"
        "resources: [apiserver.yaml]\n"
        "images:\n"
        "  - name: kuberay/apiserver\n"
        "    newName: kuberay/apiserver\n"
        "    newTag: nightly\n"  # line 7: judged here
        "  - name: kuberay/proxy\n"
        f"    digest: {DIGEST}\n"
        "  - name: kuberay/renamed\n"
        "    newName: ghcr.io/kuberay/renamed\n"  # renames only: the manifest's tag stays, reported there
    )
    manifest = (
        "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
        "        - image: kuberay/apiserver\n"  # the kustomization sets its tag: not reported
        "        - image: kuberay/proxy:v1\n"  # and its digest
        "        - image: kuberay/renamed:v1\n"  # line 8
        "        - image: kuberay/other:v1\n"  # line 9: no entry for it
    )
    files = {
        "deploy/base/kustomization.yaml": kustomization,
        "deploy/base/apiserver.yaml": manifest,
        # another folder: its kustomization is not beside the manifest
        "deploy/other/apiserver.yaml": manifest,
        "deploy/other/Kustomization": "resources: [../base]\n",
    }
    scan = scan_tree(files, select="PIN010")
    assert scan.hits == [
        ("PIN010", "deploy/base/apiserver.yaml", 8, 18),
        ("PIN010", "deploy/base/apiserver.yaml", 9, 18),
        ("PIN010", "deploy/base/kustomization.yaml", 7, 13),
        ("PIN010", "deploy/other/apiserver.yaml", 6, 18),
        ("PIN010", "deploy/other/apiserver.yaml", 7, 18),
        ("PIN010", "deploy/other/apiserver.yaml", 8, 18),
        ("PIN010", "deploy/other/apiserver.yaml", 9, 18),
    ]
    assert scan.errors == []


def test_a_kustomization_named_kustomization_retags_too(scan_tree):
    files = {
        "k/Kustomization": "images:\n- name: acme/app\n  newTag: v2\n",
        "k/app.yml": _deployment("acme/app:v1"),
    }
    assert scan_tree(files, select="PIN010").hits == []


def test_chart_testing_values_are_test_inputs(scan_tree):
    values = "image:\n  repository: ghcr.io/acme/controller\n  tag: latest\n"
    files = {
        "charts/ctl/Chart.yaml": "apiVersion: v2\nname: ctl\nversion: 0.1.0\n",
        "charts/ctl/values.yaml": values,  # line 3: what a release deploys
        "charts/ctl/ci/values-full.yaml": values,  # chart-testing input
        "deploy/ci/values.yaml": values,  # a `ci` folder that is no chart's: read
    }
    scan = scan_tree(files, select="PIN010")
    assert scan.rule_lines == [("PIN010", "charts/ctl/values.yaml", 3), ("PIN010", "deploy/ci/values.yaml", 3)]
