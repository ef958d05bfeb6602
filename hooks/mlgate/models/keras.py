"""Keras model configs (`config.json` of a `.keras` zip, `model_config` of an `.h5`, the
`keras_metadata.pb` of a Keras model saved as a TensorFlow SavedModel).

Loading a Keras model rebuilds every object the config names. What in it runs code:
- a `Lambda` layer's function, output_shape or mask stored as code: Keras 2 marshalled
  bytecode (`function_type: "lambda"`, a [code, defaults, closure] list, which Keras 3's
  legacy loader also turns into a lambda), Keras 3 `__lambda__` objects wherever they are,
  or Python source text in place of a function's name -> MOD007;
- objects imported from a module outside Keras' own packages (`"module": "os"`), custom
  objects registered under a package of their own (`"registered_name": "pkg>Name"`),
  and Keras functions that download or re-enable unsafe loading -> MOD008.

Configs are decoded as Keras decodes them, with Python's json: bytes in UTF-8, UTF-16 or
UTF-32 with or without a BOM (json.loads' own detection), escapes in keys and values
(`"class_\\u006eame"`). Offsets point at the `{` of the JSON object concerned, in bytes of
the file. Configs inside binary files (HDF5 attributes, protobuf strings) are found by a
search whose work is linear in the file: a JSON text never contains a control byte, so each
run of bytes between control bytes is searched once, every `{"` in it decoded by the C
decoder, a decoded object skipped whole, and the total work bounded (past it: MOD004).
"""

from __future__ import annotations

import codecs
import json
import json.decoder
import json.scanner
import re

from mlgate.findings import Finding, Rule
from mlgate.models.formats import Malformed
from mlgate.models.rules import KERAS_CUSTOM_OBJECT, KERAS_LAMBDA
from mlgate.models.where import Where

KERAS_PACKAGES = frozenset({"keras", "tf_keras", "keras_hub", "keras_nlp", "keras_cv", "keras_rs", "tensorflow"})
# Keras' own functions that fetch files or turn the loader's safe mode off (CVE-2025-8747,
# CVE-2025-9906): named from an allowed module, they still do harm when called on load.
UNSAFE_KERAS_FUNCTIONS = frozenset({"get_file", "enable_unsafe_deserialization", "load_model", "load_weights", "set_value"})
SAVED_MODEL_METADATA = "keras_metadata.pb"
# A Lambda layer's callables: (config key, Keras 2 key of its kind); Keras 2 unmarshals each "lambda".
_LAMBDA_PARTS = (("function", "function_type"), ("output_shape", "output_shape_type"), ("mask", "mask_type"))
_DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_OBJECT_START = re.compile(r'\{[ \t\n\r]*"')  # an object with a key: an empty one holds nothing
_CANDIDATE = re.compile(rb'\{[ \t\n\r]*"')
_CONTROL_BYTE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # in no JSON text, not even inside strings
MAX_RUN = 64 << 20  # bytes of one run of text searched for configs
WORK_PER_BYTE = 16  # characters decoded per byte of text searched, at most (past it: MOD004)
WORK_FREE = 1 << 20
_CANDIDATE_COST = 64  # characters' worth of work a decoding attempt costs however soon it fails
_FIRST_WINDOW = 1024
_LONGEST_TOKEN = 16  # a literal, number or escape cut by a window's end fails this close to it
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DECODER = json.JSONDecoder()


class _Object(dict):
    """A decoded JSON object that knows the character offset of its `{`."""

    start = 0


class _LocatingDecoder(json.JSONDecoder):
    """The pure-Python decoder (same grammar as the C one), recording where objects start."""

    def __init__(self) -> None:
        super().__init__(object_pairs_hook=_Object)

        def parse_object(state: tuple[str, int], *args) -> tuple[_Object, int]:
            # json's pure-Python object parser: present at runtime, absent from typeshed
            found, after = json.decoder.JSONObject(state, *args)  # type: ignore[attr-defined]
            found.start = state[1] - 1  # state[1] is just past the "{"
            return found, after

        self.parse_object = parse_object
        self.scan_once = json.scanner.py_make_scanner(self)  # type: ignore[attr-defined]  # as above


class _Text:
    """Decoded text and how its character offsets map to bytes of the file."""

    def __init__(self, text: str, codec: str, base: int, errors: str):
        self.text, self.codec, self.base, self.errors = text, codec, base, errors

    def byte_offsets(self, indices: list[int]) -> dict[int, int]:
        """Byte offsets of character offsets, in one pass over the text."""
        found: dict[int, int] = {}
        total, previous = self.base, 0
        for index in sorted(set(indices)):
            total += len(self.text[previous:index].encode(self.codec, self.errors))
            found[index], previous = total, index
        return found


def scan_config(data: bytes, where: Where) -> list[Finding]:
    """Findings for a whole config.json (a `.keras` member, a keras_hub preset folder);
    JSON that is not a serialized Keras object yields nothing."""
    text = _json_text(data)
    if text is None:
        return []
    try:
        config = json.loads(text.text)
    except RecursionError:
        raise Malformed("Keras config nested too deeply to check") from None
    except ValueError:
        return []
    if not (isinstance(config, dict) and "class_name" in config and "config" in config):
        return []  # a JSON file, but not a serialized Keras object
    if not _findings(config, where, None):
        return []  # the common case: decoded once, by the C decoder
    start = len(text.text) - len(text.text.lstrip(" \t\n\r"))
    return _findings(_located(text.text, start), where, text)


def _json_text(data: bytes) -> _Text | None:
    """The text json.loads(data) reads: its encoding detected from the first bytes, a BOM skipped."""
    encoding: str = json.detect_encoding(data)
    base = 0
    if encoding in ("utf-8-sig", "utf-16", "utf-32"):
        base, encoding = next((len(bom), name) for bom, name in _BOMS if data.startswith(bom))
    try:
        return _Text(data[base:].decode(encoding, "surrogatepass"), encoding, base, "surrogatepass")
    except UnicodeDecodeError:
        return None


def is_saved_model_metadata(name: str) -> bool:
    """`keras_metadata.pb` of a Keras model saved as a TensorFlow SavedModel: its layers'
    configs as JSON strings, from which `keras.models.load_model` rebuilds Lambda layers."""
    return name.rsplit("/", 1)[-1] == SAVED_MODEL_METADATA


def scan_embedded(data, where: Where) -> tuple[list[Finding], bool]:
    """Model configs stored as JSON text somewhere in a binary (an HDF5 attribute):
    (findings, whether any model config was found)."""
    search = _Search(where)
    position = 0
    while (match := _CANDIDATE.search(data, position)) is not None:
        stop = _CONTROL_BYTE.search(data, match.start())
        end = stop.start() if stop is not None else len(data)
        if end - match.start() > MAX_RUN:
            raise Malformed(
                f"{end - match.start()} bytes of text with no control byte: too long to search for a model config", match.start()
            )
        # h5py hands Keras such strings decoded with surrogate escapes: undecodable bytes are kept
        search.run(_Text(bytes(data[match.start() : end]).decode("utf-8", "surrogateescape"), "utf-8", match.start(), "surrogateescape"))
        position = end
    return search.found, search.seen


class _Search:
    """The configs of one binary: objects already decoded are not decoded again."""

    def __init__(self, where: Where):
        self.where = where
        self.found: list[Finding] = []
        self.seen = False
        self.work = 0
        self.searched = 0

    def run(self, text: _Text) -> None:
        self.searched += len(text.text)
        resume = 0
        for candidate in _OBJECT_START.finditer(text.text):
            start = candidate.start()
            if start < resume:
                continue  # inside an object decoded whole
            decoded = self._decode_at(text.text, start, text.base + start)
            if decoded is None:
                continue
            config, resume = decoded
            if not isinstance(config, dict):
                continue
            self.seen = self.seen or isinstance(config.get("config"), dict)
            if _findings(config, self.where, None):
                self.found += _findings(_located(text.text, start), self.where, text)

    def _decode_at(self, text: str, start: int, offset: int) -> tuple[object, int] | None:
        """The JSON value at `start` and where it ends, or None. Decoded from a window that grows
        only while the value runs past it: json's errors count the lines before their position,
        which on the whole text would cost as much as the text for every failed candidate."""
        window = _FIRST_WINDOW
        while True:
            chunk = text[start : start + window]
            try:
                value, end = _DECODER.raw_decode(chunk)
            except json.JSONDecodeError as error:
                cut = start + len(chunk) < len(text) and (
                    error.pos >= len(chunk) - _LONGEST_TOKEN or error.msg.startswith("Unterminated string")
                )
                self._spend(len(chunk) if cut else error.pos, offset)
                if not cut:
                    return None
                window *= 4
                continue
            except RecursionError:
                raise Malformed("Keras config nested too deeply to check", offset) from None
            self._spend(end, offset)
            return value, start + end

    def _spend(self, characters: int, offset: int) -> None:
        self.work += characters + _CANDIDATE_COST
        if self.work > WORK_PER_BYTE * self.searched + WORK_FREE:
            raise Malformed(
                "searching for model configs in this file costs more than it should (JSON fragments overlapping one another)", offset
            )


def _located(text: str, start: int) -> object:
    """The object at `start` again, by the decoder that records where each object starts."""
    try:
        return _LocatingDecoder().raw_decode(text, start)[0]
    except RecursionError:
        raise Malformed("Keras config nested too deeply to check") from None


def _findings(config: object, where: Where, text: _Text | None) -> list[Finding]:
    """Findings of a decoded config; offsets only when decoded by _LocatingDecoder from `text`."""
    found: list[tuple[Rule, str, object]] = []  # (rule, message, node)
    reported: set[str] = set()

    def visit(node: object, layer: str | None) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item, layer)
            return
        if not isinstance(node, dict):
            return
        kind, inner = node.get("class_name"), node.get("config")
        if kind == "Lambda" and isinstance(inner, dict):
            layer = str(inner.get("name", "?"))
            problem = _lambda_code(inner, layer)
            if problem is not None:
                found.append((KERAS_LAMBDA, problem, node))
        elif kind == "__lambda__":
            owner = f"Lambda layer {layer!r}" if layer else "the model config"
            found.append((KERAS_LAMBDA, f"{owner} carries a serialized Python lambda (bytecode) that runs when the model is loaded", node))
        problem = _custom_object(node)
        if problem is not None and problem not in reported:
            reported.add(problem)
            found.append((KERAS_CUSTOM_OBJECT, problem, node))
        for value in node.values():
            visit(value, layer)

    visit(config, None)
    starts = [getattr(node, "start", 0) for _, _, node in found]
    offsets = text.byte_offsets(starts) if text is not None else dict.fromkeys(starts, 0)
    return [where.finding(rule, message, offsets[getattr(node, "start", 0)]) for rule, message, node in found]


def _lambda_code(config: dict, layer: str) -> str | None:
    """Why a Lambda layer's config carries code that runs on load, or None (a named function)."""
    for key, kind_key in _LAMBDA_PARTS:
        value, kind = config.get(key), config.get(kind_key)
        part = "" if key == "function" else f" as its {key}"
        if kind == "lambda" or key == "function" and isinstance(value, list):
            return f"Lambda layer {layer!r} carries serialized Python bytecode{part} that runs when the model is loaded"
        if key == "function" and isinstance(value, str) and _DOTTED_NAME.fullmatch(value) is None:
            return f"Lambda layer {layer!r} carries Python source text in place of a function name: code for whatever compiles it on load"
    return None


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
