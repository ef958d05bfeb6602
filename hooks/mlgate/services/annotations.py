"""Kubernetes annotations that change who reaches a Service or an Ingress: a load balancer the
cloud keeps in the private network, authentication an ingress controller puts in front."""

from __future__ import annotations

import re

from mlgate import yamlfile

EXPOSING_TYPES = frozenset({"LoadBalancer", "NodePort"})
_AUTH_KEY = re.compile(r"auth", re.IGNORECASE)
# Annotation values that turn an auth annotation off (`alb.../auth-type: none`, `enable-global-auth: "false"`).
_AUTH_OFF = frozenset({"", "none", "false", "off", "no", "0", "optional", "optional_no_ca"})
_TRAEFIK_MIDDLEWARES = "traefik.ingress.kubernetes.io/router.middlewares"
MIDDLEWARE_AUTH = ("basicAuth", "digestAuth", "forwardAuth")
# Annotations (lower-case values) that give a load balancer an address in the private network
# only: reachable from inside it alone, like a ClusterIP Service.
_INTERNAL_LOAD_BALANCER = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": frozenset({"true", "0.0.0.0/0"}),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": frozenset({"internal"}),
    "alb.ingress.kubernetes.io/scheme": frozenset({"internal"}),
    "networking.gke.io/load-balancer-type": frozenset({"internal"}),
    "cloud.google.com/load-balancer-type": frozenset({"internal"}),
    "kubernetes.io/ingress.class": frozenset({"gce-internal"}),
    "service.beta.kubernetes.io/azure-load-balancer-internal": frozenset({"true"}),
    "appgw.ingress.kubernetes.io/use-private-ip": frozenset({"true"}),
    "service.beta.kubernetes.io/oci-load-balancer-internal": frozenset({"true"}),
}


def internal_load_balancer(annotations: yamlfile.Node | None) -> bool:
    """Annotations that give a load balancer an address in the private network only."""
    return any(
        (yamlfile.text_of(value) or "").strip().lower() in _INTERNAL_LOAD_BALANCER.get(key, ())
        for key, _, value in yamlfile.items(annotations)
    )


def authenticates(annotations: yamlfile.Node | None, middlewares: dict[str, bool]) -> bool:
    """Ingress annotations that put authentication in front: an auth annotation that is not
    switched off (`auth-url`, `auth-type: basic`, `auth-tls-verify-client: on`, not `auth-type:
    none`), or a Traefik middleware that authenticates (`middlewares`: those of the file; one
    defined elsewhere counts when its name says auth)."""
    for key, _, value in yamlfile.items(annotations):
        text = (yamlfile.text_of(value) or "").strip()
        if key == _TRAEFIK_MIDDLEWARES:
            for reference in filter(None, (part.strip() for part in text.split(","))):
                used = reference.split("@", 1)[0]  # `<namespace>-<name>@kubernetescrd`
                known = [auth for name, auth in middlewares.items() if used == name or used.endswith(f"-{name}")]
                if any(known) or (not known and _AUTH_KEY.search(used)):
                    return True
        elif _AUTH_KEY.search(key) and text.lower() not in _AUTH_OFF:
            return True
    return False
