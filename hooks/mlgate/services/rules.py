"""The rules of the `services` hook. A finding's severity is that of the service's API (see
catalog.py): code execution is critical; the rule's own severity is the highest it can take.

Declaring a `Rule` registers it; the hook takes its rules from the registry (see CONTRIBUTING.md).
"""

from mlgate.findings import Rule, Severity

HOOK = "services"

EXPOSED = Rule(
    "SVC001",
    "service-exposed-without-auth",
    HOOK,
    Severity.CRITICAL,
    "ML service (Ray, TorchServe, MLflow, Ollama, vLLM, Gradio, Redis, ...) reachable beyond the machine without authentication",
    "bind it to 127.0.0.1 (or publish the port on 127.0.0.1:), or put authentication in front of it (the service's own, or an auth proxy)",
    owasp_ml="ML05",
    cwe=(306, 668),
)
AUTH_DISABLED = Rule(
    "SVC002",
    "authentication-disabled",
    HOOK,
    Severity.CRITICAL,
    "authentication explicitly turned off on a reachable ML service (empty Jupyter token, TorchServe token auth off, Gradio share link without auth, Redis protected mode off)",
    "remove the setting that turns authentication off, or bind the service to 127.0.0.1",
    owasp_ml="ML05",
    cwe=(306,),
)
DEFAULT_CREDENTIALS = Rule(
    "SVC003",
    "default-credentials",
    HOOK,
    Severity.HIGH,
    "service configured with the credentials it ships with (MinIO minioadmin, MLflow basic-auth password1234)",
    "generate a random secret, keep it out of the repository (a secret store or an untracked .env) and rotate the old one",
    owasp_ml="ML05",
    cwe=(1392, 798),
)
ANY_ORIGIN = Rule(
    "SVC004",
    "service-answers-every-origin",
    HOOK,
    Severity.CRITICAL,
    "ML service that answers requests from every web origin (OLLAMA_ORIGINS=*, CORS * with credentials, Jupyter allow_origin='*' without a token), even on loopback",
    "list the origins that may call it (or none), and keep authentication on: any web page its users open can otherwise drive it",
    owasp_ml="ML05",
    cwe=(942, 306),
)
