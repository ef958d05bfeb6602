"""What mlgate knows about the Helm charts people install ML services with: one `Chart` per chart.

A values file has no `kind:`; it belongs to a chart when the `Chart.yaml` beside it names the chart
(or a dependency of it, whose values then sit under the dependency's name or alias), or when its
keys carry the chart's signature. Each entry names, as dotted key paths of the chart's values:
where the Services it creates get their type, its ingresses, the settings that let anyone in,
the settings that turn authentication on and the credentials it (or its service) ships with.
Key names and defaults are the charts' own (their `values.yaml`); readers never name a chart.
Adding a chart is one entry here plus its tests.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    name: str  # `name:` in its Chart.yaml (and in a dependency entry)
    service: str  # the catalog key of the service it runs
    origins: tuple[str, ...]  # words in the chart's `home`/`sources`/dependency `repository` that tell it from a namesake
    signatures: tuple[tuple[str, ...], ...]  # key paths that, all present, say a values file is this chart's
    service_types: tuple[tuple[str, str], ...]  # (path of a Service type, the chart's default type)
    ingresses: tuple[str, ...] = ()  # paths of ingress blocks (`enabled`, `annotations`)
    # (path, values that let anyone in, a path that makes it safe when set): SVC002 at the value
    opens: tuple[tuple[str, tuple[str, ...], str | None], ...] = ()
    authenticated_by_default: bool = True  # False: exposed without one of `auth_by` is SVC001
    auth_by: tuple[tuple[str, str | None], ...] = ()  # (path, value) that turns authentication on; None: set at all
    credentials: tuple[tuple[str, str], ...] = ()  # (path, the value it ships with): SVC003 at the value
    environment: tuple[str, ...] = ()  # paths of the service's environment (a map or a list of name/value)


CHARTS: tuple[Chart, ...] = (
    Chart(  # zero-to-jupyterhub-k8s: proxy-public is a LoadBalancer by default, the normal way in
        "jupyterhub",
        "jupyterhub",
        ("jupyter",),
        (("hub", "proxy"), ("hub", "singleuser"), ("hub.config.JupyterHub",)),
        (("proxy.service.type", "LoadBalancer"),),
        ingresses=("ingress",),
        # DummyAuthenticator takes any name and any password unless given the shared `password`;
        # TmpAuthenticator gives every visitor a fresh user. NullAuthenticator lets no one log in.
        opens=(
            (
                "hub.config.JupyterHub.authenticator_class",
                (
                    "dummy",
                    "jupyterhub.auth.dummyauthenticator",
                    "dummyauthenticator.dummyauthenticator",
                    "tmp",
                    "tmpauthenticator.tmpauthenticator",
                ),
                "hub.config.DummyAuthenticator.password",
            ),
        ),
    ),
    Chart(  # community-charts/mlflow: auth off by default, admin password required once it is on
        "mlflow",
        "mlflow",
        ("community-charts",),
        (("backendStore", "artifactRoot"),),
        (("service.type", "ClusterIP"),),
        ingresses=("ingress",),
        opens=(("auth.enabled", ("false",), None),),
        authenticated_by_default=False,
        auth_by=(("auth.enabled", "true"), ("ldapAuth.enabled", "true")),
        credentials=(("auth.adminPassword", "password1234"),),  # MLflow's own basic_auth.ini default
        environment=("extraEnvVars",),
    ),
    Chart(  # bitnami/redis (and the older `usePassword` keys): a password is generated unless auth is off
        "redis",
        "redis",
        ("bitnami",),
        (("master", "replica", "sentinel"), ("master", "usePassword")),
        (("master.service.type", "ClusterIP"), ("replica.service.type", "ClusterIP"), ("sentinel.service.type", "ClusterIP")),
        opens=(("auth.enabled", ("false",), None), ("usePassword", ("false",), None)),
    ),
    Chart(  # bitnami/minio (`auth.*`), MinIO's own chart (`rootUser`) and the old stable/minio (`accessKey`)
        "minio",
        "minio",
        ("bitnami", "min.io", "minio", "helm/charts", "kubernetes-charts"),
        (("auth.rootUser", "defaultBuckets"), ("rootUser", "rootPassword", "consoleService"), ("accessKey", "secretKey", "mcImage")),
        (("service.type", "ClusterIP"), ("consoleService.type", "ClusterIP"), ("console.service.type", "ClusterIP")),
        ingresses=("ingress", "apiIngress", "consoleIngress", "console.ingress"),
        credentials=(
            ("auth.rootPassword", "minioadmin"),
            ("rootPassword", "minioadmin"),
            ("secretKey", "minioadmin"),
            ("secretKey", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),  # stable/minio's default
        ),
    ),
    Chart(  # HumanSignal/charts label-studio: anyone can sign up unless sign-up needs an invite link
        "label-studio",
        "label-studio",
        ("heartex", "humansignal"),
        (("app.service", "rqworker"),),
        (("app.service.type", "ClusterIP"),),
        ingresses=("app.ingress",),
        authenticated_by_default=False,
        environment=("global.extraEnvironmentVars", "app.extraEnvironmentVars"),
    ),
    Chart(  # otwld/ollama-helm: Ollama has no authentication; the chart's Service is ClusterIP
        "ollama",
        "ollama",
        ("otwld", "ollama-helm"),
        (("ollama.gpu",), ("ollama.models",)),
        (("service.type", "ClusterIP"),),
        ingresses=("ingress",),
        authenticated_by_default=False,
        environment=("extraEnv",),
    ),
    Chart(  # open-webui/helm-charts: logins are on unless WEBUI_AUTH is turned off in its environment
        "open-webui",
        "open-webui",
        ("open-webui",),
        (("ollama.enabled", "pipelines"), ("ollamaUrls",), ("openaiBaseApiUrl", "ollama")),
        (("service.type", "ClusterIP"),),
        ingresses=("ingress",),
        environment=("extraEnvVars", "commonEnvVars"),
    ),
    Chart(  # ray-project/kuberay helm-chart/kuberay-apiserver: the `security` block adds the token proxy
        "kuberay-apiserver",
        "kuberay-apiserver",
        ("kuberay", "ray-project"),
        (("enableAPIServerV2",), ("security.proxy",)),
        (("service.type", "ClusterIP"),),
        ingresses=("ingress",),
        authenticated_by_default=False,
        auth_by=(("security.proxy", None),),
    ),
)
