"""Hydra configs inside model archives: `_target_` names a callable the loader calls.

NeMo checkpoints (`.nemo`, a tar) and other Hydra-based model archives keep their
architecture as YAML (`model_config.yaml`); restoring the model reads it with
`OmegaConf.load` and passes it to `hydra.utils.instantiate`, which imports and calls
whatever each `_target_` names with the sibling keys as arguments (CVE-2025-23304:
`_target_: os.system` ran on restore); NeMo also imports the class a `target` key names. A
target that `callables.dangerous_reason` knows (processes, eval, imports, files, network,
...) is MOD014, at the byte offset of the target's value in the member. Model classes
(`nemo.collections...`, `torch.optim.Adam`) are what configs are for and are not reported.

The YAML is read the way OmegaConf reads it, composed and never constructed (no tag can
build an object): escapes in quoted keys and values (`"\\x5ftarget\\x5f"`), folded and
literal scalars, tags, anchors, aliases and merge keys (`<<: *base` copies a `_target_` into
another node; PyYAML 6.0.4 changed which of several merged mappings wins, so both orders are
judged). YAML 1.1 numbers and booleans interpolated into text become OmegaConf's text of them
(`omegaconf_scalars`). OmegaConf's `${...}` interpolations are then resolved the way OmegaConf
resolves them: absolute (`${model.cls}`, `${list.0}`, `${list[0]}`), relative to the node's
own container (`${.name}`, `${..name}`, which is why a merged-in target is judged in every
place it lands), nested (`${a.${b}}`, whose key path is joined and split again as OmegaConf does, so
`b: sub.run` or `b: .fn` works) and inside text (`os.${fn}`); `\\${` is a literal.
What cannot be known statically (resolvers such as `${oc.env:NAME}`, missing keys, cycles,
work past the caps) is a hole in the name: a target whose known parts are already dangerous
(`os.${oc.env:FN}`) is critical, one built by interpolation that cannot be resolved is high.

A member that is not YAML at all (or past the size cap) is read with a pattern over the text
(`_target_: name`, block or flow style, quoted or not), so that broken YAML still counts; a
target written as an interpolation there is high.

    is_config(name: str) -> bool
    scan(data: bytes, where) -> list[Finding]
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any, Final, NamedTuple

from mlgate.files import ScanError
from mlgate.findings import Finding, Severity
from mlgate.models.callables import dangerous_reason
from mlgate.models.omegaconf_scalars import interpolated_text
from mlgate.models.rules import HYDRA_TARGET
from mlgate.models.where import Where
from mlgate.yamlfile import compose_text, is_mapping, is_scalar, is_sequence

_SUFFIXES = (".yaml", ".yml")
MAX_SIZE = 4 << 20  # parsed as YAML; larger members get the pattern (linear) instead
MAX_TEXT = 4096  # characters of one resolved value; longer values become a hole
MAX_STEPS = 100_000  # interpolations resolved per member
MAX_PLACES = 200_000  # children of (node, container chain) pairs walked per member: alias bombs stop here
MAX_MERGED = 200_000  # key/value pairs merge keys copy per document and reading; past it a mapping keeps its own
MAX_NESTING = 160  # interpolations open at once (OmegaConf itself gives up after about 60 chained ones)
# the key, anchors and tags (`&a !!str`: where the value node starts), a quote, then the name or an interpolation
_TARGET = re.compile(rb"""(?:^|[\s{,])["']?_target_["']?\s*:\s*((?:[&!]\S*\s+)*)["']?([A-Za-z_][\w.]*(?:\$\{)?|\$\{)""", re.MULTILINE)
_CALL_ALIAS = ".__call__"  # `os.system.__call__` is os.system to instantiate
# Keys whose value the loader imports and calls: Hydra's, and NeMo's (`import_class_by_path`
# for `target`; Hydra < 1.1 accepted `cls` and `class`). The latter are ordinary words in
# other configs, so they count only for dotted names, which is all those loaders accept.
TARGET_KEYS = {
    "_target_": "hydra.utils.instantiate",
    "target": "NeMo's import_class_by_path",
    "cls": "hydra.utils.instantiate (Hydra < 1.1)",
    "class": "hydra.utils.instantiate (Hydra < 1.1)",
}
_HYDRA_KEY = "_target_"
_HOLE_NAME = "UNRESOLVED"  # what a hole reads as when the name is judged: no dangerous name is upper case
_KEY_END = set(".[]}:")
_PLACE_DEPENDENT = re.compile(r"\$\{\s*(?:\.|\$\{)")  # a relative key, or one a nested interpolation may make relative
_KEY_HEAD = re.compile(r"[^.[]*")
_KEY_OTHER = re.compile(r"\.([^.[]*)|\[(.*?)\]")
_BACKSLASHES = re.compile(r"\\+")
_LITERAL = re.compile(r"(?:[^\\$]|\$(?!\{))+")
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def is_config(name: str) -> bool:
    return name.lower().endswith(_SUFFIXES)


def scan(data: bytes, where: Where) -> list[Finding]:
    try:
        text, encoding, bom = _decode(data)
        documents = compose_text(text) if len(data) <= MAX_SIZE else None
    except (UnicodeDecodeError, ScanError):
        documents = None
    if documents is None:
        return _scan_pattern(data, where)
    judged: dict[tuple[str, str], _Judged] = {}
    # PyYAML 6.0.4 changed which merged mapping wins (see _Document.flattened): both are judged.
    merge_readings = (False, True) if "<<" in text else (False,)
    for document, last_merge_wins in ((document, reading) for document in documents for reading in merge_readings):
        for judgement in _Document(document, last_merge_wins).targets():
            known = judged.get((judgement.key, judgement.shown))
            if known is None or judgement.position < known.position:
                judged[(judgement.key, judgement.shown)] = judgement
    return [
        where.finding(HYDRA_TARGET, judgement.message, bom + len(text[: judgement.position].encode(encoding)), severity=judgement.severity)
        for judgement in sorted(judged.values(), key=lambda judgement: judgement.position)
    ]


def _decode(data: bytes) -> tuple[str, str, int]:
    """The text, its encoding and the length of its byte-order mark."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding), encoding, len(bom)
    return data.decode("utf-8"), "utf-8", 0


def _scan_pattern(data: bytes, where: Where) -> list[Finding]:
    """`_target_: name` by pattern, for members that are not YAML (or too large to parse). A
    name built by interpolation (`${...}`) cannot be resolved without the YAML: high, unless
    the part written before it is already dangerous."""
    found = []
    seen = set()
    for match in _TARGET.finditer(data):
        written = match.group(2).decode("ascii")
        at = match.start(1) if match.group(1) else match.start(2)  # as the YAML reading places it
        target = _without_call_alias(written.removesuffix("${"))
        reason = dangerous_reason(target) if target else None
        if target in seen or reason is None and not written.endswith("${"):
            continue
        seen.add(target)
        if reason is not None:
            found.append(where.finding(HYDRA_TARGET, _called(_HYDRA_KEY, target, reason), at))
        else:
            message = (
                f"Hydra {_HYDRA_KEY} {written}...}} is built by interpolation mlgate cannot resolve (the member was not read "
                f"as YAML): {TARGET_KEYS[_HYDRA_KEY]} imports and calls whatever it resolves to, which cannot be checked"
            )
            found.append(where.finding(HYDRA_TARGET, message, at, severity=Severity.HIGH))
    return found


def _without_call_alias(target: str) -> str:
    while target.endswith(_CALL_ALIAS):
        target = target[: -len(_CALL_ALIAS)]
    return target


def _called(key: str, target: str, reason: str) -> str:
    return f"Hydra {key} {target} is called when the model is restored ({TARGET_KEYS[key]}): {reason}"


class _Hole(NamedTuple):
    """A part of a value mlgate cannot know statically, and why."""

    why: str


class _Place(NamedTuple):
    """A mapping or sequence where it sits in the configuration OmegaConf builds: the same
    node reached through two aliases sits in two places (relative interpolations differ)."""

    node: Any  # a ruamel.yaml node
    parent: _Place | None
    key: int  # identifies (node, chain of containers)


class _Judged(NamedTuple):
    key: str
    shown: str
    position: int  # character index of the target's value in the text
    message: str
    severity: Severity | None


class _NotText(Enum):
    NOT_TEXT = "not text"


_NOT_TEXT: Final = _NotText.NOT_TEXT  # an interpolation that yields a mapping or a list, never a callable's name
Pieces = list  # of str and _Hole


class _Document:
    """One YAML document as OmegaConf sees it: merge keys applied, interpolations resolved."""

    def __init__(self, root, last_merge_wins: bool):
        self.root = root
        self.last_merge_wins = last_merge_wins
        self._entries: dict[int, dict[str, Any]] = {}  # ruamel.yaml nodes
        self._flat: dict[int, list[tuple[Any, Any]]] = {}
        self._merged = 0
        self._place_keys: dict[tuple[int, int], int] = {}
        self._resolved: dict[tuple[int, int], Pieces | _NotText] = {}
        self._resolving: set[tuple[int, int]] = set()
        self._open = 0  # interpolations being resolved, one inside the other
        self.steps = 0

    # -- the configuration's shape ------------------------------------------------------
    def entries(self, mapping) -> dict[str, Any]:
        """key -> value node, merge keys applied (the last of a key's pairs wins). Non-text keys are left out."""
        cached = self._entries.get(id(mapping))
        if cached is None:
            cached = self._entries[id(mapping)] = {key.value: value for key, value in self.flattened(mapping)}
        return cached

    def flattened(self, mapping) -> list[tuple[Any, Any]]:
        """The (key, value) nodes of a mapping as PyYAML's `flatten_mapping` leaves them: the
        merged pairs, then the mapping's own (which win). Merged mappings are flattened first,
        without recursion (a chain of thousands of merges), and a mapping merging itself sees
        nothing more."""
        stack = [mapping]
        opened: set[int] = set()
        while stack:
            node = stack[-1]
            if id(node) in self._flat:
                stack.pop()
                continue
            waiting = [
                source
                for sources in _merge_sources(node)
                for source in sources
                if id(source) not in self._flat and id(source) not in opened
            ]
            if waiting and id(node) not in opened:
                opened.add(id(node))
                stack += waiting
                continue
            stack.pop()
            self._flat[id(node)] = self._flatten(node)
        return self._flat[id(mapping)]

    def _flatten(self, mapping) -> list[tuple[Any, Any]]:
        """One mapping's pairs, its merged mappings already flattened. PyYAML <= 6.0.3: an
        earlier mapping of `<<: [*a, *b]` wins over a later one, a later `<<` key over an
        earlier one. PyYAML 6.0.4 (pyyaml#937, regression pyyaml#953): merged pairs are kept
        in order and deduplicated by the identity of the key's string, so the last merged
        value wins, except for one-character keys (CPython shares those strings: the first
        wins). Past MAX_MERGED pairs a mapping keeps only its own (lookups of the others
        become holes)."""
        own = [(key, value) for key, value in mapping.value if is_scalar(key) and not key.tag.endswith(":merge")]
        merged = []
        for sources in _merge_sources(mapping):
            for source in sources if self.last_merge_wins else reversed(sources):
                merged += self._flat.get(id(source), [])
        if self.last_merge_wins:
            merged = _first_of_each(merged, lambda key: key.value if len(key.value) <= 1 and key.value <= "\xff" else id(key))
        else:  # the last pair of a key node is the one that counts (keeps a doubling merge linear)
            merged = _first_of_each(merged[::-1], id)[::-1]
        self._merged += len(merged) + len(own)
        return own if self._merged > MAX_MERGED else merged + own

    def place(self, node, parent: _Place | None) -> _Place:
        identity = (id(node), parent.key if parent is not None else -1)
        key = self._place_keys.setdefault(identity, len(self._place_keys))
        return _Place(node, parent, key)

    # -- targets ------------------------------------------------------------------------
    def targets(self) -> list[_Judged]:
        """Every target key in every place of the configuration, judged there. Past the
        place budget (aliases can make places grow exponentially with the file), the targets
        not reached yet are judged once, in the first place a walk without aliases finds; so
        is every target of a document in which a node contains itself (its places are
        endless, and OmegaConf cannot load it: building it recurses forever)."""
        found: list[_Judged] = []
        judged: set[int] = set()
        complete = not self._cyclic() and self._walk(found, judged, lambda place: place.key, MAX_PLACES)
        if not complete:
            self._walk(found, judged, lambda place: id(place.node), None)
        return found

    def _cyclic(self) -> bool:
        """Whether a mapping or list contains itself (an alias inside its own anchor)."""
        finished: dict[int, bool] = {}  # False while the node's children are being walked
        stack = [(self.root, False)]
        while stack:
            node, done = stack.pop()
            if done:
                finished[id(node)] = True
                continue
            if id(node) in finished:
                if not finished[id(node)]:
                    return True  # reached again from inside itself
                continue
            finished[id(node)] = False
            stack.append((node, True))
            children = [part for pair in node.value for part in pair] if is_mapping(node) else node.value if is_sequence(node) else []
            stack += [(child, False) for child in children if is_mapping(child) or is_sequence(child)]
        return False

    def _walk(self, found: list[_Judged], judged: set[int], identity, budget: int | None) -> bool:
        """Judges the targets of every place whose `identity` is new; False when the budget ran out."""
        stack = [self.place(self.root, None)]
        seen: set[int] = set()
        work = 0
        while stack:
            place = stack.pop()
            if identity(place) in seen:
                continue
            seen.add(identity(place))
            node = place.node
            children: list[tuple[object, Any]] = list(enumerate(node.value)) if is_sequence(node) else []  # (key or index, node)
            if is_mapping(node):
                entries = self.entries(node)
                children = list(entries.items())
                # A key written twice: PyYAML keeps the last, OmegaConf refuses the file, and two
                # spellings YAML 1.1 types apart (`on:` is True, `'on':` text) are two keys: all walked.
                children += [
                    (key.value, value)
                    for key, value in node.value
                    if is_scalar(key) and not key.tag.endswith(":merge") and entries.get(key.value) is not value
                ]
            work += len(children) + 1
            if budget is not None and work > budget:
                return False
            for key, value in children:
                if isinstance(key, str) and key in TARGET_KEYS and is_scalar(value):
                    if id(value) in judged and (budget is None or not _PLACE_DEPENDENT.search(value.value)):
                        continue  # judged already, and an absolute value reads the same in every place
                    judged.add(id(value))
                    judgement = self.judge(key, value, place)
                    if judgement is not None:
                        found.append(judgement)
                elif is_mapping(value) or is_sequence(value):
                    stack.append(self.place(value, place))
        return True

    def judge(self, key: str, value, place: _Place | None) -> _Judged | None:
        resolved = self.resolve(value, place)
        if resolved is _NOT_TEXT:
            return None
        holes = [piece.why for piece in resolved if isinstance(piece, _Hole)]
        name = _without_call_alias("".join(_HOLE_NAME if isinstance(piece, _Hole) else piece for piece in resolved).strip())
        if not name or key != _HYDRA_KEY and "." not in name:
            return None
        reason = dangerous_reason(name)
        raw = value.value.strip()
        index = value.start_mark.index + (1 if value.style in ("'", '"') else 0)
        if not holes:
            if reason is None:
                return None
            shown = f"{raw!r} (resolves to {name})" if "${" in raw else name
            return _Judged(key, name, index, _called(key, shown, reason), None)
        if key != _HYDRA_KEY and reason is None:
            return None
        unknown = "; ".join(dict.fromkeys(holes))
        if reason is not None:
            message = f"Hydra {key} {raw!r} is built by interpolation ({unknown}); whatever it resolves to, {name} {reason}"
            return _Judged(key, raw, index, message, None)
        message = (
            f"Hydra {key} {raw!r} is built by interpolation mlgate cannot resolve ({unknown}): "
            f"{TARGET_KEYS[key]} imports and calls whatever it resolves to, which cannot be checked"
        )
        return _Judged(key, raw, index, message, Severity.HIGH)

    # -- interpolation ------------------------------------------------------------------
    def resolve(self, scalar, container: _Place | None) -> Pieces | _NotText:
        """The scalar's value with its interpolations resolved: pieces of text and holes, or
        _NOT_TEXT when the whole value is an interpolation of a mapping or a list."""
        text = scalar.value
        if "${" not in text:
            return [text]
        if len(text) > MAX_TEXT:
            return [_Hole("a value longer than mlgate resolves")]
        memo = (id(scalar), container.key if container is not None else -1)
        if memo in self._resolved:
            return self._resolved[memo]
        if memo in self._resolving:
            return [_Hole("an interpolation that refers to itself")]
        self._resolving.add(memo)
        try:
            result = self._resolve_text(text, container)
        finally:
            self._resolving.discard(memo)
        self._resolved[memo] = result
        return result

    def _resolve_text(self, text: str, container: _Place | None) -> Pieces | _NotText:
        pieces: Pieces = []
        at = 0
        whole = None
        while at < len(text):
            if text.startswith("${", at):
                start = at
                value, at = self._interpolation(text, at + 2, container)
                if start == 0 and at == len(text):
                    whole = value
                pieces += _as_text(value)
            elif text[at] == "\\":
                # Backslashes escape only before `${`: pairs make one, an odd one makes `${` text.
                backslashes = _BACKSLASHES.match(text, at)
                assert backslashes is not None  # text[at] is one
                run = backslashes.end() - at
                if text.startswith("${", at + run):
                    pieces.append("\\" * (run // 2) + ("${" if run % 2 else ""))
                    at += run + (2 if run % 2 else 0)
                else:
                    pieces.append(text[at : at + run])
                    at += run
            else:
                literal = _LITERAL.match(text, at)
                assert literal is not None  # text[at] starts neither `${` nor a backslash run
                end = literal.end()
                pieces.append(text[at:end])
                at = end
        if whole is _NOT_TEXT:
            return _NOT_TEXT
        return _bounded(pieces)

    def _interpolation(self, text: str, at: int, container: _Place | None) -> tuple[Pieces | _NotText, int]:
        """The value of the interpolation whose body starts at `at` (after `${`), and the
        index after its closing brace."""
        self.steps += 1
        if self.steps > MAX_STEPS:
            return [_Hole("too many interpolations")], _closing(text, at)
        if self._open >= MAX_NESTING:
            return [_Hole("interpolations nested deeper than mlgate follows")], _closing(text, at)
        self._open += 1
        try:
            # The key path as text: OmegaConf joins it (a nested interpolation's value too),
            # then splits it at dots and brackets, so `${${k}}` with `k: .fn` is relative.
            path: Pieces = []
            while text.startswith(".", at):
                path.append(".")
                at += 1
            relative = bool(path)
            while at < len(text):
                if text.startswith("${", at):
                    key, at = self._interpolation(text, at + 2, container)
                    path += _as_text(key)
                elif text[at] == "[":
                    at += 1
                    if text.startswith("${", at):
                        key, at = self._interpolation(text, at + 2, container)
                        key = _as_text(key)
                    else:
                        end = text.find("]", at)
                        end = len(text) if end == -1 else end
                        key = [text[at:end].strip()]
                        at = end
                    if not text.startswith("]", at):
                        return [_Hole("an interpolation OmegaConf cannot parse")], _closing(text, at)
                    path += ["[", *key, "]"]
                    at += 1
                else:
                    end = at
                    while end < len(text) and text[end] not in _KEY_END and not text.startswith("${", end):
                        end += 1
                    path.append(text[at:end].strip())
                    at = end
                if at >= len(text):
                    break
                if text[at] == ".":
                    path.append(".")
                    at += 1
                elif text[at] == "}":
                    return self._lookup(path, container), at + 1
                elif text[at] == ":" and not relative:
                    name = "".join(piece if isinstance(piece, str) else _HOLE_NAME for piece in path)
                    return [_Hole(f"resolver {name}")], _closing(text, at)
                elif text[at] != "[" and not text.startswith("${", at):
                    break
            return [_Hole("an interpolation OmegaConf cannot parse")], _closing(text, at)
        finally:
            self._open -= 1

    def _lookup(self, path: Pieces, container: _Place | None) -> Pieces | _NotText:
        """The value at a key path: from the root (no leading dot) or from the interpolation's
        own container (one dot, and one level up for each further dot)."""
        holes = [piece for piece in path if isinstance(piece, _Hole)]
        if holes:
            return holes
        key = "".join(path)
        dots = len(key) - len(key.lstrip("."))
        if dots:
            place = container
            for _ in range(dots - 1):
                place = place.parent if place is not None else None
            if place is None:
                return [_Hole("a relative interpolation above the root" if container is not None else "a relative interpolation")]
        else:
            place = self.place(self.root, None)
        node = place.node
        walked = []
        for name in _split_key(key[dots:]):
            walked.append(name)
            if node is not place.node:
                place = self.place(node, place)
            child = None
            if is_mapping(node):
                child = self.entries(node).get(name)
            elif is_sequence(node) and (index := _index(name, len(node.value))) is not None:
                child = node.value[index]
            if child is None:
                return [_Hole(f"missing key {'.'.join(walked)}")]
            node = child
        if not is_scalar(node):
            return _NOT_TEXT
        if node.tag.endswith(":null"):
            return ["None"]
        typed = None if node.style else interpolated_text(node.value)  # YAML 1.1 numbers and booleans
        return [typed] if typed is not None else self.resolve(node, place)


def _split_key(key: str) -> list[str]:
    """A key path (after its leading dots) split as OmegaConf's `split_key` splits it:
    `a.b[c].d` is a, b, c, d; `[a].b` is a, b; an empty path is the container itself."""
    if not key:
        return []
    head_match = _KEY_HEAD.match(key)
    assert head_match is not None  # the pattern matches the empty string
    head = head_match.end()
    parts = [] if head == 0 and key.startswith("[") else [key[:head]]
    return parts + [dotted or bracketed for dotted, bracketed in _KEY_OTHER.findall(key, head)]


def _index(name: str, length: int) -> int | None:
    """A list position as OmegaConf reads a key (`int()`: `01`, `+1`, `1_0`; none below 0)."""
    try:
        index = int(name)
    except ValueError:
        return None
    return index if 0 <= index < length else None


def _merge_sources(mapping) -> list[list]:
    """The mappings each of a mapping's `<<` keys merges in, in order."""
    return [
        [source for source in (value.value if is_sequence(value) else [value]) if is_mapping(source)]
        for key, value in mapping.value
        if is_scalar(key) and key.tag.endswith(":merge")
    ]


def _first_of_each(pairs: list[tuple[Any, Any]], identity) -> list[tuple[Any, Any]]:
    """The pairs whose key's `identity` was not seen in an earlier pair."""
    seen = set()
    kept = []
    for key, value in pairs:
        if identity(key) not in seen:
            seen.add(identity(key))
            kept.append((key, value))
    return kept


def _as_text(value: Pieces | _NotText) -> Pieces:
    """An interpolation inside text: a mapping or list becomes text no loader could import."""
    return [_Hole("a mapping or list inside text")] if value is _NOT_TEXT else value


def _bounded(pieces: Pieces) -> Pieces:
    """Adjacent texts joined, adjacent holes made one (a doubling interpolation stays one
    hole, not 2**n), and one hole for a value past the cap."""
    merged: Pieces = []
    size = 0
    for piece in pieces:
        if merged and type(merged[-1]) is type(piece):
            if isinstance(piece, str):
                merged[-1] += piece
                size += len(piece)
            continue
        merged.append(piece)
        size += len(piece) if isinstance(piece, str) else len(_HOLE_NAME)
        if size > MAX_TEXT:
            return [_Hole("a value longer than mlgate resolves")]
    return merged


def _closing(text: str, at: int) -> int:
    """The index after the brace that closes the interpolation open at `at`: nested
    interpolations, braces and quoted strings (resolver arguments) are skipped."""
    depth = 1
    quote = None
    while at < len(text):
        char = text[at]
        if quote:
            if char == "\\":
                at += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return at + 1
        at += 1
    return len(text)
