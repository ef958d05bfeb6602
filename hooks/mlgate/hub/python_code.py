"""Hub references in Python source, read with `ast` (the code is never imported or run).

One `PythonScan` covers a file, or every code cell of a notebook (cells share a namespace,
so imports and constants of one cell resolve names in the next). Names are resolved
statically and only from literals (the core's `python_flow.NameFlow`, shared with `models`):

- import aliases: `import transformers as tf`, `from transformers import AutoModel as AM`;
- string (and bool) constants: the latest literal assignment before the use, else the first
  one after it (a function body reading a constant defined below it); `os.getenv("X", "ns/m")`
  is its default; `"ns/" + NAME` concatenations and f-strings of constants;
- `**kwargs` dicts built from `{...}` or `dict(...)` that are never mutated.

Reported: hub loaders (see `loaders.py`) whose repository is not pinned to a commit, their
`trust_remote_code=True`, torch.hub repositories and `trust_repo=True`, weight URLs without a
checksum or over http; settings that name a repository outside a loader call (argparse and
dataclass defaults, parameters, keywords, dict entries and variables called `model_name_or_path`,
`model_id`, ...); hub URLs in any string literal except docstrings; and literal commands run by
`os.system`/`subprocess` (through `commands`). Values that cannot be read statically are not
findings (HUB008 with `report-unresolved`); neither is `trust_remote_code` of a local model.
A file that does not parse is a ScanError (a notebook cell with IPython syntax is skipped).
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass, field

from mlgate import python_ast
from mlgate.files import ScanError
from mlgate.findings import Finding
from mlgate.hub.callees import Callees
from mlgate.hub.commands import ShellScan
from mlgate.hub.loaders import HUB_PACKAGES, PACKAGED_BUILDERS, Loader, loader_for
from mlgate.hub.references import (
    API_KEY_KEYS,
    API_URL_KEYS,
    REFERENCE_KEYS,
    REVISION_KEYS,
    URL_MARKERS,
    Judge,
    Reference,
    is_api_model,
    is_pickle_file,
    is_weight_url,
    repo_id_of,
    revision_keys_for,
    setting_key,
)
from mlgate.notes import Note
from mlgate.problem import Place, Problem
from mlgate.python_flow import MAX_RESOLVE_DEPTH, UNKNOWN, NameFlow, parameter_defaults

_CHECKSUM_IN_FILE = re.compile(r"sha256|sha384|sha512|blake2|check_integrity|verify_checksum")
_SHELL_RUNNERS = frozenset(
    {"os.system", "os.popen", "subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output", "subprocess.Popen"}
)
_STRING_START = re.compile("[rbuRBU]*('''|\"\"\"|'|\")")
_API_SETTINGS = API_URL_KEYS | API_KEY_KEYS | {"provider", "model_provider"}
_Function = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda  # what has parameter defaults
# What `self.<attribute>` is followed back to: its first few assignments (a class that sets it in
# many places is not a settings holder; the flow stays bounded by the file, not by its assignments).
_MAX_ATTRIBUTE_VALUES = 4
# Keywords that hand a call a dict of settings by name (`loader_kwargs=...`), followed to that dict
_SETTINGS_KEYWORDS = ("kwargs", "args", "config", "settings", "options", "params")
# Classes that hold a program's settings (dataclasses parsed by HfArgumentParser, pydantic settings).
_SETTINGS_CLASS = re.compile(r"(?:Config|Configuration|Arguments|Args|Params|Parameters|Settings|Options)$")
# Settings that only a dataset has: a repository named beside them is a dataset.
_DATASET_SIBLINGS = frozenset({"hf_subset", "subset", "split", "splits", "evaluation_splits", "data_files"})
# A setting named for where the program writes (`--output_dir`, `save_path`, `cache_dir`,
# `logging_dir`): its default is a local folder the program fills, and a later
# `from_pretrained(args.output_dir)` loads what it wrote there, not a hub repository.
_OUTPUT_SETTING = re.compile(r"(?:^|[-_])(?:output|out|save|saving|cache|logging)(?:[-_]|$)", re.IGNORECASE)


@dataclass
class Unit:
    """Python text to analyse (a file, or one notebook cell) and how to place its problems.

    A whole file comes with its `module`, the parse every hook shares; a cell or a `python -c`
    string is parsed by `parse()`."""

    text: str
    place: Place
    index: int = 0
    module: python_ast.PythonModule | None = None
    error: str = ""

    def parse(self) -> bool:
        """Parse the text (never run it); on failure keep why in `error` and return False."""
        if self.module is None:
            try:
                self.module = python_ast.parse_text(self.text)
            except ScanError as exc:
                self.error = str(exc)
                return False
        return True

    @property
    def nodes(self) -> list[ast.AST]:
        return self.module.nodes if self.module is not None else []

    def offset(self, node: ast.AST) -> int:
        """Character offset of a node (ast columns count UTF-8 bytes)."""
        assert self.module is not None, "offsets exist only for a parsed unit"
        return self.module.offset(node)

    def end_offset(self, node: ast.AST) -> int:
        assert self.module is not None, "offsets exist only for a parsed unit"
        return self.module.end_offset(node)


@dataclass
class _Nodes:
    """The nodes of one unit the analysis visits, gathered in the collection walk."""

    calls: list[ast.Call] = field(default_factory=list)
    dicts: list[ast.Dict] = field(default_factory=list)
    strings: list[ast.Constant | ast.JoinedStr] = field(default_factory=list)  # str constants (not docstrings) and f-strings
    functions: list[_Function] = field(default_factory=list)  # defs and lambdas, for their parameter defaults
    classes: list[ast.ClassDef] = field(default_factory=list)  # for their fields (dataclasses, settings classes)
    docstrings: set[int] = field(default_factory=set)


class PythonScan(NameFlow):
    def __init__(self, judge: Judge, whole_text: str, flow: NameFlow | None = None):
        super().__init__()
        self.shared = flow is not None  # names already collected, once for every hook (read, never changed)
        if flow is not None:
            self.aliases, self.bindings, self.mutated, self.scopes = flow.aliases, flow.bindings, flow.mutated, flow.scopes
            self.attributes = flow.attributes
            self.qualified_names = flow.qualified_names
        self.judge = judge
        self.whole_text = whole_text
        self.consumed: set[int] = set()  # value nodes a loader call already judged
        self.problems: dict[tuple[str, int, int], tuple[Problem, Unit]] = {}
        self.shell = ShellScan(judge, whole_text)  # commands the code runs (os.system, subprocess)
        # Names whose value reaches a loader's repository argument (`args.model_name_or_path`,
        # `cfg["base_model"]`, `kwargs.get("model_id")`, a parameter `model_name`): setting key -> loader.
        self.flows: dict[str, Loader] = {}
        # ... and of those, the ones that reach it as a parameter's name: the functions whose parameter
        # it is (unit index, where the function starts); the other names reach it in any function
        self.parameter_flows: dict[str, set[tuple[int, tuple[int, int]]]] = {}
        self.named_flows: set[str] = set()
        self.local_functions: set[str] = set()
        # a dict or call given as a keyword (by id) -> the call it is given to: mteb's
        # `ModelMeta(loader_kwargs=dict(trust_remote_code=True), name=..., revision=<sha>)`
        self.holders: dict[int, ast.Call] = {}
        self._callees: Callees | None = None

    @functools.cached_property
    def verified_in_file(self) -> bool:
        """Whether the file computes a checksum anywhere: searched only when a download call asks."""
        return _CHECKSUM_IN_FILE.search(self.whole_text) is not None

    # --- collection -------------------------------------------------------------------------

    def scan(self, units: list[Unit]) -> list[Finding | Note]:
        parsed = [unit for unit in units if unit.parse()]
        if not self.shared:  # text that is not a file of its own (`python -c` code): its names are collected here
            for unit in parsed:
                self.collect(unit.module, unit.index, unit.module)  # type: ignore[arg-type]  # parsed
        nodes = {id(unit): self._collect(unit) for unit in parsed}
        # every call with its dotted name and what loader it is (None for most), asked once
        calls = {
            id(unit): [(call, name, loader_for(name)) for call in nodes[id(unit)].calls for name in (self.qualified(call.func) or "",)]
            for unit in parsed
        }
        for unit in parsed:  # where values flow: before any setting is judged
            for call, name, loader in calls[id(unit)]:
                if loader is not None:
                    self.collect_flow(call, loader, unit)
                elif call.keywords:
                    self.collect_wrapper_flow(call, name, unit)
        # Loader calls first, in every unit: they claim the constants and dicts they read, so
        # those are not judged again as free-standing settings.
        for unit in parsed:
            for call, name, loader in calls[id(unit)]:
                if loader is not None:
                    self.call(call, unit, name, loader)
        for unit in parsed:
            found = nodes[id(unit)]
            self.collect_holders(found.calls, unit)
            for call, name, loader in calls[id(unit)]:
                if loader is None:
                    self.call(call, unit, name, None)
            for dict_node in found.dicts:
                self.settings_dict(dict_node, unit)
            self.settings_in_definitions(unit, found.functions)
            self.settings_in_classes(unit, found.classes)
            self.strings(found, unit)
        return [unit.place(problem) for problem, unit in self.problems.values()] + self.shell.findings()

    def collect_wrapper_flow(self, call: ast.Call, qualified: str, unit: Unit) -> None:
        """A keyword that a function of the project hands on to a hub loader as its repository
        flows there as if it were given to the loader: torchtune's `alpaca_dataset(source=...)`
        passes `source=source` to `SFTDataset`, whose `__init__` calls `load_dataset(source)`, and
        `partial(alpaca_dataset, source="ns/name")` names one. Only what can carry a reference is
        looked up (the callee's module is parsed for it): a parameter whose default is an `ns/name`
        passed on, or a literal `ns/name`."""
        callee = qualified
        if qualified in ("functools.partial", "partial") and call.args:
            callee = self.qualified(call.args[0]) or ""
        at = self._key(call, unit)
        for keyword in call.keywords:
            value = keyword.value
            literal = type(value) is ast.Constant and isinstance(value.value, str) and repo_id_of(value.value, bare=False) is not None
            passed_on = (
                type(value) is ast.Name
                and self.binding(value.id, at) is None
                and (scope := self.parameter_of(value.id, at)) is not None
                and any(name == value.id and repo_id_of(default, bare=False) is not None for name, default in scope.text_defaults)
            )
            if keyword.arg is None or not (literal or passed_on):
                continue
            loader = self.callees(unit).loader_of(callee, keyword.arg)
            if loader is None:
                continue
            if literal:  # judged here, with the call's other keywords (its `revision=`)
                siblings: dict[str, tuple[ast.expr, ast.AST]] = {other.arg: (other.value, other) for other in call.keywords if other.arg}
                where = f"{keyword.arg}= of {_callee_name(callee)}"
                self.setting(keyword.arg, value, siblings, unit, at, where, (loader.kind, loader.bare))
                continue
            for name in self.flow_names(value, at, parameters=set()):
                self.flows.setdefault(setting_key(name), loader)

    def collect_holders(self, calls: list[ast.Call], unit: Unit) -> None:
        """What holds each dict of settings given as a keyword (`loader_kwargs=dict(...)`, also
        through a name: `loader_kwargs=jasper_loader_kwargs`)."""
        for call in calls:
            for keyword in call.keywords:
                value = keyword.value
                if keyword.arg is not None and type(value) is ast.Name and keyword.arg.endswith(_SETTINGS_KEYWORDS):
                    binding = self.binding(value.id, self._key(call, unit))
                    value = binding.value if binding is not None and binding.value is not None else value
                if keyword.arg is not None and type(value) in (ast.Dict, ast.Call):
                    self.holders[id(value)] = call

    def _collect(self, unit: Unit) -> _Nodes:
        """The unit's calls, dicts, strings, functions and classes (from the parse's index by type)."""
        module = unit.module
        assert module is not None, "nodes exist only for a parsed unit"
        functions = module.of_type(ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
        self.local_functions.update(node.name for node in functions if not isinstance(node, ast.Lambda))  # type: ignore[attr-defined]
        return _Nodes(
            calls=module.of_type(ast.Call),  # type: ignore[arg-type]
            dicts=module.of_type(ast.Dict),  # type: ignore[arg-type]
            strings=[
                node  # type: ignore[misc]
                for node in module.of_type(ast.Constant, ast.JoinedStr)
                if type(node) is ast.JoinedStr or isinstance(node.value, str)  # type: ignore[attr-defined]
            ],
            functions=functions,  # type: ignore[arg-type]
            classes=module.of_type(ast.ClassDef),  # type: ignore[arg-type]
            docstrings={id(node.value) for node in module.of_type(ast.Expr) if isinstance(node.value, ast.Constant)},  # type: ignore[attr-defined]
        )

    # --- data flow into loaders ---------------------------------------------------------------------

    def collect_flow(self, call: ast.Call, loader: Loader, unit: Unit) -> None:
        if loader.kind not in ("model", "dataset"):
            return
        keywords: dict[str, tuple[ast.expr, ast.AST]] = {
            keyword.arg: (keyword.value, keyword) for keyword in call.keywords if keyword.arg is not None
        }
        argument = self.argument(call, loader, keywords)
        if argument is not None:
            parameters: set[str] = set()
            for name in self.flow_names(argument, self._key(call, unit), parameters=parameters):
                self.flows.setdefault(setting_key(name), loader)
                if name not in parameters:
                    self.named_flows.add(setting_key(name))

    def flow_names(self, node: ast.expr, at: tuple[int, int, int], depth: int = 0, parameters: set[str] | None = None) -> set[str]:
        """The names a loader's argument reads its value from: `args.model`, `cfg["model"]`,
        `kwargs.get("model")`, `getattr(cfg, "model")`, a variable (and what it was assigned).
        Those that are a parameter of the function around the use go into `parameters` as well."""
        if depth > MAX_RESOLVE_DEPTH:
            return set()
        if isinstance(node, ast.Attribute):
            names = {node.attr}
            if isinstance(node.value, ast.Name) and node.value.id == "self":
                # `self._model`, given its value in `__init__` by `self._model = model`: the names that value reads
                for kept in self.attributes.get(node.attr, ())[:_MAX_ATTRIBUTE_VALUES]:
                    if kept.value is not None and kept.key[0] == at[0]:
                        names |= self.flow_names(kept.value, kept.key, depth + 1, parameters)
            return names
        if isinstance(node, ast.Name):
            binding = self.binding(node.id, at)
            scope = self.parameter_of(node.id, at) if binding is None else None
            if scope is not None and parameters is not None:
                self.parameter_flows.setdefault(setting_key(node.id), set()).add((at[0], scope.start))
                parameters.add(node.id)
            inner = (
                self.flow_names(binding.value, binding.key, depth + 1, parameters)
                if binding is not None and binding.value is not None
                else set()
            )
            return {node.id} | inner
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
            return {node.slice.value}
        if isinstance(node, ast.Call) and node.args:
            first = node.args[1] if isinstance(node.func, ast.Name) and node.func.id == "getattr" and len(node.args) > 1 else node.args[0]
            if (isinstance(node.func, ast.Attribute) and node.func.attr == "get") or first is not node.args[0]:
                return {first.value} if isinstance(first, ast.Constant) and isinstance(first.value, str) else set()
            return set()
        if isinstance(node, ast.BoolOp):
            return set().union(*(self.flow_names(value, at, depth + 1, parameters) for value in node.values))
        if isinstance(node, ast.IfExp):
            return self.flow_names(node.body, at, depth + 1, parameters) | self.flow_names(node.orelse, at, depth + 1, parameters)
        return set()

    def loaded(self, key: str, callee: str | None = None) -> tuple[str, bool] | None:
        """(kind, a bare name counts) when a setting called `key` is loaded, else None.

        A setting is a reference when its name reaches a loader in this code (`flows`): a dict
        entry, an argparse default, a parameter default, a field, or a keyword of a function
        defined here. A keyword of any other call is one only for a settings class
        (`ModelConfig(model_name_or_path=...)`): `push_to_hub(dataset_name=...)`, a model card's
        `base_model=`, a logger's `model=` load nothing."""
        name = setting_key(key)
        if callee is not None:
            last = _callee_name(callee)
            if _SETTINGS_CLASS.search(last) and name in REFERENCE_KEYS:
                return REFERENCE_KEYS[name]
            if last not in self.local_functions:
                return None
        loader = self.flows.get(name)
        if loader is None:
            return None
        return loader.kind, loader.bare

    def dict_entries(
        self, node: ast.expr, at: tuple[int, int, int], unit: Unit, depth: int = 0
    ) -> dict[str, tuple[ast.expr, ast.AST]] | None:
        """{key: (value node, key node)} of a literal dict, or None when unknowable. The key node
        (a dict key, a keyword) is where a finding about the setting goes: its offset is computed
        only then (`unit.offset`), not for the thousands of calls that load nothing."""
        if depth > MAX_RESOLVE_DEPTH:
            return None
        if isinstance(node, ast.Name):
            binding = self.binding(node.id, at)
            if node.id in self.mutated or binding is None or binding.value is None or binding.owner is not unit.module:
                return None
            return self.dict_entries(binding.value, binding.key, unit, depth + 1)
        entries: dict[str, tuple[ast.expr, ast.AST]] = {}
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if key is None:
                    inner = self.dict_entries(value, at, unit, depth + 1)
                    if inner is None:
                        return None
                    entries.update(inner)
                elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                    entries[key.value] = (value, key)
                else:
                    return None
            return entries
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
            for keyword in node.keywords:
                if keyword.arg is None:
                    return None
                entries[keyword.arg] = (keyword.value, keyword)
            return entries
        return None

    # --- analysis ---------------------------------------------------------------------------------

    def report(self, problems: list[Problem], unit: Unit) -> None:
        for problem in problems:
            self.problems.setdefault((problem.rule.code, unit.index, problem.offset), (problem, unit))

    def _key(self, node: ast.stmt | ast.expr, unit: Unit) -> tuple[int, int, int]:
        return (unit.index, node.lineno, node.col_offset)

    def keywords(self, call: ast.Call, unit: Unit) -> tuple[dict[str, tuple[ast.expr, ast.AST]], bool]:
        """A call's keyword arguments with `**dicts` merged in; False when a `**` is unknowable."""
        at = self._key(call, unit)
        merged: dict[str, tuple[ast.expr, ast.AST]] = {}
        known = True
        for keyword in call.keywords:
            if keyword.arg is not None:
                merged[keyword.arg] = (keyword.value, keyword)
                continue
            entries = self.dict_entries(keyword.value, at, unit)
            if entries is None:
                known = False
            else:
                merged.update(entries)
                self.consumed.update(id(value) for value, _ in entries.values())
                source = self.source_node(keyword.value, at)
                if source is not None:
                    self.consumed.add(id(source))
        return merged, known

    def call(self, call: ast.Call, unit: Unit, qualified: str, loader: Loader | None) -> None:
        """One call (`qualified`: its dotted name, `loader`: what `loader_for` says of it)."""
        if loader is None:
            if qualified in _SHELL_RUNNERS and call.args:
                self.shell_command(call.args[0], unit)
            if not call.keywords or not self.may_hold_settings(call, qualified):  # read for its keyword settings only
                return
        keywords, keywords_known = self.keywords(call, unit)
        at = self._key(call, unit)
        short = ".".join(qualified.replace("()", "").split(".")[-2:])
        if loader is None:
            if qualified.endswith(".add_argument"):
                self.argparse_default(call, keywords, unit)
            else:
                self.settings(keywords, unit, at, f"{short}()", callee=qualified, positional=call.args[:1], node=call)
            return
        argument = self.argument(call, loader, keywords)
        position = loader.revision_position
        if position is not None and len(call.args) > position and loader.revision[0] not in keywords:
            if any(isinstance(arg, ast.Starred) for arg in call.args[: position + 1]):
                keywords_known = False
            else:
                keywords[loader.revision[0]] = (call.args[position], call)
        if loader.kind == "torch hub":
            self.torch_hub(argument, keywords, unit, at)
        elif loader.kind in ("weights url", "fetch"):
            self.download(argument, loader, keywords, unit, at, short)
        else:
            runs_code = self.trusts(keywords, at) or self.downloads_pickle(call, qualified, keywords, at)
            pinned, local = self.hub_load(argument, loader, keywords, keywords_known, unit, at, short, qualified, runs_code)
            if not local:
                self.trust(keywords, unit, at, pinned, named=local is False)

    def may_hold_settings(self, call: ast.Call, qualified: str) -> bool:
        """Whether the keywords of a call that loads nothing can name anything `settings` reads: an
        argparse option, a settings class's or this file's function's keywords (`loaded`), or
        `trust_remote_code` (also inside a `**dict`). Most calls have none, and are not read further."""
        if qualified.endswith(".add_argument"):
            return True
        last = _callee_name(qualified)
        if last in self.local_functions or _SETTINGS_CLASS.search(last):
            return True
        return any(keyword.arg is None or keyword.arg == "trust_remote_code" for keyword in call.keywords)

    def argument(self, call: ast.Call, loader: Loader, keywords: dict[str, tuple[ast.expr, ast.AST]]) -> ast.expr | None:
        if loader.position is not None and len(call.args) > loader.position:
            if not any(isinstance(arg, ast.Starred) for arg in call.args[: loader.position + 1]):
                return call.args[loader.position]
            return None
        for name in loader.keywords:
            if name in keywords:
                return keywords[name][0]
        return None

    def revision(
        self, names: tuple[str, ...], keywords: dict[str, tuple[ast.expr, ast.AST]], known: bool, at: tuple[int, int, int]
    ) -> tuple[str | None, bool]:
        for name in names:
            if name in keywords:
                value = self.literal(keywords[name][0], at)
                if value is UNKNOWN or not (value is None or isinstance(value, str)):
                    return None, False
                return value, True
        return None, known

    def hub_load(
        self, argument, loader: Loader, keywords, keywords_known: bool, unit: Unit, at, short: str, qualified: str, runs_code: bool
    ) -> tuple[bool | None, bool | None]:
        """HUB001 and namespace checks of one loader call: is its revision pinned, and does it load a
        local path (True), a hub repository it names (False) or one it does not name (None)."""
        revision, revision_known = self.revision(loader.revision, keywords, keywords_known, at)
        remote_code = self.trusts(keywords, at)
        reference = Reference("", 0, loader.kind, revision, revision_known, where=short, runs_code=runs_code, remote_code=remote_code)
        if argument is None:
            return reference.pinned, None
        value = self.literal(argument, at)
        source = self.source_node(argument, at)
        if source is not None:
            self.consumed.add(id(source))
        offset = unit.offset(argument)
        if value is UNKNOWN:
            if self.names_a_folder(argument, at):
                return reference.pinned, True  # a folder on this machine: what the project saved there itself
            if revision is None and revision_known:  # a revision passed along is where the pin is judged
                self.report(self.judge.unresolved(offset, short), unit)
            return reference.pinned, None
        if not isinstance(value, str) or "://" in value:
            return reference.pinned, None
        bare = loader.bare and (loader.kind != "dataset" or value not in PACKAGED_BUILDERS)
        if self.judge.is_local_path(value):
            return reference.pinned, True  # the project's own files: nothing on a hub to swap
        repo_id = repo_id_of(value, bare=bare)
        if repo_id is None:
            return reference.pinned, None
        if qualified.split(".")[0] not in ("transformers", "diffusers") and is_api_model(repo_id, loader.kind):
            return reference.pinned, None
        repo_type = self.literal(keywords.get("repo_type", (None, 0))[0], at) if "repo_type" in keywords else None
        if repo_type in ("dataset", "space"):
            reference.kind = repo_type
        reference.repo_id, reference.offset = repo_id, offset
        self.report(self.judge.reference(reference), unit)
        return reference.pinned, False

    def callees(self, unit: Unit) -> Callees:
        """The project's functions this file calls (made when a call first needs one)."""
        if self._callees is None:
            self._callees = Callees(self.judge.context, self.judge.folder, unit.module.tree if unit.module is not None else None)
        return self._callees

    def names_repository(self, node: ast.expr, at) -> bool:
        """A string, also through constants, that is an `org/name` hub id (a bare name is too often something else)."""
        value = self.literal(node, at)
        return isinstance(value, str) and not self.judge.is_local(value) and repo_id_of(value, bare=False) is not None

    def trusts(self, keywords, at) -> bool:
        """`trust_remote_code=True` among the keywords."""
        entry = keywords.get("trust_remote_code")
        return entry is not None and self.literal(entry[0], at) is True

    def trust(self, keywords, unit: Unit, at, pinned: bool | None, named: bool) -> None:
        """HUB002 for `trust_remote_code=True` among the keywords (`named`: beside a hub repository they name)."""
        if self.trusts(keywords, at):
            self.report(self.judge.trust_remote_code(unit.offset(keywords["trust_remote_code"][1]), pinned, named=named), unit)

    def names_a_folder(self, node: ast.expr, at: tuple[int, int, int]) -> bool:
        """Whether a value mlgate cannot resolve is, by its name or how it is built, a folder on this
        machine: a name or attribute called so, or `os.path.join(...)`; but not a name given what a
        hub download returns (`model_dir = snapshot_download("ns/name")`: the hub's code, downloaded)."""
        if isinstance(node, ast.Call):
            return self.qualified(node.func) == "os.path.join"
        name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
        if not _FOLDER_NAME.search(name):
            return False
        binding = self.binding(node.id, at) if isinstance(node, ast.Name) else None
        value = binding.value if binding is not None else None
        return not (
            isinstance(value, ast.Call) and (loader := loader_for(self.qualified(value.func) or "")) is not None and loader.kind == "model"
        )

    def downloads_pickle(self, call: ast.Call, qualified: str, keywords, at) -> bool:
        """`hf_hub_download(repo, "model.pkl")`: a pickled file fetched to be loaded, which runs its code."""
        if qualified.rsplit(".", 1)[-1] not in ("hf_hub_download", "hf_hub_url"):
            return False
        node = keywords["filename"][0] if "filename" in keywords else (call.args[1] if len(call.args) > 1 else None)
        value = self.literal(node, at) if node is not None else None
        return isinstance(value, str) and is_pickle_file(value)

    def torch_hub(self, argument, keywords, unit: Unit, at) -> None:
        source = keywords.get("source")
        if source is not None and self.literal(source[0], at) == "local":
            return
        value = self.literal(argument, at) if argument is not None else UNKNOWN
        if argument is not None and value is UNKNOWN:
            self.report(self.judge.unresolved(unit.offset(argument), "torch.hub"), unit)
        problems = self.judge.torch_hub(value, unit.offset(argument)) if isinstance(value, str) else []
        self.report(problems, unit)
        trust = keywords.get("trust_repo")
        if trust is not None and self.literal(trust[0], at) is True:
            pinned = isinstance(value, str) and not problems
            self.report(self.judge.trust_remote_code(unit.offset(trust[1]), pinned, "trust_repo=True", named=isinstance(value, str)), unit)

    def download(self, argument, loader: Loader, keywords, unit: Unit, at, short: str) -> None:
        value = self.literal(argument, at) if argument is not None else UNKNOWN
        if not isinstance(value, str) or (loader.kind == "fetch" and not is_weight_url(value)):
            return
        verified = self.verified_in_file or any(
            name in keywords and self.literal(keywords[name][0], at) not in (None, False) for name in loader.checksum
        )
        self.report(self.judge.weight_url(value, unit.offset(argument), verified, short), unit)

    def shell_command(self, node: ast.expr, unit: Unit) -> None:
        """`os.system("hf download ns/name")`, `subprocess.run(["git", "clone", URL])`: literal commands only."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            self.shell.add(node.value, self._placer_in(node, unit))
        elif isinstance(node, (ast.List, ast.Tuple)) and node.elts:
            words = [(e, e.value) for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if len(words) == len(node.elts):  # every element a string literal
                self.shell.add_arguments([text for _, text in words], [self._placer_in(element, unit) for element, _ in words])

    def _placer_in(self, node: ast.Constant, unit: Unit) -> Place:
        """Place problems at offsets into a string literal's value (exact up to its first escape)."""
        start = unit.offset(node)
        quote = _STRING_START.match(unit.text, start)
        content = quote.end() if quote else start
        return lambda problem: unit.place(_moved(problem, content + problem.offset))

    # --- settings outside loader calls ----------------------------------------------------------

    def setting(
        self,
        key: str,
        value_node: ast.expr,
        siblings: dict[str, tuple[ast.expr, ast.AST]],
        unit: Unit,
        at,
        where: str,
        spec: tuple[str, bool] | None = None,
        runs_code: bool = False,
    ) -> bool:
        """A keyword, dict entry, default or field whose value is loaded (`spec`: its kind, bare names count;
        `runs_code`: its load runs the repository's code, `trust_remote_code=True` beside it); True when
        it names a hub repository."""
        spec = spec or self.loaded(key)
        if spec is None or id(value_node) in self.consumed or _OUTPUT_SETTING.search(key):
            return False
        value = self.literal(value_node, at)
        if not isinstance(value, str) or self.judge.is_local(value) or (spec[0] == "dataset" and value in PACKAGED_BUILDERS):
            return False
        repo_id = repo_id_of(value, bare=spec[1])
        if repo_id is None or is_api_model(repo_id, spec[0]):
            return False
        self.consumed.add(id(self.source_node(value_node, at)))
        revision, known = self.revision(revision_keys_for(setting_key(key)), siblings, True, at)
        kind = "dataset" if _DATASET_SIBLINGS.intersection(siblings) else spec[0]  # lighteval's `hf_repo` beside `hf_subset`
        reference = Reference(
            repo_id, unit.offset(value_node), kind, revision, known, where=where, runs_code=runs_code, remote_code=runs_code
        )
        self.report(self.judge.reference(reference), unit)
        return True

    def settings(
        self,
        entries: dict[str, tuple[ast.expr, ast.AST]],
        unit: Unit,
        at,
        where: str,
        callee: str | None = None,
        positional: list[ast.expr] | None = None,
        node: ast.expr | None = None,
    ) -> None:
        """Settings of a call that is not a loader (`positional`: its first argument) or of a dict
        (`node`: the call or dict, whose holder's settings are the loader's too)."""
        runs_code = self.trusts(entries, at)
        named = False
        # beside a provider, an API's address or key, the model is the one the API serves (NeMo Data
        # Designer's `ModelConfig(provider=..., model=...)`, `dspy.LM(model=..., api_base=...)`);
        # a tokenizer there is still loaded here
        served = not _API_SETTINGS.isdisjoint(setting_key(key) for key in entries)
        for key, (value, _) in entries.items():
            spec = self.loaded(key, callee)
            if served and "tokenizer" not in setting_key(key):
                spec = None
            if spec is not None and self.restates_a_loaded_variable(key, value, at):
                spec = None
            if spec is not None:
                named |= self.setting(key, value, entries, unit, at, f"{key}= of {where}", spec, runs_code)
        if "trust_remote_code" not in entries:
            return
        if callee is not None and self.callees(unit).only_tests(callee, "trust_remote_code"):
            return  # the project's own function only reads the flag in a condition (a consent check): it loads nothing
        # beside it, a model setting or a first argument that names `org/name` (a test's
        # `launcher("org/model", trust_remote_code=True)`, `{"base_model": "org/model", ...}`)
        candidates = [value for key, (value, _) in entries.items() if setting_key(key) in REFERENCE_KEYS] + (positional or [])
        with_revision = entries
        holder = self.holders.get(id(node)) if node is not None and REVISION_KEYS.isdisjoint(entries) else None
        if holder is not None:
            # the flag is one of the settings handed on with the model and its revision beside them
            with_revision = {keyword.arg: (keyword.value, keyword) for keyword in holder.keywords if keyword.arg is not None}
            candidates += [value for key, (value, _) in with_revision.items() if setting_key(key) in REFERENCE_KEYS or key == "name"]
        named = named or any(self.names_repository(value, at) for value in candidates)
        revision, known = self.revision(tuple(REVISION_KEYS), with_revision, True, at)
        self.trust(entries, unit, at, Reference("", 0, revision=revision, revision_known=known).pinned, named)

    def restates_a_loaded_variable(self, key: str, value: ast.expr, at: tuple[int, int, int]) -> bool:
        """`{"data_source": data_source}` after `load_dataset(data_source)` (verl's preprocessing
        records): the key counts as loaded only because the variable of that name is, and the
        variable's value was judged at that load."""
        if not isinstance(value, ast.Name) or setting_key(value.id) != setting_key(key):
            return False
        source = self.source_node(value, at)
        return source is not value and id(source) in self.consumed

    def settings_dict(self, node: ast.Dict, unit: Unit) -> None:
        if id(node) in self.consumed:
            return
        at = self._key(node, unit)
        entries = self.dict_entries(node, at, unit)
        if entries:
            self.settings(entries, unit, at, "a dict", node=node)

    def argparse_default(self, call: ast.Call, keywords, unit: Unit) -> None:
        options = [arg.value for arg in call.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
        if options and "default" in keywords:
            option = max(options, key=len)
            self.setting(option, keywords["default"][0], {}, unit, self._key(call, unit), f"the default of {option}")

    def settings_in_definitions(self, unit: Unit, functions: list[_Function]) -> None:
        """Parameter defaults of parameters whose value reaches a loader."""
        for node in functions:
            for arg, default in parameter_defaults(node.args):
                if self.handed_to_a_known_library_only(arg.arg, node, unit):
                    continue
                self.setting(arg.arg, default, {}, unit, self._key(default, unit), f"the default of {arg.arg}")

    def handed_to_a_known_library_only(self, parameter: str, function: _Function, unit: Unit) -> bool:
        """Whether a parameter whose name reaches a loader only as other functions' parameters is, in
        its own function, only handed to calls of a hub library that are not loaders: `version`
        loaded in one class's `__init__` says nothing of another's given to
        `open_clip.create_model_and_transforms(pretrained=version)` (a tag of open_clip's). Handed
        to anything else (`super().__init__(pretrained=...)`, a class of the project) it may load."""
        key = setting_key(parameter)
        scopes = self.parameter_flows.get(key)
        if key in self.named_flows or scopes is None or (unit.index, (function.lineno, function.col_offset)) in scopes:
            return False
        reads = [node for node in ast.walk(function) if type(node) is ast.Name and node.id == parameter]
        handed = [
            value
            for call in ast.walk(function)
            if type(call) is ast.Call and (self.qualified(call.func) or "").split(".")[0] in HUB_PACKAGES
            for value in [*call.args, *(keyword.value for keyword in call.keywords)]
            if type(value) is ast.Name and value.id == parameter
        ]
        return bool(reads) and len(handed) == len(reads)

    def settings_in_classes(self, unit: Unit, classes: list[ast.ClassDef]) -> None:
        """Field defaults (`model_name: str = "ns/name"`, `field(default=...)`) of a class: reported
        when the field's name reaches a loader here, or, in a settings class (`ScriptArguments`,
        `TrainConfig`), when it is a well-known model or dataset setting (`model_name_or_path`)."""
        for node in classes:
            settings_class = _SETTINGS_CLASS.search(node.name) is not None
            for statement in node.body:
                value: ast.expr | None
                if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value is not None:
                    name, value = statement.target.id, statement.value
                elif isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
                    name, value = statement.targets[0].id, statement.value
                else:
                    continue
                spec = self.loaded(name) or (REFERENCE_KEYS.get(setting_key(name)) if settings_class else None)
                if spec is None:
                    continue
                if isinstance(value, ast.Call) and self.qualified(value.func) in ("field", "dataclasses.field", "pydantic.Field", "Field"):
                    default = next((keyword.value for keyword in value.keywords if keyword.arg == "default"), None)
                    value = default if default is not None else (value.args[0] if value.args else None)
                if isinstance(value, ast.Constant):
                    self.setting(name, value, {}, unit, self._key(statement, unit), f"{node.name}.{name}", spec)

    # --- hub URLs in strings ------------------------------------------------------------------------

    def strings(self, found: _Nodes, unit: Unit) -> None:
        """Hub URLs in the unit's strings but its docstrings; one search over every string value
        first, since most files have no hub URL in any string."""
        values = "\n".join(node.value for node in found.strings if type(node) is ast.Constant)  # type: ignore[misc]
        if URL_MARKERS.search(values):
            for string in found.strings:
                if id(string) not in found.docstrings:
                    self.string(string, unit)

    def string(self, node: ast.Constant | ast.JoinedStr, unit: Unit) -> None:
        if isinstance(node, ast.JoinedStr):
            text = "".join(part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else "{}" for part in node.values)
            start = unit.offset(node)
            self.report([_moved(problem, start) for problem in self.judge.urls(text)], unit)
            return
        value = node.value
        if not isinstance(value, str):  # `_collect` keeps only str constants
            return
        problems = self.judge.urls(value)
        if not problems:
            return
        start, end = unit.offset(node), unit.end_offset(node)
        for problem in problems:
            fragment = value[problem.offset : problem.offset + 24]
            found = unit.text.find(fragment, start, max(end, start + 1)) if fragment else -1
            self.report([_moved(problem, found if found != -1 else start)], unit)


# A name that says it holds a folder (`model_dir`, `self.tokenizer_dir`, `original_save_dir`,
# `ckpt_folder`): llm-foundry's `from_pretrained(original_save_dir, trust_remote_code=True)` loads
# what it saved there, ms-swift's `model_dir` what it downloaded itself (judged where it downloads)
_FOLDER_NAME = re.compile(r"(?:dir|directory|folder)$", re.IGNORECASE)


def _callee_name(qualified: str) -> str:
    """The last part of a call's dotted name (`transformers.AutoConfig()` -> `AutoConfig`)."""
    return qualified.replace("()", "").rsplit(".", 1)[-1]


def _moved(problem: Problem, offset: int) -> Problem:
    return Problem(problem.rule, problem.message, offset, problem.severity)


def scan_units(judge: Judge, units: list[Unit], whole_text: str, flow: NameFlow | None = None) -> list[Finding | Note]:
    """Hub references in `units`; `flow` is their names, collected once for every hook
    (`python_flow.file_flow`/`notebook_flow`: units indexed and owned as there), else collected here."""
    if not units:
        return []
    try:
        return PythonScan(judge, whole_text, flow).scan(units)
    except RecursionError:
        raise ScanError("Python source nested too deeply to analyse") from None
