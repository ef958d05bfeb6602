"""Python files and notebooks that load a file with a loader that runs code (MOD017, MOD018).

Which calls are loaders that run code, and when, is `unsafe_loads.LOADS`. How bad a call is
depends on where the loaded path comes from, followed statically through assignments, `with
open(...) as f`, path functions (`os.path.join`, `Path`, `open`), method chains and aliases
(`python_flow.NameFlow`, shared with the hub hook):

- critical: a download (`hf_hub_download`, `snapshot_download`, `cached_path`, `urlretrieve`,
  `torch.hub.download_url_to_file`, `requests.get` written to a file: `downloads.py`) unless
  from a hub repository pinned to a full commit; a command-line argument (argparse, `sys.argv`,
  click/typer options); an HTTP request (a FastAPI/Flask route's parameter, `flask.request`);
- high: a path that cannot be followed (a function's parameter: a wrapper is reported once, not
  at each caller), a hub download pinned to a commit, a literal path that is not in the
  repository, a checked-in file where the models hook reports more than its format;
- medium: a checked-in file the models hook scans clean (nothing but its pickle format) or that
  is allowlisted by digest: still a pickle, but one that was read.

Not reported: bytes the same program just made (`pickle.loads(pickle.dumps(x))`), a file the
same function saved before loading it (`torch.save(m, p); torch.load(p)`) or that another method
saves to the same attribute of the object (`self.metadata_file`), and, in test and
example folders (the convention of MOD003: fixtures and examples load what they ship), any load
that is not critical. `torch.load` without `weights_only` is judged by the torch the repository
declares (`declared_versions`): from 2.6 the default is True. `torch.load(weights_only=True)`
on a torch held below 2.6 is MOD018 (CVE-2025-32434), naming the pin.
"""

from __future__ import annotations

import ast
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from mlgate import notebook, python_ast, python_flow
from mlgate.declared_versions import Declared, declared
from mlgate.downloads import download_kind, is_test_fixture
from mlgate.files import ScanError, SourceFile, display_path, is_example_path, is_test_path
from mlgate.findings import Finding, Severity
from mlgate.hook import ScanContext, Scanner
from mlgate.identity import path_in_repository, repository_root
from mlgate.models import scanner as model_scanner
from mlgate.models.rules import PICKLE_FORMAT, UNSAFE_LOAD_CALL, WEIGHTS_ONLY_BYPASS
from mlgate.models.unsafe_loads import DUMPS, SAVES, TORCH_LOAD, Unsafe, UnsafeLoad, unsafe_load_for
from mlgate.problem import Place, Problem, is_full_sha, placer
from mlgate.python_flow import MAX_RESOLVE_DEPTH, UNKNOWN, Key, NameFlow

# Text without any of these cannot call a loader `unsafe_loads` knows (an alias still names its module).
_MARKERS = ("torch", "pickle", "Pickle", "joblib", "dill", "numpy", "np.", "keras", "read_pickle", "use_safetensors", "PackageImporter")
FIXED_TORCH = (2, 6)  # torch.load defaults to weights_only=True, and CVE-2025-32434 is fixed
_ARGUMENT_OBJECTS = frozenset({"args", "opt", "opts", "flags", "FLAGS", "cli_args", "arguments", "parsed_args", "options"})
_ARGUMENT_PARSERS = ("parse_args", "parse_known_args", "parse_intermixed_args")
_ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "route", "api_route", "websocket"})
# Calls that turn a path (or bytes) into another path, file or buffer: where it comes from is where their arguments come from.
_PATH_CALLS = frozenset(
    {
        "open", "io.open", "str", "bytes", "os.fspath", "os.fsdecode", "io.BytesIO", "pathlib.Path", "pathlib.PurePath",
        "pathlib.PosixPath", "Path", "gzip.open", "bz2.open", "lzma.open", "gzip.GzipFile", "smart_open.open", "fsspec.open",
        "tensorflow.io.gfile.GFile", "tf.io.gfile.GFile",
    }
)  # fmt: skip
_PATH_MODULES = ("os.path.", "posixpath.", "ntpath.", "pathlib.", "shutil.")
_WRITING_DOWNLOADS = frozenset({"urlretrieve", "download_url_to_file"})  # (url, destination path)
# Methods that make a path from anything (`"/".join`, `str.format`, `Path.joinpath`): not a helper naming one file.
_GENERIC_METHODS = frozenset(
    {"join", "joinpath", "format", "replace", "get", "strip", "with_suffix", "with_name", "resolve", "expanduser", "absolute"}
)
_READS = frozenset({"read", "read_bytes", "readall"})  # methods that return a file's bytes
_OPENERS = frozenset({"open", "io.open", "gzip.open", "bz2.open", "lzma.open", "smart_open.open", "fsspec.open"})


@dataclass(frozen=True)
class Origin:
    """Where a loaded path comes from: how bad that is (None: the program's own data, not a load
    from anywhere) and what to say."""

    severity: Severity | None
    says: str
    followed: bool = True  # False: mlgate could not follow the path to where it comes from


UNTRACEABLE = Severity.HIGH


def _unfollowed(says: str) -> Origin:
    """A path mlgate cannot follow to where it comes from (a parameter, an attribute, a call's result)."""
    return Origin(UNTRACEABLE, says, followed=False)


def _worst(origins: list[Origin]) -> Origin | None:
    """The most severe origin (a program's own data only when nothing else is known)."""
    known = [origin for origin in origins if origin.severity is not None]
    if known:
        return max(known, key=lambda origin: origin.severity or 0)
    return origins[0] if origins else None


@dataclass
class _Unit:
    """Parsed Python: a file, or one notebook cell, with the nodes the scan reads (shared lists of
    the parse's index by type: read, never changed)."""

    index: int
    module: python_ast.PythonModule
    place: Place
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef]
    calls: list[ast.Call]
    withs: list[ast.With | ast.AsyncWith]


class LoadScan:
    def __init__(self, source: SourceFile, context: ScanContext, units: list[_Unit], flow: NameFlow):
        self.source, self.context, self.units = source, context, units
        self.flow = flow  # the file's names, collected once for every hook (`python_flow`): read, never changed
        self._unit_of = {id(unit.module): unit for unit in units}  # a binding's owner (its module) -> its unit
        self.argument_names: set[str] = set()  # argparse dests (`--model-path` -> model_path)
        self.saves: list[tuple[Key, str]] = []  # (where, what path) files the program writes with a pickle-based saver
        self.written: list[tuple[Key, str, Origin]] = []  # (where, what path, origin) files written from a download
        self.root = repository_root(source.abspath.parent) or source.abspath.parent
        self.in_repository = path_in_repository(source)
        self._torch: list[Declared] | None = None

    # --- collection -------------------------------------------------------------------------------

    def run(self) -> list[Finding]:
        calls = [(call, unit) for unit in self.units for call in unit.calls]
        for call, unit in calls:
            self._collect(call, unit)
        for unit in self.units:
            for node in unit.withs:
                self._collect_written(node, unit)
        found: list[Finding] = []
        for call, unit in calls:
            problem = self.judge(call, unit)
            if problem is not None:
                finding = unit.place(problem)
                assert isinstance(finding, Finding)
                found.append(finding)
        return found

    def _collect(self, call: ast.Call, unit: _Unit) -> None:
        qualified = self.flow.qualified(call.func) or ""
        at = self._key(call, unit)
        if qualified.endswith(".add_argument"):
            names = [arg.value for arg in call.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
            dest = next((k.value.value for k in call.keywords if k.arg == "dest" and isinstance(k.value, ast.Constant)), None)
            long_names = [name for name in names if name.startswith("--")] or names
            if isinstance(dest, str):
                self.argument_names.add(dest)
            elif long_names:
                self.argument_names.add(long_names[0].lstrip("-").replace("-", "_"))
        elif qualified in SAVES and len(call.args) > SAVES[qualified]:
            self.saves.append((at, self._path_key(call.args[SAVES[qualified]], at)))
        elif isinstance(call.func, ast.Attribute) and call.func.attr == "to_pickle" and call.args:
            self.saves.append((at, self._path_key(call.args[0], at)))
        elif (
            qualified.rsplit(".", 1)[-1] in _WRITING_DOWNLOADS or qualified == "wget.download"
        ):  # `urlretrieve(url, "m.pt")`: the path holds a download
            destination = call.args[1] if len(call.args) > 1 else None
            destination = next((k.value for k in call.keywords if k.arg in ("dst", "filename", "out")), destination)
            if destination is not None:
                self.written.append((at, self._path_key(destination, at), self._download_origin(call, qualified, at)))

    def _collect_written(self, node: ast.With | ast.AsyncWith, unit: _Unit) -> None:
        """`with open(p, "wb") as f: f.write(requests.get(url).content)`: `p` holds a download."""
        for item in node.items:
            opened = item.context_expr
            if not (isinstance(opened, ast.Call) and self.flow.qualified(opened.func) in _OPENERS and opened.args):
                continue
            mode = opened.args[1] if len(opened.args) > 1 else next((k.value for k in opened.keywords if k.arg == "mode"), None)
            if not (isinstance(mode, ast.Constant) and isinstance(mode.value, str) and "w" in mode.value):
                continue
            if not isinstance(item.optional_vars, ast.Name):
                continue
            handle = item.optional_vars.id
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Attribute)
                    and inner.func.attr == "write"
                    and isinstance(inner.func.value, ast.Name)
                    and inner.func.value.id == handle
                    and inner.args
                ):
                    at = self._key(inner, unit)
                    written = inner.args[0]
                    if isinstance(written, ast.Call) and self.flow.qualified(written.func) in DUMPS:  # `f.write(pickle.dumps(obj))`
                        self.saves.append((at, self._path_key(opened.args[0], at)))
                        continue
                    origin = self.origin(written, at, unit)
                    if origin is not None and origin.severity is Severity.CRITICAL:
                        self.written.append((at, self._path_key(opened.args[0], at), origin))

    # --- judging a call -------------------------------------------------------------------------

    def judge(self, call: ast.Call, unit: _Unit) -> Problem | None:
        qualified = self.flow.qualified(call.func) or ""
        load = unsafe_load_for(qualified)
        if load is None:
            return None
        at = self._key(call, unit)
        keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg is not None}
        open_keywords = any(keyword.arg is None for keyword in call.keywords)  # `**kwargs`: the flag may be in there
        how = self._unsafe(load, keywords, open_keywords, at)
        if how is None:
            return None
        argument = self._argument(call, load)
        origin = self._origin_of_load(argument, load, keywords, at, unit) if argument is not None else None
        if origin is None:
            shown = ast.unparse(argument) if argument is not None else ""
            origin = _unfollowed(f"that mlgate cannot follow ({shown[:60] or 'no path argument it reads'})")
        if origin.severity is None:
            return None  # the program's own data
        in_memory = load.data or self._is_buffer(argument, at)  # bytes, or a file object made of bytes (`io.BytesIO(data)`)
        if in_memory and not origin.followed and not self._reads_file(argument, at):
            # Bytes from a queue, a socket, a cache or a caller: often the program's own messages, sometimes a
            # request's body one call away (BentoML's payloads). Below a path nobody follows, above nothing.
            origin = Origin(Severity.MEDIUM, origin.says, followed=False)
            if self._between_ranks(call, unit):
                return None  # what the program's own processes sent each other (torch's own `broadcast_object_list` does this)
        if self._loads_own_save(argument, at, unit):
            return None
        if origin.severity is not Severity.CRITICAL and (is_test_path(self.in_repository) or is_example_path(self.in_repository)):
            return None  # a fixture or an example loading what it ships (MOD003's convention)
        line = call.lineno
        if how == "bypass":
            pin = self._torch_pin_below()
            assert pin is not None  # `_unsafe` said so
            message = (
                f"torch.load(weights_only=True) at line {line} loads a path {origin.says}, with torch held to `{pin.text}` "
                f"({display_path(pin.path)}:{pin.line}): before torch 2.6.0 weights_only=True can be bypassed to run code "
                "(CVE-2025-32434, GHSA-53q9-r3pm-6pq6)"
            )
            return Problem(WEIGHTS_ONLY_BYPASS, message, unit.module.offset(call), origin.severity)
        loaded = "bytes" if in_memory else "a path"
        message = f"{load.name}{how} at line {line} loads {loaded} {origin.says}: it runs any code the file names; fix: {load.fix}"
        return Problem(UNSAFE_LOAD_CALL, message, unit.module.offset(call), origin.severity)

    def _unsafe(self, load: UnsafeLoad, keywords: dict[str, ast.expr], open_keywords: bool, at: Key) -> str | None:
        """How the call runs code (' with weights_only=False', ...), 'bypass' for MOD018, or None when it does not."""
        if load.unsafe is Unsafe.ALWAYS:
            return ""
        flag = keywords.get(load.flag)
        value = self.flow.literal(flag, at) if flag is not None else None
        if flag is not None and value is UNKNOWN:
            return None  # decided by whoever calls this code: judged there, where it is literal
        if load.unsafe is Unsafe.UNLESS_TRUE:
            if value is True:
                return "bypass" if load is TORCH_LOAD and self._torch_pin_below() is not None else None
            if flag is None and open_keywords:
                return None
            if flag is None:
                if self._torch_from_fixed():
                    return None  # the repository requires torch>=2.6, where weights_only defaults to True
                return " without weights_only=True (the default before torch 2.6 is False)"
            return f" with {load.flag}={value}"
        if load.unsafe is Unsafe.WHEN_TRUE:
            return f" with {load.flag}=True" if value is True else None
        return f" with {load.flag}=False" if value is False else None

    def _argument(self, call: ast.Call, load: UnsafeLoad) -> ast.expr | None:
        if load.receiver:
            inner = call.func.value if isinstance(call.func, ast.Attribute) else None
            call = inner if isinstance(inner, ast.Call) else call
        for keyword in call.keywords:
            if keyword.arg in load.keywords:
                return keyword.value
        if load.position is not None and len(call.args) > load.position and not isinstance(call.args[load.position], ast.Starred):
            return call.args[load.position]
        return None

    def _origin_of_load(self, argument: ast.expr, load: UnsafeLoad, keywords: dict[str, ast.expr], at: Key, unit: _Unit) -> Origin | None:
        if load.flag == "use_safetensors":  # from_pretrained: a hub repository or a local folder
            value = self.flow.literal(argument, at)
            if isinstance(value, str) and not self._in_repository(value) and value.count("/") == 1 and not value.startswith((".", "/")):
                revision = self.flow.literal(keywords.get("revision"), at)
                if isinstance(revision, str) and is_full_sha(revision):
                    return Origin(Severity.HIGH, f"from hub repository {value} (pinned to a commit; its pickles are still code)")
                if self._test_fixture(value):
                    return Origin(Severity.HIGH, f"from hub repository {value}, a test fixture, not pinned to a commit")
                return Origin(
                    Severity.CRITICAL, f"from hub repository {value}, not pinned to a commit (anyone with write access can swap it)"
                )
        return self.origin(argument, at, unit)

    # --- where a path comes from ------------------------------------------------------------------

    def origin(self, node: ast.expr, at: Key, unit: _Unit, depth: int = 0) -> Origin | None:
        """Where the value of `node` comes from; None when nothing is known (a constant piece, an unknown call)."""
        if depth > MAX_RESOLVE_DEPTH:
            return None
        written = self._written(node, at)
        if written is not None:
            return written
        if isinstance(node, ast.Name):  # before `literal`, which does not know a function's scope
            return self._name_origin(node, at, unit, depth)
        value = self.flow.literal(node, at)
        if isinstance(value, str):
            return self._literal_origin(value, node)
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            return self._member_origin(node, at, unit, depth)
        if isinstance(node, ast.Call):
            return self._call_origin(node, self.flow.qualified(node.func) or "", at, unit, depth)
        if isinstance(node, (ast.Starred, ast.Await)):
            return self.origin(node.value, at, unit, depth + 1)
        return self._parts_origin(_pieces(node), at, unit, depth) if isinstance(node, _COMPOSITE) else None

    def _member_origin(self, node: ast.Attribute | ast.Subscript, at: Key, unit: _Unit, depth: int) -> Origin | None:
        """`sys.argv[1]`, `request.files["model"]`, `args.model_path`, `self.path`, `Path(p).parent`, `paths[0]`."""
        qualified = self.flow.qualified(node) or ""
        if qualified.startswith("sys.argv"):
            return Origin(Severity.CRITICAL, f"from the command line (sys.argv, line {node.lineno})")
        if qualified.startswith("flask.request."):
            return Origin(Severity.CRITICAL, f"from an HTTP request ({qualified.removeprefix('flask.')}, line {node.lineno})")
        if isinstance(node, ast.Attribute):
            argument = self._argument_attribute(node, at)
            if argument is not None:
                return argument
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                return _unfollowed(f"that mlgate cannot follow ({node.value.id}.{node.attr}, line {node.lineno})")
        return self.origin(node.value, at, unit, depth + 1)

    def _parts_origin(self, parts: list[ast.expr], at: Key, unit: _Unit, depth: int) -> Origin | None:
        """The worst origin of the pieces a path is built from (constant pieces say nothing)."""
        origins = [
            origin
            for part in parts
            if not isinstance(part, ast.Constant) and (origin := self.origin(part, at, unit, depth + 1)) is not None
        ]
        return _worst(origins)

    def _name_origin(self, node: ast.Name, at: Key, unit: _Unit, depth: int) -> Origin | None:
        function = self._function_at(unit, at[1])
        binding = (
            self.flow.binding(node.id, at, within=(unit.index, function.lineno, function.end_lineno or function.lineno))
            if function
            else None
        )
        if binding is None and function is not None and node.id in _parameters(function):
            return self._parameter_origin(node.id, function)
        if binding is None:
            binding = self.flow.binding(node.id, at)
            if binding is not None and self._function_at(self._unit_of[id(binding.owner)], binding.key[1]) not in (None, function):
                binding = None  # a local of another function
        if binding is None:
            return None
        if binding.value is not None:
            return self.origin(binding.value, binding.key, self._unit_of[id(binding.owner)], depth + 1)
        if binding.opened is not None:
            return self.origin(binding.opened, binding.key, self._unit_of[id(binding.owner)], depth + 1)
        owner = self._unit_of[id(binding.owner)]
        grown = self._augmented(owner, binding.key)
        if grown is not None:  # `data += chunk`: the bytes are what is added to them
            return self.origin(grown, binding.key, owner, depth + 1)
        return _unfollowed(f"that mlgate cannot follow ({node.id}, bound by a loop or unpacking at line {binding.key[1]})")

    def _augmented(self, unit: _Unit, key: Key) -> ast.expr | None:
        """The value an augmented assignment (`data += chunk`) at `key` adds, or None."""
        for node in unit.module.of_type(ast.AugAssign):
            if (node.lineno, node.col_offset) == key[1:] and isinstance(node.op, ast.Add):  # type: ignore[attr-defined]
                return node.value  # type: ignore[attr-defined]
        return None

    def _parameter_origin(self, name: str, function: ast.FunctionDef | ast.AsyncFunctionDef) -> Origin:
        arguments = function.args
        annotation = next((a.annotation for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs] if a.arg == name), None)
        if annotation is not None and (self.flow.qualified(annotation) or "").rsplit(".", 1)[-1] in (
            "Request",
            "HTTPRequest",
            "UploadFile",
        ):
            return Origin(Severity.CRITICAL, f"from an HTTP request ({name}, a parameter of {function.name}(), line {function.lineno})")
        for decorator in function.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            qualified = self.flow.qualified(target) or ""
            if qualified.startswith(("click.", "typer.")) or (qualified.endswith(".command") and "typer" in self.flow.aliases.values()):
                return Origin(Severity.CRITICAL, f"from the command line ({name}, an option of {function.name}(), line {function.lineno})")
            if (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr in _ROUTE_METHODS
                and decorator.args
                and isinstance(decorator.args[0], ast.Constant)
                and isinstance(decorator.args[0].value, str)
                and decorator.args[0].value.startswith("/")
            ):
                route = decorator.args[0].value
                return Origin(Severity.CRITICAL, f"from an HTTP request ({name}, a parameter of route {route}, line {function.lineno})")
        return _unfollowed(f"that mlgate cannot follow (parameter {name} of {function.name}(), line {function.lineno})")

    def _argument_attribute(self, node: ast.Attribute, at: Key) -> Origin | None:
        """`args.model_path` where `args = parser.parse_args()` (or an object named `args` and an argparse option `--model-path`)."""
        base = node.value
        if not isinstance(base, ast.Name):
            return None
        bound = self.flow.source_node(base, at)
        if bound is base and base.id in _ARGUMENT_OBJECTS:
            # `def main(args)` called as `main(parse_args())` below: a parameter named like the
            # parsed options is the module's own parsed options when the module parses them
            bound = self.flow.source_node(base, (at[0], sys.maxsize, 0))  # past every function: module level
        if isinstance(bound, ast.Subscript):
            bound = bound.value
        parsed = isinstance(bound, ast.Call) and (self.flow.qualified(bound.func) or "").endswith(_ARGUMENT_PARSERS)
        if parsed or (base.id in _ARGUMENT_OBJECTS and node.attr in self.argument_names):
            return Origin(Severity.CRITICAL, f"from the command line ({base.id}.{node.attr}, line {node.lineno})")
        return None

    def _call_origin(self, node: ast.Call, qualified: str, at: Key, unit: _Unit, depth: int) -> Origin | None:
        plain = qualified.replace("()", "")
        if download_kind(plain) is not None:
            return self._download_origin(node, plain, at)
        if qualified in DUMPS:
            return Origin(None, "")
        if qualified.startswith("flask.request."):
            return Origin(Severity.CRITICAL, f"from an HTTP request ({qualified.removeprefix('flask.')}, line {node.lineno})")
        if isinstance(node.func, ast.Attribute) and node.func.attr in _SOCKET_READS:
            # gpt-neox's data client: `data += s.recv(4096)` from a server it connects to; a listening
            # server's `conn.recv()` from any client. Whoever is at the other end chooses the bytes.
            return Origin(Severity.HIGH, f"received from a network socket ({node.func.attr}() at line {node.lineno})")
        arguments = [*node.args, *(keyword.value for keyword in node.keywords if keyword.arg is not None)]
        if isinstance(node.func, ast.Attribute):  # a method of a path, file or response: `Path(p).joinpath(...)`, `f.read()`
            arguments.append(node.func.value)
        if qualified in _PATH_CALLS or qualified.startswith(_PATH_MODULES):
            literal = self._joined_literal(node, qualified, at)
            if literal is not None:
                return self._literal_origin(literal, node)
            return self._parts_origin(arguments, at, unit, depth) or _unfollowed("that mlgate cannot follow")
        if isinstance(node.func, ast.Attribute):
            method = self._parts_origin(arguments, at, unit, depth)
            if method is not None:
                return method
        name = qualified.replace("()", "").rsplit(".", 1)[-1]
        return _unfollowed(f"that mlgate cannot follow (returned by {name}() at line {node.lineno})")

    def _download_origin(self, node: ast.Call, qualified: str, at: Key) -> Origin:
        short = qualified.rsplit(".", 1)[-1]
        if download_kind(qualified) == "hub":
            repository = self.flow.literal(node.args[0], at) if node.args else UNKNOWN
            repository = next((self.flow.literal(k.value, at) for k in node.keywords if k.arg in ("repo_id", "model_id")), repository)
            revision = next((self.flow.literal(k.value, at) for k in node.keywords if k.arg == "revision"), None)
            named = f"hub repository {repository}" if isinstance(repository, str) else "a hub repository"
            if isinstance(revision, str) and is_full_sha(revision):
                return Origin(Severity.HIGH, f"downloaded by {short}() at line {node.lineno} from {named} pinned to a commit")
            if isinstance(repository, str) and self._test_fixture(repository):
                return Origin(Severity.HIGH, f"downloaded by {short}() at line {node.lineno} from {named}, a test fixture, not pinned")
            return Origin(Severity.CRITICAL, f"downloaded by {short}() at line {node.lineno} from {named}, not pinned to a commit")
        return Origin(Severity.CRITICAL, f"downloaded by {qualified}() at line {node.lineno}")

    def _test_fixture(self, repository: str) -> bool:
        """A test loading a hub repository made for tests (`hf-internal-testing/...`, `tiny-random-...`):
        its maintainers' own fixture, as HUB001 judges it, not someone else's code to guard against."""
        return is_test_path(self.in_repository) and is_test_fixture(repository)

    def _joined_literal(self, node: ast.Call, qualified: str, at: Key) -> str | None:
        """`os.path.join("models", "m.pt")`, `Path("m.pt")`, `open("m.pt")`: the path when every piece is literal."""
        pieces = [piece for arg in node.args if isinstance(piece := self.flow.literal(arg, at), str)]
        if not pieces or len(pieces) != len(node.args):
            return None
        if qualified.endswith("join") or qualified in _PATH_CALLS and qualified not in _OPENERS:
            return os.path.join(*pieces)
        return pieces[0] if qualified in _OPENERS else None

    def _literal_origin(self, value: str, node: ast.expr) -> Origin:
        written = next((origin for _, path, origin in self.written if path == f"literal:{value}"), None)
        if written is not None:
            return written
        if value.startswith(("http://", "https://")):
            return Origin(Severity.CRITICAL, f"from the URL {value} (line {node.lineno})")
        target = self._in_repository(value)
        if target is None:
            return Origin(UNTRACEABLE, f"'{value}' that is not in the repository (line {node.lineno})")
        shown = display_path(target)
        if not target.is_file():
            return Origin(UNTRACEABLE, f"'{value}' ({shown}, a folder, line {node.lineno})")
        reported = self._scanned(target)
        if reported:
            return Origin(Severity.HIGH, f"'{value}', the checked-in {shown} where mlgate reports {', '.join(reported)}")
        return Origin(Severity.MEDIUM, f"'{value}', the checked-in {shown} (scanned by mlgate: only data, or allowlisted by digest)")

    def _in_repository(self, value: str) -> Path | None:
        """The file or folder a literal path names in this repository (beside the code, or from its root)."""
        if not value or "\n" in value or len(value) > 512:
            return None
        for base in (self.source.abspath.parent, self.root, Path.cwd()):
            candidate = Path(os.path.abspath(base / value))
            if (candidate == self.root or self.root in candidate.parents) and candidate.exists():
                return candidate
        return None

    def _scanned(self, target: Path) -> list[str]:
        """The rule codes the models scanner reports for a checked-in file, but its format (MOD003); scanned once per run."""
        try:
            source = self.context.source(target)
            found = self.context.once(model_scanner.PURPOSE, source, lambda s: model_scanner.scan(s, self.context))
        except ScanError as exc:
            return [f"an error ({exc})"]
        return sorted({finding.rule.code for finding in found if finding.rule is not PICKLE_FORMAT})

    def _written(self, node: ast.expr, at: Key) -> Origin | None:
        key = self._path_key(node, at)
        return next((origin for where, path, origin in self.written if path == key and where[0] <= at[0]), None)

    # --- the program's own files --------------------------------------------------------------------

    def _path_key(self, node: ast.expr, at: Key) -> str:
        """What a path expression names, to match a save with a load: a literal, a name, or the expression."""
        for _ in range(MAX_RESOLVE_DEPTH):
            if isinstance(node, ast.Call) and self.flow.qualified(node.func) in _OPENERS and node.args:
                node = node.args[0]
                continue
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _READS:  # `f.read()`: f's file
                node = node.func.value
                continue
            if isinstance(node, ast.Name):
                binding = self.flow.binding(node.id, at)
                if binding is not None and binding.value is None and binding.opened is not None:
                    node, at = binding.opened, binding.key
                    continue
                if binding is not None and isinstance(binding.value, ast.Call):  # `path = cache_path(name)`
                    node, at = binding.value, binding.key
                    continue
            break
        value = self.flow.literal(node, at)
        if isinstance(value, str):
            return f"literal:{value}"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            return f"self:{node.attr}"  # the object's own file (`self.metadata_file`), whichever method uses it
        qualified = self.flow.qualified(node.func) if isinstance(node, ast.Call) else None
        generic = not qualified or qualified in _PATH_CALLS or qualified.startswith(_PATH_MODULES)
        if qualified and not generic and qualified.rsplit(".", 1)[-1] not in _GENERIC_METHODS:
            return f"call:{qualified}"  # a path made by the same helper for the save and the load
        return ast.dump(node)

    def _is_buffer(self, node: ast.expr | None, at: Key) -> bool:
        node = self.flow.source_node(node, at)
        return isinstance(node, ast.Call) and self.flow.qualified(node.func) in ("io.BytesIO", "BytesIO")

    def _reads_file(self, node: ast.expr | None, at: Key) -> bool:
        """Whether bytes given to a `loads` are read from a file (`f.read()`, `open(p).read()`, `Path(p).read_bytes()`)."""
        node = self.flow.source_node(node, at)
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _READS
            and self._path_key(node.func.value, at) != ast.dump(node.func.value)  # something opened, not a socket
        )

    def _loads_own_save(self, argument: ast.expr | None, at: Key, unit: _Unit) -> bool:
        """Whether the program saved to this very path: in the same function (or cell) for a path held
        by a name, anywhere in the module for a literal path, a helper's path or the object's attribute."""
        if argument is None or not self.saves:
            return False
        key = self._path_key(argument, at)
        if key.startswith(("literal:", "call:", "self:")):  # a fixed path, one a helper makes, an attribute of the object:
            return any(path == key for _, path in self.saves)  # the same file wherever in the module it is saved
        function = self._function_at(unit, at[1])  # a path by name: saved in the same function (before or after: a cache)
        first, last = (function.lineno, function.end_lineno or function.lineno) if function else (0, at[1])
        return any(where[0] == at[0] and first <= where[1] <= last and path == key for where, path in self.saves)

    # --- the repository's torch ------------------------------------------------------------------------

    def _torch_declarations(self) -> list[Declared]:
        if self._torch is None:
            root = SourceFile(path=display_path(self.root), abspath=self.root)
            self._torch = self.context.once("models.torch-declared", root, lambda folder: declared(folder.abspath, "torch"))
        return self._torch

    def _torch_pin_below(self) -> Declared | None:
        """The declaration that holds torch below 2.6 (where weights_only=True can be bypassed), if any."""
        return next((pin for pin in self._torch_declarations() if pin.admits_only_below(FIXED_TORCH)), None)

    def _torch_from_fixed(self) -> bool:
        """Whether every declaration of torch requires 2.6 or later (weights_only defaults to True)."""
        pins = self._torch_declarations()
        return bool(pins) and all(pin.admits_only_from(FIXED_TORCH) for pin in pins)

    # --- positions -------------------------------------------------------------------------------------

    def _key(self, node: ast.expr | ast.stmt, unit: _Unit) -> Key:
        return (unit.index, node.lineno, node.col_offset)

    def _between_ranks(self, call: ast.Call, unit: _Unit) -> bool:
        """Whether the function around `call` moves bytes with a `torch.distributed` collective
        (`broadcast`, `all_gather`, `recv`...): unpickling what the program's own ranks sent, the
        way `torch.distributed.broadcast_object_list` does, trusts nothing outside the program."""
        function = self._function_at(unit, call.lineno)
        first, last = (function.lineno, function.end_lineno or function.lineno) if function is not None else (0, 1 << 30)
        return any(first <= other.lineno <= last and self.flow.qualified(other.func) in _COLLECTIVES for other in unit.calls)

    def _function_at(self, unit: _Unit, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The innermost function of `unit` around `line`."""
        around = [f for f in unit.functions if f.lineno <= line <= (f.end_lineno or f.lineno)]
        return max(around, key=lambda f: f.lineno) if around else None


_COMPOSITE = (ast.BinOp, ast.JoinedStr, ast.BoolOp, ast.IfExp)
_SOCKET_READS = frozenset({"recv", "recvfrom", "recv_into", "recvmsg"})  # `socket.socket` methods that return what the peer sent
# `torch.distributed` collectives that fill a tensor with what other ranks of the program sent.
_COLLECTIVES = frozenset(
    f"torch.distributed.{name}"
    for name in (
        "broadcast",
        "all_gather",
        "all_gather_into_tensor",
        "gather",
        "scatter",
        "recv",
        "irecv",
        "all_to_all",
        "all_to_all_single",
    )
)


def _pieces(node: ast.expr) -> list[ast.expr]:
    """What a composite expression (`a / b`, f-string, `a or b`, `a if c else b`) is built from."""
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.JoinedStr):
        return [part.value for part in node.values if isinstance(part, ast.FormattedValue)]
    if isinstance(node, ast.BoolOp):
        return list(node.values)
    if isinstance(node, ast.IfExp):
        return [node.body, node.orelse]
    return []


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    arguments = function.args
    named = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
    return {argument.arg for argument in named if argument is not None}


def _unit(index: int, module: python_ast.PythonModule, place: Place) -> _Unit:
    functions = module.of_type(ast.FunctionDef, ast.AsyncFunctionDef)
    withs = module.of_type(ast.With, ast.AsyncWith)
    return _Unit(index, module, place, functions, module.of_type(ast.Call), withs)  # type: ignore[arg-type]


def worth_parsing(text: str) -> bool:
    return any(marker in text for marker in _MARKERS)


def matches(path: str) -> bool:
    return path.endswith((".py", ".pyw", ".ipynb"))


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    if not worth_parsing(source.text):
        return []
    units: list[_Unit] = []
    if source.path.endswith(".ipynb"):  # cells parsed once for every hook; IPython-only syntax is skipped
        for cell in notebook.python_cells(source):
            if cell.module is not None:
                units.append(_unit(cell.index, cell.module, notebook.cell_placer(source, cell.cell)))
        flow = python_flow.notebook_flow(source)
    else:
        units = [_unit(0, python_ast.module(source), placer(source.path, source.position))]
        flow = python_flow.file_flow(source)
    try:
        return LoadScan(source, context, units, flow).run()
    except RecursionError:
        raise ScanError("Python source nested too deeply to analyse") from None


SCANNER = Scanner("python-loads", matches=matches, scan=scan)
