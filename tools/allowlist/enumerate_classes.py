"""Every class (and pickle rebuild function) a package defines, found by importing its modules.

Runs under Python 3.7 to 3.13 (see generate.py): keep it 3.7-compatible.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import sys
import warnings

# Module name components that are tests, test helpers, build scripts or file readers: never enumerated.
SKIPPED_COMPONENTS = {"tests", "test", "testing", "_testing", "conftest", "benchmarks", "io", "setup"}

# Whole subpackages left out of the enumeration, with why (what is in them is not model data).
SKIPPED_MODULES = {
    "sklearn.externals": "vendored third-party code (array-api-compat for torch/cupy/dask, packaging, arff)",
    "sklearn.datasets": "dataset loaders and downloaders (read files, open network connections)",
    "sklearn.utils._mocking": "test doubles",
    "sklearn.utils.mocking": "test doubles (scikit-learn < 0.22)",
    "sklearn._build_utils": "build helpers that compile C code",
    "sklearn.__check_build": "build check",
    "sklearn.experimental": "import switches, no classes",
    "pandas.io": "file readers and writers",
    "pandas.plotting": "matplotlib plotting backends",
    "pandas.core.computation": "expression evaluation (pandas.eval)",
    "pandas.util._tester": "test runner",
    "pandas.compat.pickle_compat": "pandas' own unpickler",
    "pandas._config.localization": "changes the process locale",
    "xgboost.dask": "distributed training on a dask cluster (network)",
    "xgboost.spark": "distributed training on Spark (network)",
    "xgboost.tracker": "RabitTracker: opens a network server",
    "xgboost.collective": "collective communicator: opens network connections",
    "xgboost.federated": "federated learning server (network)",
    "xgboost.rabit": "collective communicator (network)",
    "xgboost.plotting": "matplotlib/graphviz plotting",
    "xgboost.libpath": "native library lookup",
    "lightgbm.dask": "distributed training on a dask cluster (network)",
    "lightgbm.plotting": "matplotlib/graphviz plotting",
    "lightgbm.compat": "placeholders for optional dependencies: with dask/pyarrow installed the names are dask's Client "
    "(network) and pyarrow objects",
    "sklearn.callback._progressbar": "terminal progress bar (rich) that runs a refresh thread",
    "sklearn.utils.estimator_checks": "test helpers",
    "sklearn.utils._unittest_backport": "test helpers",
    "omegaconf.grammar": "ANTLR-generated interpolation lexer/parser",
    "omegaconf.grammar_parser": "interpolation parser",
    "omegaconf.grammar_visitor": "interpolation evaluator (calls resolvers)",
    "omegaconf.resolvers": "interpolation resolvers (read environment variables)",
    "omegaconf.vendor": "vendored ANTLR runtime (its FileStream and StdinStream read input)",
}

# Base classes whose instances do I/O (joblib.Memory creates its cache folder), run processes or threads, touch
# raw memory or unpickle: they and their subclasses are left out.
_RISKY_BASES = (
    ("pickle", "Pickler"),
    ("pickle", "Unpickler"),
    ("pickle", "_Pickler"),
    ("pickle", "_Unpickler"),
    ("io", "IOBase"),
    ("threading", "Thread"),
    ("subprocess", "Popen"),
    ("socket", "socket"),
    ("multiprocessing.process", "BaseProcess"),
    ("concurrent.futures", "Executor"),
    ("logging", "Handler"),
    ("zipfile", "ZipFile"),
    ("tarfile", "TarFile"),
    ("joblib", "Parallel"),
    ("joblib", "Memory"),
    ("tempfile", "TemporaryDirectory"),
    ("tempfile", "SpooledTemporaryFile"),
    ("weakref", "finalize"),
    ("ctypes", "Structure"),
    ("ctypes", "Union"),  # raw native memory layouts (pointer fields)
    ("xgboost.core", "DMatrix"),
    ("xgboost.core", "DataIter"),  # read data files or iterate user callbacks
)

REBUILD_FUNCTION = re.compile(r"^(__pyx_unpickle_\w+|_?_?\w*unpickle\w*|_new_\w+|_reconstruct\w*|newObj|__\w+_ctor)$")


def _risky_bases() -> tuple:
    bases = []
    for module, name in _RISKY_BASES:
        try:
            bases.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(bases)


def skipped(module_name: str) -> str | None:
    """Why `module_name` is not enumerated, or None."""
    parts = module_name.split(".")
    for part in parts:
        if part in SKIPPED_COMPONENTS or part.endswith("_io") or part.startswith(("test_", "_test")):
            return "tests or file readers"
    for prefix, reason in SKIPPED_MODULES.items():
        if module_name == prefix or module_name.startswith(prefix + "."):
            return reason
    return None


def modules_of(package_name: str) -> list:
    """The package and every submodule that is not skipped and imports cleanly."""
    found = []
    pending = [package_name]
    while pending:
        name = pending.pop()
        if skipped(name):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                module = importlib.import_module(name)
        except BaseException as error:  # optional dependencies missing, SystemExit in scripts
            why = str(error).splitlines()[0] if str(error) else type(error).__name__
            sys.stderr.write(f"enumerate: {name} not imported: {why}\n")
            continue
        found.append(module)
        for info in pkgutil.iter_modules(getattr(module, "__path__", None) or [], name + "."):
            pending.append(info.name)
    return found


def resolves_to(module_name: str, qualname: str, obj: object) -> bool:
    """Whether find_class(module_name, qualname) yields `obj` (the name a pickle writes really names it)."""
    try:
        target = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except Exception:
        return False
    return target is obj


def defined_in(cls: type, package_name: str) -> str | None:
    """The dotted module of the file that defines `cls`'s methods (a class may name another `__module__`)."""
    package = importlib.import_module(package_name.split(".")[0])
    root = os.path.dirname(os.path.abspath(package.__file__))
    for value in vars(cls).values():
        code = getattr(getattr(value, "__func__", value), "__code__", None)
        if code is None:
            continue
        path = os.path.abspath(code.co_filename)
        if path.startswith(root + os.sep):
            relative = os.path.splitext(os.path.relpath(path, os.path.dirname(root)))[0]
            return relative.replace(os.sep, ".")
    return None


def classes_and_rebuilders(package_name: str):
    """Yield ('class' | 'rebuild' | 'risky', module, qualname) for what `package_name` defines."""
    risky = _risky_bases()
    for module in modules_of(package_name):
        name = module.__name__
        namespace = dict(vars(module))
        for attribute, value in sorted(namespace.items()):
            if inspect.isclass(value):
                # A Cython module may register itself under its build name too (scikit-learn 1.5's `_loss`).
                if value.__module__ != name and sys.modules.get(value.__module__) is not module:
                    continue
                if not resolves_to(value.__module__, value.__qualname__, value):
                    continue
                source = defined_in(value, package_name)
                if source is not None and skipped(source):
                    continue  # re-exported under another module name (pandas.api.typing.JsonReader)
                try:
                    is_risky = issubclass(value, risky)
                except TypeError:
                    is_risky = False
                yield ("risky" if is_risky else "class"), value.__module__, value.__qualname__
            elif callable(value) and REBUILD_FUNCTION.match(attribute):
                owner = getattr(value, "__module__", None) or name
                if owner != name and sys.modules.get(owner) is not module:
                    continue
                if attribute.startswith("__pyx_unpickle_"):
                    companion = namespace.get(attribute[len("__pyx_unpickle_") :])
                    if not inspect.isclass(companion):
                        continue  # Cython internals (the memoryview Enum), no class of this module
                yield "rebuild", owner, attribute
