"""The rules of the `models` hook. Severity follows what loading the file can do.

Declaring a `Rule` registers it; the hook takes its rules from the registry (see CONTRIBUTING.md).
"""

from mlgate.findings import Rule, Severity

HOOK = "models"

DANGEROUS_CALL = Rule(
    "MOD001",
    "pickle-dangerous-call",
    HOOK,
    Severity.CRITICAL,
    "pickle invokes a known-dangerous callable (process, eval/exec, import machinery, network, files)",
    "do not load this file; if it is yours, re-save the weights as safetensors",
    owasp_ml="ML06",
    cwe=(502,),
)
UNKNOWN_CALL = Rule(
    "MOD002",
    "pickle-unknown-call",
    HOOK,
    Severity.HIGH,
    "pickle invokes a callable outside the allowlist of what ML libraries need to rebuild data",
    "review the callable; convert to safetensors, or accept the reviewed file by path + sha256 in models.allowlist",
    owasp_ml="ML06",
    cwe=(502,),
)
PICKLE_FORMAT = Rule(
    "MOD003",
    "pickle-format",
    HOOK,
    Severity.MEDIUM,
    "model file in a pickle-based format: it can execute code when loaded",
    "save it in a format without code (safetensors for tensors, skops for scikit-learn, JSON or Parquet for data); "
    "load torch checkpoints with weights_only=True; or allowlist the reviewed file by sha256",
    owasp_ml="ML06",
    cwe=(502,),
)
UNPARSEABLE = Rule(
    "MOD004",
    "unparseable-model",
    HOOK,
    Severity.HIGH,
    "model content that cannot be parsed where a pickle or model format is expected (fails closed)",
    "re-export the file; a corrupt or truncated pickle is a known way to slip past scanners",
    owasp_ml="ML06",
    cwe=(502,),
)
ARCHIVE_TAMPERING = Rule(
    "MOD005",
    "archive-tampering",
    HOOK,
    Severity.HIGH,
    "model archive built to confuse scanners (mismatched names, data before the archive, odd flags)",
    "re-save the model with the library that made it; do not load the archive as it is",
    owasp_ml="ML06",
    cwe=(436, 502),
)
TORCHSCRIPT_CODE = Rule(
    "MOD006",
    "torchscript-code",
    HOOK,
    Severity.HIGH,
    "TorchScript archive carries code that runs when the model is loaded",
    "load only TorchScript from trusted sources; prefer safetensors weights + model code from your repo",
    owasp_ml="ML06",
    cwe=(829, 502),
)
KERAS_LAMBDA = Rule(
    "MOD007",
    "keras-lambda-layer",
    HOOK,
    Severity.CRITICAL,
    "Keras model with a Lambda layer: serialized Python code that runs on load",
    "rebuild the layer in code and save weights only (model.save_weights / safetensors)",
    owasp_ml="ML06",
    cwe=(94, 502),
)
KERAS_CUSTOM_OBJECT = Rule(
    "MOD008",
    "keras-custom-object",
    HOOK,
    Severity.HIGH,
    "Keras model referencing modules outside Keras: loading imports and runs them",
    "register custom objects from your own code and review the module names in config.json",
    owasp_ml="ML06",
    cwe=(470, 502),
)
CHAT_TEMPLATE = Rule(
    "MOD009",
    "chat-template-injection",
    HOOK,
    Severity.CRITICAL,
    "chat template (GGUF metadata, tokenizer_config.json, chat_template.jinja) with Jinja constructs that reach Python internals (CVE-2024-34359)",
    "replace the chat_template with a plain one; load with a sandboxed Jinja environment",
    owasp_ml="ML06",
    cwe=(1336, 94),
)
ONNX_EXTERNAL = Rule(
    "MOD010",
    "onnx-external-data-escape",
    HOOK,
    Severity.HIGH,
    "ONNX external_data location that leaves the model's folder (absolute or ..)",
    "keep external tensor files beside the model with relative names",
    owasp_ml="ML06",
    cwe=(22,),
)
SAFETENSORS_INVALID = Rule(
    "MOD011",
    "safetensors-invalid",
    HOOK,
    Severity.HIGH,
    "file named safetensors whose header is not valid safetensors",
    "re-export the weights with the safetensors library",
    owasp_ml="ML06",
    cwe=(646, 502),
)
LFS_POINTER = Rule(
    "MOD012",
    "lfs-pointer",
    HOOK,
    Severity.LOW,
    "git-LFS pointer: the model itself is not in this checkout and was not scanned",
    "run mlgate where the LFS objects are fetched (git lfs pull) so the real file is scanned",
    owasp_ml="ML06",
    cwe=(345,),
)
TENSORFLOW_OP = Rule(
    "MOD013",
    "tensorflow-unsafe-op",
    HOOK,
    Severity.HIGH,
    "TensorFlow SavedModel graph with operations that read or write files or call Python (ReadFile, WriteFile, PyFunc)",
    "remove the operation from the exported graph (do file I/O and Python in the serving code), re-export the SavedModel",
    owasp_ml="ML06",
    cwe=(829,),
)
HYDRA_TARGET = Rule(
    "MOD014",
    "hydra-target-dangerous",
    HOOK,
    Severity.CRITICAL,
    "model archive config (NeMo .nemo, Hydra YAML) whose _target_ names a dangerous callable (CVE-2025-23304)",
    "do not restore the model; re-export it from a trusted source with a config naming only model classes",
    owasp_ml="ML06",
    cwe=(470, 94),
)
ARCHIVE_CODE = Rule(
    "MOD015",
    "model-archive-code-call",
    HOOK,
    Severity.CRITICAL,
    "Python code inside a model archive (a TorchServe .mar handler) that starts processes, evaluates strings or installs packages",
    "do not serve the archive; rebuild it from handler code you have reviewed (torch-model-archiver)",
    owasp_ml="ML06",
    cwe=(829,),
)
EXPANSION_BOMB = Rule(
    "MOD016",
    "pickle-expansion-bomb",
    HOOK,
    Severity.HIGH,
    "pickle whose shared references (DUP, memo GET) unfold into a tree thousands of times its size (billion laughs)",
    "do not load the file; re-save the data from its source (a real model's objects do not repeat themselves a billion times)",
    owasp_ml="ML06",
    cwe=(409, 400),
)
UNSAFE_LOAD_CALL = Rule(
    "MOD017",
    "unsafe-load-call",
    HOOK,
    Severity.HIGH,
    "Python code loads a model or data file with a loader that can run code (torch.load without weights_only, pickle, joblib, "
    "numpy allow_pickle, Keras safe_mode=False...); severity by where the path comes from",
    "load weights with weights_only=True or from safetensors, arrays with allow_pickle=False, Keras with safe_mode=True; "
    "never unpickle a file someone else can swap",
    owasp_ml="ML06",
    cwe=(502,),
)
WEIGHTS_ONLY_BYPASS = Rule(
    "MOD018",
    "torch-weights-only-bypass",
    HOOK,
    Severity.HIGH,
    "torch.load(weights_only=True) on a torch version the repository pins below 2.6.0, where weights_only can be bypassed (CVE-2025-32434)",
    "require torch>=2.6.0; until then load weights from safetensors",
    owasp_ml="ML06",
    cwe=(502,),
)
