"""Which objects a pickle may call: the known-dangerous ones, and the exact objects ML libraries need.

How CPython resolves a global: `find_class(module, name)` imports `module`, then walks `name`
attribute by attribute (protocol 4 and later; mlgate judges every pickle so, whatever its
protocol). Whatever a module imports is one of its attributes, so `sklearn.utils` +
`subprocess.Popen` is `subprocess.Popen`. A global is judged by its whole resolved path:

- ALLOWED: exact (module, qualname) objects listed in `allowlist/*.txt`, each group with the
  reason constructing or calling them only rebuilds data. The base is what PyTorch's
  `weights_only` unpickler accepts; the other files are documented additions (NumPy, pandas,
  scikit-learn, ...). Nothing is allowed by prefix or by the shape of a name, except TorchScript's
  `__torch__` namespace: its classes are compiled from the archive's own code (reported as
  MOD006) and Python cannot import them.
- DANGEROUS (critical): a path that starts with a dangerous module or callable, or reaches one
  further on (`mypkg.errors.ctypes.CDLL`, `six.moves.builtins.eval`), an internal attribute
  (`__globals__`), or a dangerous callable name anywhere in its attribute chain (`.system`,
  `.Popen`). The table gathers the callables of published scanner bypasses (picklescan,
  modelscan, fickling and modelaudit advisories, e.g. CVE-2025-1716 `pip.main`, CVE-2025-10155
  file writes, GHSA-vvpj-8cmc-gx39 `pkgutil.resolve_name`) and the classes of harm behind them.
- everything else UNKNOWN (high when called): a reviewer can add it with `allowed-callables`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from functools import lru_cache
from pathlib import Path

_PROCESS = "runs processes or shell commands"
_EVAL = "evaluates or compiles code"
_IMPORT = "imports modules or resolves names at load time"
_ATTRIBUTE = "reaches arbitrary attributes (getattr-style gadget)"
_NESTED = "loads a nested pickle or another executable format"
_CARRIED_CODE = "rebuilds functions or code objects the pickle carries (cloudpickle, dill): what they run is in the file"
_NETWORK = "opens network connections"
_FILES = "reads, writes or deletes files"
_RUNNER = "debugger, profiler or test runner that executes code strings"
_PACKAGES = "installs packages or builds environments"
_NATIVE = "loads native code or touches raw memory"
_INTERPRETER = "changes the running interpreter or registers code to run later"
_WRAPPER = "wraps another callable so it runs later (partial, operator getters)"
_PICKLE_STATE = "tampers with pickle's own registries"
_CALLS_GIVEN = "calls the callable it is given when its result is used"


# The classes of harm, worst first: a finding that groups several dangerous callables of one
# pickle leads with the worst (running a process before wrapping a callable for later).
HARM_ORDER = (
    _PROCESS,
    _EVAL,
    _CARRIED_CODE,
    _NATIVE,
    _PACKAGES,
    _IMPORT,
    _NESTED,
    _NETWORK,
    _FILES,
    _RUNNER,
    _ATTRIBUTE,
    _INTERPRETER,
    _PICKLE_STATE,
    _WRAPPER,
    _CALLS_GIVEN,
)


def harm_rank(reason: str) -> int:
    """Where a `dangerous_reason` stands in HARM_ORDER (0 is the worst); reasons of no class
    there (an internal attribute) rank after all of them."""
    return next((rank for rank, harm in enumerate(HARM_ORDER) if reason.startswith(harm)), len(HARM_ORDER))


def _entries(reason: str, names: str) -> dict[str, str]:
    return dict.fromkeys(names.split(), reason)


DANGEROUS: dict[str, str] = {
    **_entries(
        _PROCESS,
        """
        os posix nt _posixsubprocess _winapi subprocess pty commands popen2 platform pipes
        multiprocessing _multiprocessing concurrent.futures.process concurrent.futures.ProcessPoolExecutor
        asyncio _osx_support _aix_support builtins.help
        pexpect ptyprocess sh plumbum invoke fabric paramiko mailcap imaplib.IMAP4_stream
        uuid._get_command_stdout uuid._popen uuid._find_mac uuid._find_mac_near_keyword
        uuid._find_mac_under_heading uuid._ifconfig_getnode uuid._ip_getnode uuid._arp_getnode
        uuid._lanscan_getnode uuid._netstat_getnode uuid._ipconfig_getnode uuid.getnode
        torch.utils.collect_env torch.utils.bottleneck torch.multiprocessing
    """,
    ),
    **_entries(
        _EVAL,
        """
        builtins.eval builtins.exec builtins.execfile builtins.compile builtins.input
        builtins.raw_input builtins.breakpoint builtins.__build_class__ __builtins__ code codeop types.CodeType
        types.FunctionType types.LambdaType types.MethodType types.new_class types.coroutine
        rlcompleter _pyrepl IPython numpy.f2py numpy.testing numpy.distutils
        _interpreters _xxsubinterpreters concurrent.interpreters pandas.eval pandas.core.computation
        torch.fx.graph_module torch.fx.experimental.symbolic_shapes torch.jit torch._dynamo
        torch._inductor torch.package torch.utils.cpp_extension torch.utils._config_module
        torch.utils.data.datapipes.utils.decoder torch.utils.benchmark torch.testing
        keras.saving keras.src.saving keras.models.load_model tensorflow.keras.models.load_model
        tensorflow.saved_model.load transformers.dynamic_module_utils sklearn.utils._testing
    """,
    ),
    **_entries(
        _IMPORT,
        """
        builtins.__import__ importlib importlib_metadata importlib_resources _frozen_importlib
        _frozen_importlib_external _imp imp pkgutil zipimport runpy pydoc pkg_resources
        logging.config hydra.utils.get_method hydra.utils.get_class hydra.utils.get_object
        hydra.utils.call hydra.utils.instantiate hydra._internal.utils hydra._internal.instantiate
    """,
    ),
    **_entries(
        _ATTRIBUTE,
        """
        builtins.getattr builtins.setattr builtins.delattr builtins.hasattr builtins.globals
        builtins.locals builtins.vars builtins.dir builtins.apply inspect gc sys
    """,
    ),
    **_entries(
        _NESTED,
        """
        pickle _pickle cPickle dill cloudpickle jsonpickle shelve marshal numpy.load
        numpy.lib.npyio numpy.lib._npyio_impl numpy.lib.format numpy.lib._format_impl
        torch.load torch.serialization.load torch.serialization._load torch.storage._load_from_bytes
        torch.hub joblib.load joblib.numpy_pickle.load joblib.numpy_pickle._unpickle
        joblib.numpy_pickle_compat.load_compatibility joblib.externals pandas.read_pickle pandas.io
        pandas.HDFStore pandas.ExcelFile pandas.ExcelWriter
        sklearn.externals.joblib.load sklearn.externals.joblib.numpy_pickle.load
        yaml.load yaml.load_all yaml.unsafe_load yaml.unsafe_load_all yaml.full_load
        yaml.full_load_all yaml.Loader yaml.UnsafeLoader yaml.FullLoader yaml.constructor
    """,
    ),
    **_entries(  # more exact than their packages' _NESTED entries: what these rebuild is the payload itself
        _CARRIED_CODE,
        """
        dill._dill._create_function dill._dill._create_code dill._dill._create_type
        cloudpickle.cloudpickle._builtin_type cloudpickle.cloudpickle._make_function
        cloudpickle.cloudpickle._make_skel_func cloudpickle.cloudpickle._fill_function
        cloudpickle.cloudpickle._function_setstate cloudpickle.cloudpickle_fast._function_setstate
    """,
    ),
    **_entries(
        _NETWORK,
        """
        socket _socket ssl _ssl http.client http.server urllib.request urllib.robotparser
        urllib2 httplib requests httpx urllib3 aiohttp websocket websockets pycurl ftplib
        smtplib smtpd poplib nntplib telnetlib xmlrpc socketserver asyncore asynchat imaplib select selectors
        webbrowser antigravity wsgiref huggingface_hub torch.distributed.rpc numpy.lib._datasource
        numpy.DataSource transformers.utils.hub
    """,
    ),
    **_entries(
        _FILES,
        """
        builtins.open builtins.file io.open io.open_code io.FileIO _io.open _io.open_code _io.FileIO
        codecs.open shutil tempfile fileinput filecmp tarfile zipfile distutils setuptools glob syslog
        py_compile compileall linecache dbm sqlite3 _sqlite3 readline gzip.open gzip.GzipFile
        bz2.open bz2.BZ2File lzma.open lzma.LZMAFile logging.FileHandler logging.basicConfig
        logging.handlers numpy.save numpy.savez numpy.savez_compressed numpy.savetxt
        numpy.loadtxt numpy.genfromtxt numpy.fromregex numpy.fromfile numpy.tofile
    """,
    ),
    **_entries(_RUNNER, "pdb bdb cProfile _lsprof profile trace timeit doctest unittest test idlelib lib2to3"),
    **_entries(_PACKAGES, "pip ensurepip venv virtualenv site sitecustomize _distutils_hack"),
    **_entries(_NATIVE, "ctypes _ctypes cffi mmap numpy.ctypeslib"),
    **_entries(
        _INTERPRETER,
        """
        atexit signal _signal threading _thread sched weakref.finalize faulthandler winreg _winreg
        resource builtins.exit builtins.quit
    """,
    ),
    **_entries(_WRAPPER, "functools _functools operator _operator"),
    **_entries(
        _CALLS_GIVEN,
        """
        builtins.map builtins.filter builtins.iter builtins.next itertools.starmap itertools.accumulate
        itertools.groupby itertools.filterfalse itertools.takewhile itertools.dropwhile
    """,
    ),
    **_entries(
        _PICKLE_STATE,
        """
        copyreg.add_extension copyreg.remove_extension copyreg.clear_extension_cache copyreg.pickle
        copyreg.constructor copyreg._inverted_registry copyreg._extension_registry
        copyreg._extension_cache copyreg.dispatch_table
    """,
    ),
}

# Harmless corners of dangerous modules: `os.path` only computes paths, TorchScript's
# pickles rebuild lists and type tags with `torch.jit._pickle`. (Single harmless objects of
# dangerous modules, such as requests' Response, are exact allowlist entries instead.)
NOT_DANGEROUS = frozenset({"os.path", "torch.jit._pickle"})

# Callables that are dangerous under any module: reached as an attribute anywhere in the chain
# (`mypkg.utils.os.system`, `errors.ctypes.CDLL`) they are what the pickle runs.
DANGEROUS_NAMES: dict[str, str] = {
    **_entries(
        _PROCESS,
        """
        system popen popen2 popen3 popen4 Popen spawnl spawnle spawnlp spawnlpe spawnv spawnve spawnvp
        spawnvpe execl execle execlp execlpe execv execve execvp execvpe fork forkpty posix_spawn
        posix_spawnp startfile kill killpg call check_call check_output getoutput getstatusoutput
        run_path run_module
    """,
    ),
    **_entries(_EVAL, "eval exec execfile compile breakpoint"),
    **_entries(_IMPORT, "__import__ import_module reload resolve_name find_spec load_module exec_module"),
    **_entries(_ATTRIBUTE, "getattr setattr delattr globals locals vars attrgetter methodcaller"),
    **_entries(_NATIVE, "CDLL PyDLL WinDLL OleDLL LibraryLoader cdll pydll windll oledll dlopen LoadLibrary"),
    **_entries(_NETWORK, "urlopen urlretrieve create_connection"),
    **_entries(_WRAPPER, "partial partialmethod"),
}

# Where these names stand in a module path (`scipy.signal`, `mypkg.test`), they are a
# package's own submodule, not the standard-library module: `import a.signal` cannot yield
# `signal`. In the attribute chain they are judged like any other name.
SUBMODULE_NAMES = frozenset(
    """
    signal test profile trace code platform site select sh glob resource sched commands invoke
    fabric inspect operator functools gc timeit
""".split()
)

# Methods reached through a dotted name (`numpy.ndarray.tofile`, `pathlib.Path.write_text`):
# the last component decides, whatever class it hangs from.
DANGEROUS_METHODS: dict[str, str] = {
    **_entries(
        _FILES,
        """
        tofile dump write_text write_bytes unlink rmdir rmtree rename touch mkdir chmod
        symlink_to hardlink_to open read_text read_bytes save to_pickle from_file
    """,
    ),
    **_entries(_EVAL, "eval exec compile runcode runsource runcommand query"),
    **_entries(_PROCESS, "system popen spawn run_path run_module"),
    **_entries(_NESTED, "load loads load_model from_pretrained"),
}

ALLOWLIST_FOLDER = Path(__file__).parent / "allowlist"
TORCHSCRIPT_NAMESPACE = "__torch__"


def _read_allowlist(folder: Path) -> dict[tuple[str, str], str]:
    """{(module, qualname): reason} from the allowlist files (format: allowlist/README)."""
    entries: dict[tuple[str, str], str] = {}
    for path in sorted(folder.glob("*.txt")):
        reason = ""
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line.startswith("# reason:"):
                reason = line.removeprefix("# reason:").strip()
            elif line and not line.startswith("#"):
                module, _, qualname = line.partition(":")
                entries[(module, qualname)] = reason
    return entries


ALLOWED: dict[tuple[str, str], str] = _read_allowlist(ALLOWLIST_FOLDER)
ALLOWED_NAMES: frozenset[str] = frozenset(f"{module}.{qualname}" for module, qualname in ALLOWED)

# Allowed callables that call the globals passed to them, by argument position: the class
# copyreg._reconstructor instantiates, the function _rebuild_from_type_v2 calls, ...
CALLS_ARGUMENTS: dict[str, tuple[int, ...]] = {
    "copyreg._reconstructor": (0, 1),
    # A partial runs the function it wraps later, when the loaded object is used: that function is
    # judged as called. dill's _create_ftype(ftypeobj, func, args, kwds) builds ftypeobj(func, ...).
    "functools.partial": (0,),
    "dill._dill._create_ftype": (0, 1),
    "copyreg.__newobj__": (0,),
    "copyreg.__newobj_ex__": (0,),
    "collections.defaultdict": (0,),
    "torch._utils._rebuild_from_type": (0, 1),
    "torch._utils._rebuild_from_type_v2": (0, 1),
    "torch._tensor._rebuild_from_type_v2": (0, 1),
    "torch._utils._rebuild_wrapper_subclass": (0,),
    "numpy.core.multiarray._reconstruct": (0,),
    "numpy._core.multiarray._reconstruct": (0,),
    "numpy.core._multiarray_umath._reconstruct": (0,),
    "numpy._core._multiarray_umath._reconstruct": (0,),
    "numpy.core._internal._reconstruct": (0,),  # the name pickles of numpy < 1.0 (Python 2) use
    "numpy._core._internal._reconstruct": (0,),
    "numpy.ma.core._mareconstruct": (0, 1),
    "numpy.random._pickle.__randomstate_ctor": (0, 1),
    "numpy.random._pickle.__bit_generator_ctor": (0,),
    "numpy.random._pickle.__generator_ctor": (0, 1),
    "pandas.core.indexes.base._new_Index": (0,),
    "pandas.core.indexes.datetimes._new_DatetimeIndex": (0,),
    "pandas.core.indexes.period._new_PeriodIndex": (0,),
    "pandas.core.indexes.timedeltas._new_TimedeltaIndex": (0,),
}
_CALLS_FIRST_ARGUMENT = ("newObj", "__pyx_unpickle_")  # sklearn's newObj(cls), Cython unpicklers


class Verdict(Enum):
    DANGEROUS = "dangerous"
    ALLOWED = "allowed"
    UNKNOWN = "unknown"


def allowlisted(name: str, module: str | None = None) -> bool:
    """Whether `name` (resolved from `module`, when known) is exactly an allowlisted object."""
    if module is None:
        return name in ALLOWED_NAMES or name.startswith(TORCHSCRIPT_NAMESPACE + ".")
    if module == TORCHSCRIPT_NAMESPACE or module.startswith(TORCHSCRIPT_NAMESPACE + "."):
        return True
    return (module, name[len(module) + 1 :]) in ALLOWED


@lru_cache(maxsize=4096)
def dangerous_reason(name: str, module: str | None = None) -> str | None:
    """Why invoking (or importing) `name` is dangerous, or None.

    `module` is the part the unpickler imports; the rest of `name` is walked with getattr.
    Unknown (a Hydra `_target_`, a reviewer's entry): everything after the first component
    is judged as an attribute chain, the strictest reading.
    """
    if allowlisted(name, module):
        return None
    parts = name.split(".")
    imported = module.count(".") + 1 if module else 1
    reason = _dangerous_start(parts, 0)
    if reason is not None:
        return reason
    for start in range(1, len(parts)):
        if start < imported and parts[start] in SUBMODULE_NAMES:
            continue
        reason = _dangerous_start(parts, start)
        if reason is not None:
            return f"{reason} (reaches {'.'.join(parts[start:])} through {'.'.join(parts[:start])})"
    for part in parts[1:]:
        if len(part) > 4 and part.startswith("__") and part.endswith("__"):
            return f"reaches the internal attribute {part} (a way to any object)"
    for part in parts[imported:]:
        reason = DANGEROUS_NAMES.get(part)
        if reason is not None:
            return reason
    if len(parts) > 2 and parts[-1] in DANGEROUS_METHODS:
        return DANGEROUS_METHODS[parts[-1]]
    return None


def _dangerous_start(parts: list[str], start: int) -> str | None:
    """The reason of the longest dangerous entry that `parts[start:]` begins with."""
    for end in range(len(parts), start, -1):
        prefix = ".".join(parts[start:end])
        if prefix in NOT_DANGEROUS:
            return None
        reason = DANGEROUS.get(prefix)
        if reason is not None:
            return reason
    return None


class Policy:
    """The verdict on each callable, with the reviewer's `allowed-callables` added."""

    def __init__(self, allowed_callables: Iterable[str] = ()):
        extra = [str(item).strip() for item in allowed_callables]
        self.extra = frozenset(item for item in extra if not item.endswith(".*"))
        self.extra_prefixes = tuple(item[:-1] for item in extra if item.endswith(".*"))

    def verdict(self, name: str, module: str | None = None) -> Verdict:
        if dangerous_reason(name, module) is not None:
            return Verdict.DANGEROUS
        return Verdict.ALLOWED if self.allowed(name, module) else Verdict.UNKNOWN

    def allowed(self, name: str, module: str | None = None) -> bool:
        if allowlisted(name, module) or name in self.extra:
            return True
        return bool(self.extra_prefixes) and name.startswith(self.extra_prefixes)

    def calls_arguments(self, callee: str) -> tuple[int, ...]:
        """The argument positions at which the allowed callable `callee` calls a global it is given."""
        positions = CALLS_ARGUMENTS.get(callee)
        if positions is not None:
            return positions
        last = callee.rpartition(".")[2]
        return (0,) if last.startswith(_CALLS_FIRST_ARGUMENT) and self.allowed(callee) else ()
