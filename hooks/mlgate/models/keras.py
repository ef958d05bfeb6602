"""Keras model configs (`config.json` of a `.keras` zip, `model_config` of an `.h5`, the
`keras_metadata.pb` of a Keras model saved as a TensorFlow SavedModel).

Loading a Keras model rebuilds every object the config names. Two things in it run code:
- serialized Python bytecode: a `Lambda` layer's function (Keras 2: `function_type:
  "lambda"` with a marshalled code list; Keras 3: a `__lambda__` object), or any other
  `__lambda__` object (an activation, a loss) -> MOD007;
- objects imported from a module outside Keras' own packages (`"module": "os"`), custom
  objects registered under a package of their own (`"registered_name": "pkg>Name"`),
  and Keras functions that download or re-enable unsafe loading -> MOD008.

Offsets point at the `{` of the JSON object concerned. The JSON is decoded by the
standard library's pure-Python decoder with a hook that records where each object
starts; only configs that mention one of the keys above are decoded at all.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import re

from mlgate.findings import Finding
from mlgate.models.formats import Malformed
from mlgate.models.rules import KERAS_CUSTOM_OBJECT, KERAS_LAMBDA
from mlgate.models.where import Where

KERAS_PACKAGES = frozenset({"keras", "tf_keras", "keras_hub", "keras_nlp", "keras_cv", "keras_rs", "tensorflow"})
# Keras' own functions that fetch files or turn the loader's safe mode off (CVE-2025-8747,
# CVE-2025-9906): named from an allowed module, they still do harm when called on load.
UNSAFE_KERAS_FUNCTIONS = frozenset({"get_file", "enable_unsafe_deserialization", "load_model", "load_weights", "set_value"})
_MENTIONS = re.compile(rb'"(?:Lambda|__lambda__|module|registered_name)"')
_CONFIG_START = re.compile(rb'\{\s*"class_name"\s*:')
_MAX_EMBEDDED = 64 << 20
SAVED_MODEL_METADATA = "keras_metadata.pb"


class _Object(dict):
    """A decoded JSON object that knows the character offset of its `{`."""

    start = 0


class _LocatingDecoder(json.JSONDecoder):
    def __init__(self) -> None:
        super().__init__(object_pairs_hook=_Object)

        def parse_object(state: tuple[str, int], *args) -> tuple[_Object, int]:
            found, after = json.decoder.JSONObject(state, *args)
            found.start = state[1] - 1  # state[1] is just past the "{"
            return found, after

        self.parse_object = parse_object
        self.scan_once = json.scanner.py_make_scanner(self)


def scan_config(data: bytes, where: Where) -> list[Finding]:
    """Findings for a whole config.json (a `.keras` member, a keras_hub preset folder);
    JSON that is not a serialized Keras object yields nothing."""
    if not _MENTIONS.search(data):
        return []
    try:
        text = data.decode("utf-8")
        config, _ = _LocatingDecoder().raw_decode(text.lstrip())
    except RecursionError:
        raise Malformed("Keras config nested too deeply to check") from None
    except (UnicodeDecodeError, ValueError):
        return []
    if not (isinstance(config, dict) and "class_name" in config and "config" in config):
        return []  # a JSON file, but not a serialized Keras object
    shift = len(text) - len(text.lstrip())
    return _findings(config, text, shift, where)


def is_saved_model_metadata(name: str) -> bool:
    """`keras_metadata.pb` of a Keras model saved as a TensorFlow SavedModel: its layers'
    configs as JSON strings, from which `keras.models.load_model` rebuilds Lambda layers."""
    return name.rsplit("/", 1)[-1] == SAVED_MODEL_METADATA


def scan_embedded(data, where: Where) -> tuple[list[Finding], bool]:
    """Model configs stored as JSON text somewhere in a binary (an HDF5 attribute):
    (findings, whether any config was found)."""
    found: list[Finding] = []
    seen = False
    resume = 0
    for match in _CONFIG_START.finditer(data):
        start = match.start()
        if start < resume:
            continue  # an object inside the config just decoded
        decoded = _decode_at(data, start)
        if decoded is None:
            continue
        config, text, length = decoded
        seen = seen or _is_model(config)
        resume = start + len(text[:length].encode("utf-8"))
        found += _findings(config, text, 0, where.at(start))
    return found, seen


def _decode_at(data, start: int) -> tuple[dict, str, int] | None:
    """The JSON object starting at `start`, reading a growing window (configs are stored
    contiguously, but their length is not known here)."""
    window = 1 << 20
    while True:
        chunk = bytes(data[start : start + window])
        text = chunk.decode("utf-8", "replace")
        try:
            config, length = _LocatingDecoder().raw_decode(text)
        except RecursionError:
            raise Malformed("Keras config nested too deeply to check", start) from None
        except ValueError:
            if len(chunk) < window or window >= _MAX_EMBEDDED:
                return None
            window *= 4
            continue
        return (config, text, length) if isinstance(config, dict) else None


def _is_model(config: dict) -> bool:
    return isinstance(config.get("config"), dict)


def _findings(config: object, text: str, shift: int, where: Where) -> list[Finding]:
    found: list[Finding] = []
    reported: set[str] = set()

    def at(node: _Object) -> int:
        index = node.start + shift
        return index if text.isascii() else len(text[:index].encode("utf-8"))

    def visit(node: object, layer: str | None) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item, layer)
            return
        if not isinstance(node, _Object):
            return
        kind = node.get("class_name")
        inner = node.get("config")
        if kind == "Lambda" and isinstance(inner, dict):
            layer = str(inner.get("name", "?"))
            if inner.get("function_type") == "lambda" or isinstance(inner.get("function"), list):
                message = f"Lambda layer {layer!r} carries serialized Python bytecode that runs when the model is loaded"
                found.append(where.finding(KERAS_LAMBDA, message, at(node)))
        elif kind == "__lambda__":
            owner = f"Lambda layer {layer!r}" if layer else "the model config"
            message = f"{owner} carries a serialized Python lambda (bytecode) that runs when the model is loaded"
            found.append(where.finding(KERAS_LAMBDA, message, at(node)))
        problem = _custom_object(node)
        if problem is not None and problem not in reported:
            reported.add(problem)
            found.append(where.finding(KERAS_CUSTOM_OBJECT, problem, at(node)))
        for value in node.values():
            visit(value, layer)

    visit(config, None)
    return found


def _custom_object(node: dict) -> str | None:
    """Why loading this serialized object imports or runs code outside Keras, or None."""
    module, name, registered = node.get("module"), node.get("class_name"), node.get("registered_name")
    if "class_name" not in node:
        return None  # a Keras 2 Lambda config's "module" is only a namespace for globals
    if isinstance(module, str) and module and module.split(".", 1)[0] not in KERAS_PACKAGES:
        return f"config loads {name!r} from module {module!r}, outside Keras: loading imports and runs it"
    if isinstance(registered, str) and ">" in registered and registered.split(">", 1)[0] not in KERAS_PACKAGES:
        return f"config needs the custom object {registered!r}: code from outside Keras runs when it is rebuilt"
    function = node.get("config") if name == "function" else None
    if isinstance(function, str) and function in UNSAFE_KERAS_FUNCTIONS:
        return f"config calls Keras' {module}.{function} while loading: it fetches files or turns safe mode off"
    return None

