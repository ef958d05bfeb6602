"""Jinja templates judged the way Jinja reads them (MOD009, CVE-2024-34359).

Inference servers render a model's chat template with Jinja; rendered outside a sandbox,
a template that walks from any object to `__class__`, `__globals__` or a function's
module runs whatever it likes. The template is *parsed* with Jinja's own parser (never
compiled, never rendered) and its syntax tree judged:

- every attribute access, subscript, `|attr`, and attribute argument of a filter
  (`map(attribute=)`, `selectattr`, `sort`, `groupby`, ...), and every field of a
  `str.format` string, whose name is private or internal (`_x`, `__class__`, `mro`,
  `gi_frame`, `func_globals`, ...) or *computed*: built by the template in a way that does
  not fold to a constant. Names are folded first (`jinja_values`): `'__cla' ~ 'ss__'`,
  `'%c'|format(95)`, `['_', '_']|join`, `'ssalc'|reverse`, slicing, `{% set %}` variables,
  loop variables over constant lists, macro arguments and `{% call %}` bodies all
  resolve to the name they spell. A name from the render context (`param[json_key]`,
  `messages[loop.index0]`) is data, not the author's choice, and is not reported.
- lookups on Jinja's globals themselves (`cycler.__init__`, `lipsum.x`, `namespace.y`;
  `namespace(...)` as the loop-state idiom is fine), and calls to `popen`, `system`,
  `eval`, `exec`, `import_module`, `getattr` and kin.
- in a chat template (`chat=True`, a place servers render as one): also lookups on the
  web-framework globals of published template-injection payloads (`config`, `request`,
  `url_for`, `get_flashed_messages`, `self`), module names followed by more lookups
  (`x.os.popen`), and `{% include %}`/`{% import %}`/`{% extends %}` of templates the scan
  cannot see (high). A chat template Jinja cannot parse is refused by every server, so it
  is not reported, unless its tokens name Python internals (high: a payload, broken or not).

Offsets are characters of the template, at the token that spells the construct: the
parser's lexer stamps every token with its offset where Jinja keeps a line number, so
each node of the tree knows where it was written.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from jinja2 import Environment, TemplateSyntaxError, nodes
from jinja2.ext import Extension, do, loopcontrols
from jinja2.lexer import Lexer, TokenStream

from mlgate.findings import Severity
from mlgate.models import jinja_values as values
from mlgate.models.jinja_values import DATA, NOTHING, OPAQUE, UNDEFINED, Budget, FrozenDict, Special, TooComplex, Value, of, text_of, union
from mlgate.models.template_files import TEMPLATE_WORK

MAX_TEMPLATE = 256 << 10  # characters; the largest published chat templates are ~20k
_MAX_ROUNDS = 40
# Rounds of the fixpoint in which one variable changed before it is taken as computed. Counted
# per round, not per assignment: a macro called with seven constant arguments gains seven values
# in one round and is still those seven; a string that grows in a loop changes every round.
_WIDEN_AFTER = 3

INTERNAL_NAMES = frozenset(
    {
        "mro",
        "func_globals",
        "func_code",
        "func_closure",
        "func_defaults",
        "func_dict",
        "gi_frame",
        "gi_code",
        "gi_yieldfrom",
        "cr_frame",
        "cr_code",
        "cr_await",
        "cr_origin",
        "ag_frame",
        "ag_code",
        "ag_await",
        "f_back",
        "f_globals",
        "f_locals",
        "f_builtins",
        "f_code",
        "tb_frame",
        "tb_next",
        "im_func",
        "im_self",
        "im_class",
        "co_code",
        "co_consts",
    }
)
CALLED_NAMES = frozenset(
    {
        "popen",
        "system",
        "eval",
        "exec",
        "execfile",
        "compile",
        "import_module",
        "getattr",
        "setattr",
        "delattr",
        "globals",
        "locals",
        "vars",
        "open",
        "check_output",
        "check_call",
        "getoutput",
        "getstatusoutput",
        "spawnl",
        "spawnlp",
        "spawnv",
        "spawnvp",
        "execl",
        "execlp",
        "execv",
        "execve",
        "execvp",
        "load_module",
        "exec_module",
        "subprocess",
        "builtins",
        "subclasses",
        "breakpoint",
    }
)
MODULE_NAMES = frozenset({"os", "sys", "subprocess", "builtins", "importlib", "posix", "nt", "pty", "ctypes", "shutil", "socket"})
JINJA_GLOBALS = frozenset({"range", "dict", "lipsum", "cycler", "joiner", "namespace"})
SERVER_GLOBALS = frozenset({"config", "request", "url_for", "get_flashed_messages"})
# Filters that look items up by an attribute path: the position of that argument (or `attribute=`).
ATTRIBUTE_ARGUMENT = {
    "sort": 2,
    "groupby": 0,
    "selectattr": 0,
    "rejectattr": 0,
    "sum": 0,
    "unique": 1,
    "min": 1,
    "max": 1,
    "join": 1,
    "map": None,
}
_LOOP_BOOLEANS = frozenset({"first", "last"})
_LOOP_METHODS = frozenset({"cycle", "changed"})
_NEWLINE = re.compile(r"\r\n|\r|\n")
INTERNALS = "uses Jinja constructs that reach Python internals"


class _GenerationTag(Extension):
    """transformers' `{% generation %}...{% endgeneration %}` (AssistantTracker): parsed as its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.Scope(body, lineno=lineno)


class _OffsetLexer(Lexer):
    """Jinja's lexer, each token carrying its character offset in the template where Jinja
    puts the line number (the parser copies it into the nodes it builds; nothing else reads it)."""

    def tokenize(self, source: str, name=None, filename=None, state=None) -> TokenStream:
        return TokenStream(self.wrap(self.offset_tokens(source, state), name, filename), name, filename)

    def offset_tokens(self, source: str, state=None):
        """tokeniter's raw (offset, type, text) tokens, up to the first error (which is raised)."""
        # tokeniter reads the text with \r\n made \n: offsets are mapped back to the original.
        crlf = [match.start() - count for count, match in enumerate(re.finditer("\r\n", source))]
        normalized = _NEWLINE.sub("\n", source)
        cursor = 0
        for _, kind, raw in self.tokeniter(source, None, None, state):
            at = normalized.find(raw, cursor)
            at = cursor if at < 0 else at
            cursor = at + len(raw)
            yield at + bisect.bisect_right(crlf, at - 1), kind, raw


class _ParseEnvironment(Environment):
    @property
    def lexer(self) -> _OffsetLexer:
        if "_offset_lexer" not in self.__dict__:
            self.__dict__["_offset_lexer"] = _OffsetLexer(self)
        return self.__dict__["_offset_lexer"]


# Parsing only: the union of what the servers that render chat templates enable
# (transformers: loopcontrols + generation; others: do), so every template they accept parses.
ENVIRONMENT = _ParseEnvironment(extensions=[loopcontrols, do, _GenerationTag])


@dataclass(frozen=True)
class Construct:
    offset: int  # character of the template
    label: str
    severity: Severity


@dataclass(frozen=True)
class Verdict:
    summary: str
    constructs: tuple[Construct, ...]


def parse(template: str) -> nodes.Template:
    return ENVIRONMENT.parse(template)


def judge(template: str, *, chat: bool, budget: Budget | None = None) -> Verdict | None:
    """What in `template` reaches Python internals, or None."""
    if len(template) > MAX_TEMPLATE:
        if not chat:
            return None
        return Verdict("is too large to judge", (Construct(0, f"{len(template)} characters, over {MAX_TEMPLATE}", Severity.HIGH),))
    try:
        tree = parse(template)
    except Exception as error:  # whatever Jinja raises on hostile input (a 5000-digit literal is a ValueError), servers fail alike
        return _unparseable(template, error) if chat else None
    try:
        found = _Analysis(template, tree, chat, budget or Budget(TEMPLATE_WORK)).constructs()
    except (TooComplex, RecursionError):
        return Verdict("is too complex to judge", (Construct(0, "over the folding limit", Severity.HIGH),))
    if not found:
        return None
    constructs = tuple(sorted(found, key=lambda construct: construct.offset))
    if any(construct.severity is Severity.CRITICAL for construct in constructs):
        return Verdict(INTERNALS, constructs)
    return Verdict("loads other templates, which the scan cannot see", constructs)


def _unparseable(template: str, error: Exception) -> Verdict | None:
    """A chat template Jinja refuses: no server renders it, but internals named in its
    tokens (up to the error) are still a payload."""
    found = []
    previous = None
    try:
        for offset, kind, raw in ENVIRONMENT.lexer.offset_tokens(template):
            if kind == "string" or kind == "name" and previous == ".":
                value = _decoded(raw) if kind == "string" else raw
                label = judge_name(value, chained=False, called=False, chat=True) if value is not None else None
                if label is not None:
                    found.append(Construct(offset, label, Severity.HIGH))
            previous = raw if kind == "operator" else previous if kind == "whitespace" else None
    except Exception:  # tokens up to the error, whatever it is
        pass
    if not found:
        return None
    reason = error.message if isinstance(error, TemplateSyntaxError) and error.message else type(error).__name__
    return Verdict(f"does not parse as Jinja ({reason}), so servers refuse it, but names Python internals", tuple(found))


def judge_name(name: str, *, chained: bool, called: bool, chat: bool) -> str | None:
    """A label when looking up `name` reaches interpreter internals."""
    if name.startswith("_") or name in INTERNAL_NAMES:
        return name
    if called and name in CALLED_NAMES:
        return f"{name}()"
    if chat and chained and name in MODULE_NAMES:
        return name
    return None


def _judge_within(template: str, chat: bool, units: int) -> tuple[Verdict | None, int]:
    """`judge` within `units` of work, and the work it took."""
    budget = Budget(units)
    verdict = judge(template, chat=chat, budget=budget)
    return verdict, units - max(budget.left, 0)


# lm-eval's task files repeat the same `doc_to_text` template in thousands of files: a short
# template's verdict (immutable) is kept for the run, for 4096 texts at most.
_REMEMBERED_TEMPLATE = 8 << 10  # characters: what the cache can hold stays a few tens of MB
_judged = functools.lru_cache(maxsize=4096)(_judge_within)


def judged_within(template: str, chat: bool, units: int) -> tuple[Verdict | None, int]:
    """`judge` within `units` of work, and the work it took; a short template's verdict is remembered."""
    return _judged(template, chat, units) if len(template) <= _REMEMBERED_TEMPLATE else _judge_within(template, chat, units)


def _decoded(raw: str) -> str | None:
    """A string token's value as Jinja's lexer decodes it."""
    try:
        return next(ENVIRONMENT.lexer.wrap(iter([(0, "string", raw)]))).value
    except Exception:  # a string Jinja cannot decode
        return None


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _offset_of(expression: nodes.Node) -> int:
    """Where an expression is best pointed at: its first constant or name (the key in `x['k']`)."""
    for leaf in expression.find_all((nodes.Const, nodes.Name)):
        return leaf.lineno
    return expression.lineno


# The node types `_Analysis.bind` reads (assignments, loops, macros, imports, calls); it ignores the rest.
_BINDERS = (
    nodes.Assign, nodes.AssignBlock, nodes.For, nodes.With, nodes.Macro, nodes.CallBlock, nodes.Import, nodes.FromImport, nodes.Call,
)  # fmt: skip


class _Analysis:
    """Flow-insensitive folding of one template: every variable holds the union of what is
    ever assigned to it (so a branch or a loop cannot hide a value), solved to a fixpoint,
    then the lookups judged."""

    def __init__(self, template: str, tree: nodes.Template, chat: bool, budget: Budget):
        self.template = template
        self.chat = chat
        self.budget = budget
        self.nodes = list(tree.find_all(nodes.Node))
        self.by_id = {id(node): node for node in self.nodes}
        # the nodes `bind` reads, in template order: each round of the fixpoint visits only these
        self.binders = [node for node in self.nodes if isinstance(node, _BINDERS)]
        self.assigned = {node.name for node in self.nodes if isinstance(node, nodes.Name) and node.ctx in ("store", "param")}
        self.assigned |= {node.name for node in self.nodes if isinstance(node, nodes.Macro)}
        self.assigned |= {node.target for node in self.nodes if isinstance(node, nodes.Import)}
        self.assigned |= {
            name if isinstance(name, str) else name[1] for node in self.nodes if isinstance(node, nodes.FromImport) for name in node.names
        }
        self.call_blocks = [node for node in self.nodes if isinstance(node, nodes.CallBlock)]
        self.recursive_loops = [node for node in self.nodes if isinstance(node, nodes.For) and node.recursive]
        self.env: dict[tuple, Value] = {}
        self.namespaces: dict[int, set[str]] = {}  # namespace -> its attributes in env
        self.changes: dict[tuple, int] = {}  # rounds in which the variable changed
        self.changed_in: dict[tuple, int] = {}  # the last of those rounds
        self.round = 0
        self.memo: dict[object, Value] = {}
        self.rendering: set[int] = set()
        self.changed = False

    # -- solving ---------------------------------------------------------------------------
    def constructs(self) -> list[Construct]:
        for self.round in range(_MAX_ROUNDS):
            self.memo.clear()
            self.changed = False
            for node in self.binders:
                self.bind(node)
            if not self.changed:
                break
        else:
            raise TooComplex
        return self.judge_all()

    def update(self, key: tuple, value: Value) -> None:
        old = self.env.get(key, NOTHING)
        new = union(old, value)
        if self.changes.get(key, 0) >= _WIDEN_AFTER:
            # a counter stays a number; a string built up in a loop is computed
            widened = DATA if all(values.is_numeric(atom) for atom in new) else OPAQUE
            new = frozenset(atom for atom in new if isinstance(atom, values.Marker)) | of(widened)
        if new != old:
            if key[0] == "ns":
                self.namespaces.setdefault(key[1], set()).add(key[2])
            self.env[key] = new
            if self.changed_in.get(key) != self.round:
                self.changed_in[key] = self.round
                self.changes[key] = self.changes.get(key, 0) + 1
            self.changed = True

    def bind(self, node: nodes.Node) -> None:
        if isinstance(node, nodes.Assign):
            self.bind_target(node.target, self.value(node.node))
        elif isinstance(node, nodes.AssignBlock):
            rendered = self.render(node.body)
            self.bind_target(node.target, self.filter_chain(node.filter, rendered) if node.filter else rendered)
        elif isinstance(node, nodes.For):
            items = values.elements(self.value(node.iter), self.budget)
            self.bind_target(node.target, items)
            self.update(("loop-items",), items)
        elif isinstance(node, nodes.With):
            for target, expression in zip(node.targets, node.values, strict=False):
                self.bind_target(target, self.value(expression))
        elif isinstance(node, nodes.Macro):
            self.update(("var", node.name), of(Special("macro", id(node))))
            self.bind_defaults(node.args, node.defaults)
        elif isinstance(node, nodes.CallBlock):
            self.bind_defaults(node.args, node.defaults)
        elif isinstance(node, nodes.Import):
            self.update(("var", node.target), of(OPAQUE))
        elif isinstance(node, nodes.FromImport):
            for name in node.names:
                self.update(("var", name if isinstance(name, str) else name[1]), of(OPAQUE))
        elif isinstance(node, nodes.Call):
            self.bind_call(node)

    def bind_defaults(self, parameters: list[nodes.Name], defaults: list[nodes.Expr]) -> None:
        for parameter, default in zip(parameters[len(parameters) - len(defaults) :], defaults, strict=False):
            self.update(("var", parameter.name), self.value(default))

    def bind_target(self, target: nodes.Node, value: Value) -> None:
        if isinstance(target, nodes.Name):
            self.update(("var", target.name), value)
        elif isinstance(target, nodes.NSRef):
            for atom in self.name_value(target.name):
                if isinstance(atom, Special) and atom.kind == "namespace":
                    self.update(("ns", atom.payload, target.attr), value)
        elif isinstance(target, nodes.Tuple | nodes.List):
            for position, item in enumerate(target.items):
                self.bind_target(item, self.unpacked(value, position, len(target.items)))

    def unpacked(self, value: Value, position: int, size: int) -> Value:
        found = set()
        for atom in value:
            if isinstance(atom, Special) and atom.kind == "iterator":
                atom = atom.payload
            if isinstance(atom, tuple | str) and not isinstance(atom, FrozenDict) and len(atom) == size:
                found.add(atom[position])
            elif atom is DATA or atom is OPAQUE:
                found.add(atom)
            elif not isinstance(atom, tuple | str) and atom is not UNDEFINED:
                found.add(OPAQUE)
        return union(frozenset(found))

    def bind_call(self, node: nodes.Call) -> None:
        """What a call assigns: macro and `caller()` parameters, a namespace's or cycler's
        initial values, a recursive loop's items, a container changed in place."""
        arguments = [self.value(argument) for argument in node.args]
        keywords = {keyword.key: self.value(keyword.value) for keyword in _keywords(node)}
        extra = [self.value(node.dyn_args)] if node.dyn_args else []
        extra += [self.value(node.dyn_kwargs)] if node.dyn_kwargs else []
        for atom in self.value(node.node):
            if not isinstance(atom, Special):
                continue
            if atom.kind == "macro":
                self.bind_arguments(cast(nodes.Macro, self.by_id[atom.payload]).args, arguments, keywords, extra)
            elif atom.kind == "caller":
                for block in self.call_blocks:
                    self.bind_arguments(block.args, arguments, keywords, extra)
            elif atom.kind == "loop":
                for loop in self.recursive_loops:
                    for argument in arguments:
                        self.bind_target(loop.target, values.elements(argument, self.budget))
            elif atom == Special("global", "namespace"):
                for name, value in keywords.items():
                    self.update(("ns", id(node), name), value)
                for value in arguments + extra:
                    self.bind_namespace_mapping(id(node), value)
            elif atom in (Special("global", "cycler"), Special("global", "joiner")):
                self.update((atom.payload, id(node)), union(*arguments, *extra) if arguments or extra else of(", "))
        if isinstance(node.node, nodes.Getattr) and node.node.attr in values.MUTATING_METHODS:
            added = [atom for value in arguments + list(keywords.values()) + extra for atom in value]
            marker = DATA if all(atom is DATA or type(atom) is int for atom in added) else OPAQUE
            for key in self.containers(node.node.node):
                self.update(key, of(marker))

    def bind_arguments(self, parameters: list[nodes.Name], arguments: list[Value], keywords: dict[str, Value], extra: list[Value]) -> None:
        names = [parameter.name for parameter in parameters]
        for name, value in zip(names, arguments, strict=False):  # more arguments than names: bound below
            self.update(("var", name), value)
        if len(arguments) > len(names) or extra:
            self.update(("var", "varargs"), of(OPAQUE))
        for name, value in keywords.items():
            self.update(("var", name if name in names else "kwargs"), value if name in names else of(OPAQUE))
        for name in names if extra else []:
            self.update(("var", name), of(OPAQUE))

    def bind_namespace_mapping(self, namespace: int, value: Value) -> None:
        for atom in value:
            if isinstance(atom, FrozenDict):
                for key, item in atom:
                    self.update(("ns", namespace, key) if isinstance(key, str) else ("ns", namespace, "*"), of(item))
            else:
                self.update(("ns", namespace, "*"), of(DATA if atom is DATA else OPAQUE))

    def containers(self, expression: nodes.Node) -> list[tuple]:
        """The variables (or namespace attributes) a change to `expression` lands in."""
        if isinstance(expression, nodes.Name):
            return [("var", expression.name)]
        if isinstance(expression, nodes.Getattr) and isinstance(expression.node, nodes.Name):
            namespaces = [atom for atom in self.name_value(expression.node.name) if isinstance(atom, Special) and atom.kind == "namespace"]
            if namespaces:
                return [("ns", atom.payload, expression.attr) for atom in namespaces]
        if isinstance(expression, nodes.Getattr | nodes.Getitem | nodes.Filter) and expression.node is not None:
            return self.containers(expression.node)
        return []

    # -- values ----------------------------------------------------------------------------
    def value(self, node: nodes.Node) -> Value:
        key = id(node)
        if key not in self.memo:
            self.budget.spend()
            self.memo[key] = self.evaluate(node)
        return self.memo[key]

    def evaluate(self, node: nodes.Node) -> Value:  # noqa: C901 -- one flat dispatch over Jinja's expression node types
        budget = self.budget
        if isinstance(node, nodes.Const):
            return values.constant(node.value)
        if isinstance(node, nodes.TemplateData):
            return values.constant(node.data)
        if isinstance(node, nodes.Name):
            return self.name_value(node.name)
        if isinstance(node, nodes.Tuple | nodes.List):
            kind = tuple if isinstance(node, nodes.Tuple) else list
            return values.apply(lambda *items: kind(items), [self.value(item) for item in node.items], budget)
        if isinstance(node, nodes.Dict):
            operands = [self.value(part) for pair in node.items for part in (pair.key, pair.value)]
            return values.apply(lambda *parts: dict(zip(parts[::2], parts[1::2], strict=False)), operands, budget)
        if isinstance(node, nodes.Getattr):
            return self.lookup(self.value(node.node), of(node.attr), attribute_first=True)
        if isinstance(node, nodes.Getitem):
            if isinstance(node.arg, nodes.Slice):
                bounds = [self.value(part) if part is not None else of(None) for part in (node.arg.start, node.arg.stop, node.arg.step)]
                return values.apply(lambda item, *parts: item[slice(*parts)], [self.value(node.node), *bounds], budget)
            return self.lookup(self.value(node.node), self.value(node.arg), attribute_first=False)
        if isinstance(node, nodes.Call):
            return self.call(node)
        if isinstance(node, nodes.Filter):
            return self.filtered(node, self.value(node.node) if node.node is not None else of(DATA))
        if isinstance(node, nodes.Test | nodes.Compare | nodes.Not):
            return of(values.Scalar(True), values.Scalar(False))
        if isinstance(node, nodes.CondExpr):
            return union(self.value(node.expr1), self.value(node.expr2) if node.expr2 is not None else of(UNDEFINED))
        if isinstance(node, nodes.And | nodes.Or):
            return union(self.value(node.left), self.value(node.right))
        if isinstance(node, nodes.BinExpr):
            operation = _OPERATIONS[type(node)]
            return values.apply(
                values.BINARY[operation], [self.value(node.left), self.value(node.right)], budget, unknown=values.UNKNOWN_RESULT[operation]
            )
        if isinstance(node, nodes.Neg | nodes.Pos):
            sign = (lambda number: -number) if isinstance(node, nodes.Neg) else (lambda number: +number)
            return values.apply(sign, [self.value(node.node)], budget, unknown=values.numeric_kind)
        if isinstance(node, nodes.Concat):
            return values.apply(values.concatenate, [self.value(part) for part in node.nodes], budget)
        if isinstance(node, nodes.MarkSafe | nodes.MarkSafeIfAutoescape):
            return self.value(node.expr)
        return of(OPAQUE)

    def name_value(self, name: str) -> Value:
        if name in self.assigned or name in ("varargs", "kwargs"):
            return union(self.env.get(("var", name), NOTHING), of(DATA))
        if name in JINJA_GLOBALS or self.chat and name in SERVER_GLOBALS:
            return of(Special("global", name))
        if name in ("loop", "caller"):
            return of(Special(name))
        return of(DATA)

    def lookup(self, receiver: Value, key: Value, *, attribute_first: bool) -> Value:
        if len(receiver) * len(key) > values.MAX_ATOMS:
            return of(OPAQUE)
        found: list[Value] = []
        for owner in receiver:
            for name in key:
                self.budget.spend()
                found.append(self.lookup_one(owner, name, attribute_first))
        return union(*found)

    def lookup_one(self, owner, key, attribute_first: bool) -> Value:
        if key is OPAQUE or owner is OPAQUE:
            return of(OPAQUE)
        if owner is DATA or owner is UNDEFINED:
            return of(owner)
        name = text_of(key)
        if isinstance(owner, Special):
            return self.special_lookup(owner, key, name)
        if key is DATA or isinstance(key, Special):
            return union(values.elements(of(owner), self.budget), _dict_values(owner), of(DATA, UNDEFINED))
        return _constant_lookup(owner, key, name, attribute_first)

    def special_lookup(self, owner: Special, key, name: str | None) -> Value:
        if owner.kind == "namespace":
            names = self.namespaces.get(owner.payload, set()) if name is None else {name, "*"}
            return union(*(self.env.get(("ns", owner.payload, attribute), NOTHING) for attribute in names), of(UNDEFINED))
        if owner.kind == "loop":
            if name in _LOOP_BOOLEANS:
                return of(values.Scalar(True), values.Scalar(False))
            if name in ("previtem", "nextitem"):
                return union(self.env.get(("loop-items",), NOTHING), of(UNDEFINED))
            return of(Special("method", (owner, name))) if name in _LOOP_METHODS else of(DATA)
        if owner.kind == "cycler":
            if name == "current":
                return self.env.get(("cycler", owner.payload), of(OPAQUE))
            return of(Special("method", (owner, name))) if name in ("next", "reset") else of(UNDEFINED)
        return of(OPAQUE)

    def call(self, node: nodes.Call) -> Value:
        callee = self.value(node.node)
        arguments = [self.value(argument) for argument in node.args]
        names = [keyword.key for keyword in _keywords(node)]
        keywords = [self.value(keyword.value) for keyword in node.kwargs]
        if node.dyn_args is not None or node.dyn_kwargs is not None:
            dynamic = [self.value(part) for part in (node.dyn_args, node.dyn_kwargs) if part is not None]
            return of(values.unknown_kind([atom for value in [callee, *arguments, *keywords, *dynamic] for atom in value]))
        if isinstance(node.node, nodes.Getattr) and node.node.attr in values.NUMERIC_METHODS:
            callee = frozenset(DATA if atom is OPAQUE else atom for atom in callee)
        found: list[Value] = []
        for atom in callee:
            if atom is DATA or atom is OPAQUE:
                found.append(of(atom))
            elif isinstance(atom, Special):
                found.append(self.call_special(node, atom, arguments, names, keywords))
        return union(*found)

    def call_special(self, node: nodes.Call, atom: Special, arguments: list[Value], names: list[str], keywords: list[Value]) -> Value:
        count = len(arguments)
        if atom.kind == "macro":
            return self.render_once(atom.payload, cast(nodes.Macro, self.by_id[atom.payload]).body)
        if atom.kind == "caller":
            return union(
                *(self.render_once(id(block), block.body) for block in self.call_blocks), of(OPAQUE) if not self.call_blocks else NOTHING
            )
        if atom.kind == "joiner":
            return union(of(""), self.env.get(("joiner", atom.payload), of(", ")))
        if atom.kind == "loop":
            return of(DATA)
        if atom.kind == "method":
            owner, name = atom.payload
            if isinstance(owner, Special) and owner.kind == "loop":
                return union(*arguments) if name == "cycle" else of(values.Scalar(True), values.Scalar(False))
            if isinstance(owner, Special) and owner.kind == "cycler":
                return self.env.get(("cycler", owner.payload), of(OPAQUE)) if name == "next" else of(None)
            if isinstance(owner, Special):
                return of(OPAQUE)

            def method(receiver, *parts):
                return values.call_method(receiver, name, list(parts[:count]), dict(zip(names, parts[count:], strict=False)))

            return values.apply(method, [of(owner), *arguments, *keywords], self.budget)
        if atom.kind == "global":
            if atom.payload == "range":
                return values.apply(lambda *parts: range(*parts), arguments, self.budget, unknown=values.numeric_kind)
            if atom.payload == "dict":
                return values.apply(
                    lambda *parts: dict(*parts[:count], **dict(zip(names, parts[count:], strict=False))),
                    [*arguments, *keywords],
                    self.budget,
                )
            if atom.payload in ("namespace", "cycler", "joiner"):
                return of(Special(atom.payload, id(node)))
            return of(DATA) if atom.payload == "lipsum" else of(OPAQUE)
        return of(OPAQUE)

    def render_once(self, key: int, body: list[nodes.Node]) -> Value:
        """The text a macro or `{% call %}` body renders to (opaque when it calls itself)."""
        if key in self.rendering:
            return of(OPAQUE)
        memo_key = ("render", key)
        if memo_key not in self.memo:
            self.rendering.add(key)
            try:
                self.memo[memo_key] = self.render(body)
            finally:
                self.rendering.discard(key)
        return self.memo[memo_key]

    def render(self, body: list[nodes.Node]) -> Value:
        parts: list[Value] = [of("")]
        for statement in body:
            if isinstance(statement, nodes.Output):
                parts += [self.value(child) for child in statement.nodes]
            elif isinstance(statement, nodes.If):
                branches = [statement.body, *(branch.body for branch in statement.elif_), statement.else_]
                parts.append(union(*(self.render(branch) for branch in branches)))
            elif isinstance(statement, nodes.With | nodes.Scope | nodes.ScopedEvalContextModifier):
                parts.append(self.render(statement.body))
            elif not isinstance(statement, nodes.Assign | nodes.AssignBlock | nodes.Macro | nodes.ExprStmt | nodes.Break | nodes.Continue):
                parts.append(of(OPAQUE))  # loops, nested calls, includes: not folded
        return values.apply(values.concatenate, parts, self.budget)

    def filter_chain(self, node: nodes.Filter, value: Value) -> Value:
        """A `{% set x | f | g %}` block's filters: a chain whose innermost input is the body."""
        inner = self.filter_chain(node.node, value) if isinstance(node.node, nodes.Filter) else value
        return self.filtered(node, inner)

    def filtered(self, node: nodes.Filter, value: Value) -> Value:
        """The value of filter `node` applied to `value`."""
        name, count = node.name, len(node.args)
        arguments = [self.value(argument) for argument in node.args]
        names = [keyword.key for keyword in _keywords(node)]
        keywords = [self.value(keyword.value) for keyword in node.kwargs]
        operands = [value, *arguments, *keywords]
        if node.dyn_args is not None or node.dyn_kwargs is not None:
            return of(_unmodeled(operands))
        if name == "attr" and arguments:
            return self.lookup(value, arguments[0], attribute_first=True)
        if name == "random":
            return values.elements(value, self.budget)
        if name == "map" and "attribute" not in names and arguments:
            return self.mapped(value, arguments, names, keywords)
        if name in ("select", "reject"):
            return self.selected(name, value, arguments)
        position = ATTRIBUTE_ARGUMENT.get(name)
        has_attribute = "attribute" in names or position is not None and count > position
        unknown = values.numeric_kind if name in values.NUMERIC_FILTERS else values.unknown_kind
        if name in values.PURE_FILTERS and not has_attribute:

            def function(item, *parts):
                return values.call_filter(ENVIRONMENT, name, item, list(parts[:count]), dict(zip(names, parts[count:], strict=False)))

            return values.apply(function, operands, self.budget, unknown=unknown)
        return of(DATA) if unknown is values.numeric_kind else of(_unmodeled(operands))

    def mapped(self, value: Value, arguments: list[Value], names: list[str], keywords: list[Value]) -> Value:
        """`|map('filter', ...)`: exact when one constant list meets one filter name."""
        filters, rest = arguments[0], arguments[1:]
        filter_name = text_of(next(iter(filters))) if len(filters) == 1 else None
        if filter_name not in values.PURE_FILTERS:
            return of(_unmodeled([value, *arguments, *keywords]))
        count = len(rest)

        def function(sequence, *parts):
            return (
                values.call_filter(ENVIRONMENT, filter_name, item, list(parts[:count]), dict(zip(names, parts[count:], strict=False)))
                for item in sequence
            )

        return values.apply(function, [value, *rest, *keywords], self.budget)

    def selected(self, name: str, value: Value, arguments: list[Value]) -> Value:
        """`|select('test', ...)` and `|reject`: Jinja's tests on constant items."""
        keep = name == "select"
        if not arguments:
            return values.apply(lambda sequence: (item for item in sequence if bool(item) == keep), [value], self.budget)

        def function(sequence, test, *parts):
            return (item for item in sequence if values.call_test(ENVIRONMENT, test, item, list(parts)) == keep)

        return values.apply(function, [value, *arguments], self.budget)

    # -- judging ---------------------------------------------------------------------------
    def judge_all(self) -> list[Construct]:
        self.callees = {id(node.node) for node in self.nodes if isinstance(node, nodes.Call)}
        self.receivers = {
            id(node.node) for node in self.nodes if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Filter | nodes.Call)
        }
        self.found: list[Construct] = []
        for node in self.nodes:
            if isinstance(node, nodes.Getattr):
                # the node is stamped at its dot: point at the name after it
                at = self.template.find(node.attr, node.lineno)
                self.judge_lookup(node, node.node, of(node.attr), at if at >= 0 else node.lineno, literal=True)
            elif isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Slice):
                self.judge_lookup(node, node.node, self.value(node.arg), _offset_of(node.arg), literal=isinstance(node.arg, nodes.Const))
            elif isinstance(node, nodes.Filter):
                self.judge_filter(node)
            elif isinstance(node, nodes.Call):
                self.judge_call(node)
            elif (
                self.chat and isinstance(node, nodes.Name) and node.ctx == "load" and _dunder(node.name) and node.name not in self.assigned
            ):
                # no server passes a chat template a dunder variable; web and build templates are
                # given their own (`__pip_cache__`), and a variable the template sets is its own
                self.report(node.lineno, node.name)
            elif isinstance(node, nodes.NSRef) and (label := judge_name(node.attr, chained=False, called=False, chat=self.chat)):
                self.report(node.lineno, label)
            elif self.chat and isinstance(node, nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends):
                keyword = {nodes.Include: "include", nodes.Import: "import", nodes.FromImport: "from", nodes.Extends: "extends"}[type(node)]
                self.report(node.lineno, f"{keyword} of another template", Severity.HIGH)
        return self.found

    def report(self, offset: int, label: str, severity: Severity = Severity.CRITICAL) -> None:
        self.found.append(Construct(offset, label, severity))

    def judge_lookup(self, node: nodes.Node, receiver: nodes.Node | None, key: Value, offset: int, *, literal: bool) -> None:
        chained, called = id(node) in self.receivers, id(node) in self.callees
        for atom in key:
            if atom is OPAQUE:
                self.report(offset, "computed attribute name")
            elif (text := text_of(atom)) is not None:
                label = judge_name(text, chained=chained, called=called, chat=self.chat)
                if label is not None:
                    self.report(offset, label if literal else f"{label} (computed)")
        if receiver is not None:
            for atom in self.value(receiver):
                if isinstance(atom, Special) and atom.kind == "global":
                    self.report(_offset_of(receiver), f"attribute of {atom.payload}")

    def judge_filter(self, node: nodes.Filter) -> None:
        arguments = dict(enumerate(node.args))
        keywords = {keyword.key: keyword.value for keyword in _keywords(node)}
        if node.name == "attr":
            key = arguments.get(0, keywords.get("name"))
            if key is not None:
                self.judge_lookup(node, node.node, self.value(key), node.lineno, literal=isinstance(key, nodes.Const))
            return
        if node.name == "map" and 0 in arguments:
            filters = self.value(arguments[0])
            if OPAQUE in filters:
                self.report(node.lineno, "computed filter name")
            if "attr" in filters and (key := arguments.get(1, keywords.get("name"))) is not None:
                self.judge_lookup(node, None, self.value(key), node.lineno, literal=isinstance(key, nodes.Const))
        if node.name in ATTRIBUTE_ARGUMENT:
            position = ATTRIBUTE_ARGUMENT[node.name]
            path = keywords.get("attribute", arguments.get(position) if position is not None else None)
            if path is not None:
                self.judge_path(node.lineno, self.value(path), literal=isinstance(path, nodes.Const))

    def judge_path(self, offset: int, path: Value, *, literal: bool) -> None:
        """An attribute path of make_attrgetter: `a.b` (and `a,b` for sort)."""
        for atom in path:
            if atom is OPAQUE:
                self.report(offset, "computed attribute name")
            elif (text := text_of(atom)) is not None:
                parts = re.split(r"[.,]", text)
                for index, part in enumerate(parts):
                    label = judge_name(part.strip(), chained=index < len(parts) - 1, called=False, chat=self.chat)
                    if label is not None:
                        self.report(offset, label if literal else f"{label} (computed)")

    def judge_call(self, node: nodes.Call) -> None:
        callee = node.node
        if isinstance(callee, nodes.Name) and callee.name not in self.assigned and callee.name in CALLED_NAMES:
            self.report(callee.lineno, f"{callee.name}()")
        if isinstance(callee, nodes.Getattr) and callee.attr in ("format", "format_map"):
            for atom in self.value(callee.node):
                if atom is OPAQUE:
                    self.report(callee.lineno, "computed format string")
                elif (text := text_of(atom)) is not None:
                    try:
                        fields = values.format_fields(text)
                    except ValueError:
                        continue  # format() refuses the string
                    for _, name in fields:
                        if isinstance(name, str) and (label := judge_name(name, chained=True, called=False, chat=self.chat)):
                            self.report(_offset_of(callee.node), f"{label} in a format string")


_OPERATIONS = {
    nodes.Add: "add",
    nodes.Sub: "sub",
    nodes.Mul: "mul",
    nodes.Div: "div",
    nodes.FloorDiv: "floordiv",
    nodes.Mod: "mod",
    nodes.Pow: "pow",
}


def _unmodeled(operands: Iterable[Value]):
    """An operation not folded here: data in, data out; constants in, a computed value."""
    atoms = [atom for value in operands for atom in value]
    if any(atom is DATA for atom in atoms):
        return values.unknown_kind(atoms)
    return OPAQUE


def _dict_values(owner) -> Value:
    return union(frozenset(item for _, item in owner)) if isinstance(owner, FrozenDict) else NOTHING


def _keywords(node: nodes.Call | nodes.Filter | nodes.Test) -> list[nodes.Keyword]:
    """A call's keyword arguments: jinja2 annotates `kwargs` as Pair nodes, its parser makes Keyword nodes."""
    return cast("list[nodes.Keyword]", node.kwargs)


def _constant_lookup(owner, key, name: str | None, attribute_first: bool) -> Value:
    """Jinja's getattr/getitem on a constant: an item, a method of it (folded when called), or Undefined."""
    python_owner, python_key = values.concrete(owner), values.concrete(key)

    def attribute(name: str) -> Value:
        if name in values.methods_of(python_owner) or name in values.MUTATING_METHODS and isinstance(python_owner, list | dict):
            return of(Special("method", (owner, name)))
        return of(OPAQUE) if hasattr(type(python_owner), name) else of(UNDEFINED)

    if attribute_first and name is not None and hasattr(type(python_owner), name):
        return attribute(name)
    try:
        return values.constant(python_owner[python_key])
    except (AttributeError, TypeError, LookupError, ValueError):
        return attribute(name) if name is not None else of(UNDEFINED)
