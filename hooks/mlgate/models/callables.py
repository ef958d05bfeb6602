"""Which callables a pickle may invoke: known-dangerous ones, and the ones ML libraries need.

Names are full dotted paths (`module.qualname`, Python 3 spelling). A DANGEROUS entry covers
everything below it (`importlib` covers `importlib.util.find_spec`), because pickle reaches
attributes through dotted names too (`GLOBAL os\\npath.join` and `os.path\\njoin` are the same
lookup). The list gathers the callables used in published scanner bypasses (picklescan,
modelscan, fickling and modelaudit advisories, e.g. CVE-2025-1716 `pip.main`, CVE-2025-10155
file writes, GHSA-vvpj-8cmc-gx39 `pkgutil.resolve_name`) and the classes of harm behind them.

ALLOWED is what real PyTorch, NumPy, pandas, scikit-learn, XGBoost, LightGBM, joblib and
Lightning / transformers training checkpoints call to rebuild their data; classes (CamelCase names) of
the packages in CLASS_PACKAGES are allowed as a family because constructing one only stores
state. Everything else is unknown: a reviewer can add it with the `allowed-callables` option.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

_PROCESS = "runs processes or shell commands"
_EVAL = "evaluates or compiles code"
_IMPORT = "imports modules or resolves names at load time"
_ATTRIBUTE = "reaches arbitrary attributes (getattr-style gadget)"
_NESTED = "loads a nested pickle or another executable format"
_NETWORK = "opens network connections"
_FILES = "reads, writes or deletes files"
_RUNNER = "debugger, profiler or test runner that executes code strings"
_PACKAGES = "installs packages or builds environments"
_NATIVE = "loads native code or touches raw memory"
_INTERPRETER = "changes the running interpreter or registers code to run later"
_WRAPPER = "wraps another callable so it runs later (partial, operator getters)"
_PICKLE_STATE = "tampers with pickle's own registries"


def _entries(reason: str, names: str) -> dict[str, str]:
    return dict.fromkeys(names.split(), reason)


DANGEROUS: dict[str, str] = {
    **_entries(_PROCESS, """
        os posix nt _posixsubprocess _winapi subprocess pty commands popen2 platform pipes
        multiprocessing _multiprocessing concurrent.futures.process concurrent.futures.ProcessPoolExecutor
        asyncio _osx_support _aix_support builtins.help
        pexpect ptyprocess sh plumbum invoke fabric paramiko mailcap imaplib.IMAP4_stream
        uuid._get_command_stdout uuid._popen uuid._find_mac uuid._find_mac_near_keyword
        uuid._find_mac_under_heading uuid._ifconfig_getnode uuid._ip_getnode uuid._arp_getnode
        uuid._lanscan_getnode uuid._netstat_getnode uuid._ipconfig_getnode uuid.getnode
        torch.utils.collect_env torch.utils.bottleneck torch.multiprocessing
    """),
    **_entries(_EVAL, """
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
    """),
    **_entries(_IMPORT, """
        builtins.__import__ importlib importlib_metadata importlib_resources _frozen_importlib
        _frozen_importlib_external _imp imp pkgutil zipimport runpy pydoc pkg_resources
        logging.config hydra.utils.get_method hydra.utils.get_class hydra.utils.get_object
        hydra.utils.call hydra.utils.instantiate hydra._internal.utils hydra._internal.instantiate
    """),
    **_entries(_ATTRIBUTE, """
        builtins.getattr builtins.setattr builtins.delattr builtins.hasattr builtins.globals
        builtins.locals builtins.vars builtins.dir builtins.apply inspect gc sys
    """),
    **_entries(_NESTED, """
        pickle _pickle cPickle dill cloudpickle jsonpickle shelve marshal numpy.load
        numpy.lib.npyio numpy.lib._npyio_impl numpy.lib.format numpy.lib._format_impl
        torch.load torch.serialization.load torch.serialization._load torch.storage._load_from_bytes
        torch.hub joblib.load joblib.numpy_pickle.load joblib.numpy_pickle._unpickle
        joblib.numpy_pickle_compat.load_compatibility joblib.externals pandas.read_pickle pandas.io
        pandas.HDFStore pandas.ExcelFile pandas.ExcelWriter
        sklearn.externals.joblib.load sklearn.externals.joblib.numpy_pickle.load
        yaml.load yaml.load_all yaml.unsafe_load yaml.unsafe_load_all yaml.full_load
        yaml.full_load_all yaml.Loader yaml.UnsafeLoader yaml.FullLoader yaml.constructor
    """),
    **_entries(_NETWORK, """
        socket _socket ssl _ssl http.client http.server urllib.request urllib.robotparser
        urllib2 httplib requests httpx urllib3 aiohttp websocket websockets pycurl ftplib
        smtplib smtpd poplib nntplib telnetlib xmlrpc socketserver asyncore asynchat imaplib select selectors
        webbrowser antigravity wsgiref huggingface_hub torch.distributed.rpc numpy.lib._datasource
        numpy.DataSource transformers.utils.hub
    """),
    **_entries(_FILES, """
        builtins.open builtins.file io.open io.open_code io.FileIO _io.open _io.open_code _io.FileIO
        codecs.open shutil tempfile fileinput filecmp tarfile zipfile distutils setuptools glob syslog
        py_compile compileall linecache dbm sqlite3 _sqlite3 readline gzip.open gzip.GzipFile
        bz2.open bz2.BZ2File lzma.open lzma.LZMAFile logging.FileHandler logging.basicConfig
        logging.handlers numpy.save numpy.savez numpy.savez_compressed numpy.savetxt
        numpy.loadtxt numpy.genfromtxt numpy.fromregex numpy.fromfile numpy.tofile
    """),
    **_entries(_RUNNER, "pdb bdb cProfile _lsprof profile trace timeit doctest unittest test idlelib lib2to3"),
    **_entries(_PACKAGES, "pip ensurepip venv virtualenv site sitecustomize _distutils_hack"),
    **_entries(_NATIVE, "ctypes _ctypes cffi mmap numpy.ctypeslib"),
    **_entries(_INTERPRETER, """
        atexit signal _signal threading _thread sched weakref.finalize faulthandler winreg _winreg
        resource builtins.exit builtins.quit
    """),
    **_entries(_WRAPPER, "functools _functools operator _operator"),
    **_entries(_PICKLE_STATE, """
        copyreg.add_extension copyreg.remove_extension copyreg.clear_extension_cache copyreg.pickle
        copyreg.constructor copyreg._inverted_registry copyreg._extension_registry
        copyreg._extension_cache copyreg.dispatch_table
    """),
}

# Harmless corners of dangerous modules: `os.path` only computes paths, TorchScript's
# pickles rebuild lists and type tags with `torch.jit._pickle`.
NOT_DANGEROUS = frozenset({"os.path", "torch.jit._pickle"})

# Methods reached through a dotted name (`numpy.ndarray.tofile`, `pathlib.Path.write_text`):
# the last component decides, whatever class it hangs from.
DANGEROUS_METHODS: dict[str, str] = {
    **_entries(_FILES, """
        tofile dump write_text write_bytes unlink rmdir rmtree rename touch mkdir chmod
        symlink_to hardlink_to open read_text read_bytes save to_pickle from_file
    """),
    **_entries(_EVAL, "eval exec compile runcode runsource runcommand query"),
    **_entries(_PROCESS, "system popen spawn run_path run_module"),
    **_entries(_NESTED, "load loads load_model from_pretrained"),
}

ALLOWED: frozenset[str] = frozenset("""
    builtins.set builtins.frozenset builtins.slice builtins.complex builtins.bytearray builtins.bytes
    builtins.range builtins.str builtins.int builtins.float builtins.bool builtins.list builtins.tuple
    builtins.dict builtins.object builtins.Ellipsis builtins.NotImplemented
    collections.OrderedDict collections.Counter collections.defaultdict collections.deque
    copyreg._reconstructor copyreg.__newobj__ copyreg.__newobj_ex__ _codecs.encode codecs.encode
    array.array array._array_reconstructor re._compile logging.getLogger
    datetime.datetime datetime.date datetime.time datetime.timedelta datetime.timezone
    decimal.Decimal fractions.Fraction uuid.UUID uuid.SafeUUID argparse.Namespace types.SimpleNamespace
    typing.Any pathlib.Path pathlib.PosixPath pathlib.WindowsPath pathlib.PurePath
    pathlib.PurePosixPath pathlib.PureWindowsPath
    numpy.ndarray numpy.dtype numpy.matrix numpy.ma.MaskedArray numpy.ma.core.MaskedArray
    numpy.core.multiarray._reconstruct numpy.core.multiarray.scalar numpy.core.numeric._frombuffer
    numpy._core.multiarray._reconstruct numpy._core.multiarray.scalar numpy._core.numeric._frombuffer
    numpy.core._multiarray_umath._reconstruct numpy._core._multiarray_umath._reconstruct
    numpy.core._internal._reconstruct numpy._core._internal._reconstruct
    numpy.core._DType_reconstruct numpy._core._DType_reconstruct
    numpy.ma.core._mareconstruct numpy.matrixlib.defmatrix.matrix
    numpy.random._pickle.__randomstate_ctor numpy.random._pickle.__bit_generator_ctor
    numpy.random._pickle.__generator_ctor numpy.random.bit_generator.__pyx_unpickle_SeedSequence
    joblib.numpy_pickle.NumpyArrayWrapper joblib.numpy_pickle_compat.NDArrayWrapper
    joblib.numpy_pickle.NDArrayWrapper joblib.numpy_pickle.ZNDArrayWrapper
    sklearn.externals.joblib.numpy_pickle.NDArrayWrapper sklearn.externals.joblib.numpy_pickle.ZNDArrayWrapper
    joblib.numpy_pickle_compat.ZNDArrayWrapper sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper
    sklearn.externals.joblib.numpy_pickle_compat.NDArrayWrapper
    sklearn.externals.joblib.numpy_pickle_compat.ZNDArrayWrapper
    sklearn.neighbors._kd_tree.newObj sklearn.neighbors._ball_tree.newObj
    sklearn.neighbors._binary_tree.newObj sklearn.neighbors.kd_tree.newObj
    sklearn.neighbors.ball_tree.newObj sklearn.metrics._dist_metrics.newObj
    sklearn.neighbors._dist_metrics.newObj sklearn.neighbors.dist_metrics.newObj
    pandas.core.indexes.base._new_Index pandas.core.indexes.datetimes._new_DatetimeIndex
    pandas.core.indexes.period._new_PeriodIndex pandas.core.indexes.timedeltas._new_TimedeltaIndex
    pandas.core.internals.blocks.new_block pandas.core.internals.blocks._unpickle_block
    pandas._libs.internals._unpickle_block pandas._libs.tslibs.timestamps._unpickle_timestamp
    pandas._libs.tslibs.timedeltas._timedelta_unpickle pandas._libs.tslibs.nattype._nat_unpickle
    pandas._libs.tslibs.nattype.__nat_unpickle
    pandas.NA pandas._libs.missing.NA pandas.NaT
    xgboost.core.Booster xgboost.sklearn.XGBModel xgboost.sklearn.XGBClassifier
    xgboost.sklearn.XGBRegressor xgboost.sklearn.XGBRanker xgboost.sklearn.XGBRFClassifier
    xgboost.sklearn.XGBRFRegressor lightgbm.basic.Booster lightgbm.basic.Dataset
    lightgbm.sklearn.LGBMModel lightgbm.sklearn.LGBMClassifier lightgbm.sklearn.LGBMRegressor
    lightgbm.sklearn.LGBMRanker
    torch.Size torch.Tensor torch.device torch.dtype torch.layout torch.memory_format
    torch.serialization._get_layout torch._tensor._rebuild_from_type_v2
    torch._utils._rebuild_tensor torch._utils._rebuild_tensor_v2 torch._utils._rebuild_tensor_v3
    torch._utils._rebuild_parameter torch._utils._rebuild_parameter_with_state
    torch._utils._rebuild_from_type torch._utils._rebuild_from_type_v2 torch._utils._rebuild_qtensor
    torch._utils._rebuild_sparse_tensor torch._utils._rebuild_sparse_csr_tensor
    torch._utils._rebuild_nested_tensor torch._utils._rebuild_meta_tensor_no_storage
    torch._utils._rebuild_wrapper_subclass torch._utils._rebuild_device_tensor_from_numpy
    torch._utils._rebuild_device_tensor_from_cpu_tensor torch._utils._rebuild_xla_tensor
    torch._utils._rebuild_mlc_tensor torch.storage.TypedStorage torch.storage.UntypedStorage
    torch.storage._TypedStorage torch.storage._UntypedStorage torch.UntypedStorage torch.TypedStorage
    torch.per_tensor_affine torch.per_tensor_symmetric torch.per_channel_affine
    torch.per_channel_symmetric torch.per_channel_affine_float_qparams
    torch.strided torch.sparse_coo torch.sparse_csr torch.sparse_csc torch.sparse_bsr torch.sparse_bsc
    torch.contiguous_format torch.channels_last torch.channels_last_3d torch.preserve_format
    torch.jit._pickle.build_intlist torch.jit._pickle.build_tensorlist torch.jit._pickle.build_doublelist
    torch.jit._pickle.build_boollist torch.jit._pickle.build_tensor_from_id torch.jit._pickle.restore_type_tag
""".split()) | frozenset(
    f"torch.{dtype}" for dtype in """
        float32 float float64 double float16 half bfloat16 complex32 chalf complex64 cfloat
        complex128 cdouble uint8 int8 int16 short int32 int int64 long bool uint16 uint32 uint64
        qint8 quint8 qint32 quint4x2 quint2x4 float8_e4m3fn float8_e5m2 float8_e4m3fnuz float8_e5m2fnuz
        bits1x8 bits2x4 bits4x2 bits8 bits16 uint1 uint2 uint3 uint4 uint5 uint6 uint7
        int1 int2 int3 int4 int5 int6 int7
    """.split()
) | frozenset(
    f"{module}.{kind}{suffix}"
    for module in ("torch", "torch.cuda")
    for kind in """
        Double Float Half BFloat16 Long Int Short Char Byte Bool ComplexDouble ComplexFloat
        QUInt8 QInt8 QInt32 QUInt4x2 QUInt2x4
    """.split()
    for suffix in ("Storage", "Tensor")
)

# Packages whose classes rebuild data: a CamelCase last component (a class) is allowed, as
# is a Cython unpickler (`__pyx_unpickle_<Class>`); functions are not, unless listed above.
CLASS_PACKAGES = (
    "sklearn.", "pandas.", "numpy.dtypes.", "numpy.random.", "scipy.sparse.", "scipy.stats.",
    "torch.nn.modules.", "torch.nn.parameter.", "torch.optim.", "torch.distributed.checkpoint.",
    "omegaconf.", "accelerate.utils.dataclasses.", "transformers.training_args.",
    "transformers.training_args_seq2seq.", "transformers.trainer_utils.", "transformers.trainer_pt_utils.",
    "transformers.debug_utils.", "transformers.generation.configuration_utils.",
    "lightning.fabric.utilities.", "lightning.pytorch.utilities.", "lightning_fabric.utilities.",
    "pytorch_lightning.utilities.", "__torch__.",  # TorchScript classes, compiled from the archive's code
)

# Allowed callables that call the globals passed to them, by argument position: the class
# copyreg._reconstructor instantiates, the function _rebuild_from_type_v2 calls, ...
CALLS_ARGUMENTS: dict[str, tuple[int, ...]] = {
    "copyreg._reconstructor": (0, 1),
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


def dangerous_reason(name: str) -> str | None:
    """Why invoking (or importing) `name` is dangerous, or None."""
    parts = name.split(".")
    for part in parts[1:]:
        if len(part) > 4 and part.startswith("__") and part.endswith("__") and name not in ALLOWED:
            return f"reaches the internal attribute {part} (a way to any object)"
    if len(parts) > 2 and parts[-1] in DANGEROUS_METHODS and name not in ALLOWED:
        return DANGEROUS_METHODS[parts[-1]]
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
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

    def verdict(self, name: str) -> Verdict:
        if dangerous_reason(name) is not None:
            return Verdict.DANGEROUS
        return Verdict.ALLOWED if self.allowed(name) else Verdict.UNKNOWN

    def allowed(self, name: str) -> bool:
        if name in ALLOWED or name in self.extra or name.startswith(self.extra_prefixes or ("\0",)):
            return True
        last = name.rpartition(".")[2]
        return name.startswith(CLASS_PACKAGES) and (last.lstrip("_")[:1].isupper() or last.startswith("__pyx_unpickle_"))

    def calls_arguments(self, callee: str) -> tuple[int, ...]:
        """The argument positions at which the allowed callable `callee` calls a global it is given."""
        positions = CALLS_ARGUMENTS.get(callee)
        if positions is not None:
            return positions
        last = callee.rpartition(".")[2]
        return (0,) if last.startswith(_CALLS_FIRST_ARGUMENT) and self.allowed(callee) else ()
