"""The two classifications every rule carries: its risk in the OWASP Machine Learning Security
Top 10 (2023) and the CWE ids of the weakness it finds. The reports name them (SARIF as tags and
taxonomies), `mlgate rules` lists them, and each rule's page says why they were chosen."""

from __future__ import annotations

OWASP_ML_VERSION = "2023"
OWASP_ML_URL = "https://owasp.org/www-project-machine-learning-security-top-10/"
# id -> title, as the OWASP project names its ten risks.
OWASP_ML_TOP_10: dict[str, str] = {
    "ML01": "Input Manipulation Attack",
    "ML02": "Data Poisoning Attack",
    "ML03": "Model Inversion Attack",
    "ML04": "Membership Inference Attack",
    "ML05": "Model Theft",
    "ML06": "AI Supply Chain Attacks",
    "ML07": "Transfer Learning Attack",
    "ML08": "Model Skewing",
    "ML09": "Output Integrity Attack",
    "ML10": "Model Poisoning",
}

CWE_URL = "https://cwe.mitre.org/"
# The CWE entries mlgate's rules name, with MITRE's titles. A shipped rule may only name an id
# listed here (tests/test_conventions.py), so every report can print the title beside the number.
CWE_TITLES: dict[int, str] = {
    22: "Improper Limitation of a Pathname to a Restricted Directory ('Path Traversal')",
    94: "Improper Control of Generation of Code ('Code Injection')",
    300: "Channel Accessible by Non-Endpoint",
    306: "Missing Authentication for Critical Function",
    345: "Insufficient Verification of Data Authenticity",
    400: "Uncontrolled Resource Consumption",
    409: "Improper Handling of Highly Compressed Data (Data Amplification)",
    427: "Uncontrolled Search Path Element",
    436: "Interpretation Conflict",
    470: "Use of Externally-Controlled Input to Select Classes or Code ('Unsafe Reflection')",
    494: "Download of Code Without Integrity Check",
    502: "Deserialization of Untrusted Data",
    506: "Embedded Malicious Code",
    646: "Reliance on File Name or Extension of Externally-Supplied File",
    668: "Exposure of Resource to Wrong Sphere",
    798: "Use of Hard-coded Credentials",
    829: "Inclusion of Functionality from Untrusted Control Sphere",
    942: "Permissive Cross-domain Policy with Untrusted Domains",
    1336: "Improper Neutralization of Special Elements Used in a Template Engine",
    1357: "Reliance on Insufficiently Trustworthy Component",
    1392: "Use of Default Credentials",
    1395: "Dependency on Vulnerable Third-Party Component",
}


def owasp_ml_page(risk: str) -> str:
    """The OWASP project's page of `risk` ("ML06")."""
    slug = OWASP_ML_TOP_10[risk].replace(" ", "_")
    return f"{OWASP_ML_URL}docs/{risk}_{OWASP_ML_VERSION}-{slug}.html"


def cwe_page(number: int) -> str:
    return f"{CWE_URL}data/definitions/{number}.html"


def check(code: str, owasp_ml: str, cwe: tuple[int, ...]) -> None:
    """Raise ValueError unless a rule's classification is well formed: one of the ten OWASP ML
    risks and at least one CWE id (any CWE: a plugin's rule may name one this module lacks)."""
    if owasp_ml not in OWASP_ML_TOP_10:
        raise ValueError(f"rule {code}: owasp_ml {owasp_ml!r} is not one of {', '.join(OWASP_ML_TOP_10)}")
    if not cwe or not all(isinstance(number, int) and not isinstance(number, bool) and number > 0 for number in cwe):
        raise ValueError(f"rule {code}: cwe must name at least one CWE id, as positive integers (got {cwe!r})")
    if len(set(cwe)) != len(cwe):
        raise ValueError(f"rule {code}: cwe names an id twice ({cwe!r})")
