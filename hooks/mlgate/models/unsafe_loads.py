"""The loaders that run code, as data: which calls, what makes each one unsafe, and its fix.

A call is matched on its fully qualified name with import aliases resolved (`from torch import
load as tload; tload(p)` is `torch.load`). `UnsafeLoad.unsafe` says when the call runs code:

- `ALWAYS`: pickle, joblib, dill, cloudpickle, `pandas.read_pickle`, `torch.package` importers;
- `UNLESS_TRUE` its flag: `torch.load` without `weights_only=True` (before torch 2.6 the default is
  False; from 2.6 it is True, so a repository that requires torch>=2.6 is judged by that default);
- `WHEN_TRUE` its flag: `numpy.load(..., allow_pickle=True)`;
- `WHEN_FALSE` its flag: Keras `load_model(..., safe_mode=False)`, transformers
  `from_pretrained(..., use_safetensors=False)`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Unsafe(enum.Enum):
    ALWAYS = "always"
    UNLESS_TRUE = "unless the flag is True"
    WHEN_TRUE = "when the flag is True"
    WHEN_FALSE = "when the flag is False"


@dataclass(frozen=True)
class UnsafeLoad:
    name: str  # what the message calls it
    unsafe: Unsafe
    flag: str = ""  # the keyword that decides (weights_only, allow_pickle, safe_mode, use_safetensors)
    position: int | None = 0  # positional index of the path (or file, or bytes) argument
    keywords: tuple[str, ...] = ()  # keyword names of that argument
    receiver: bool = False  # the path is the first argument of the call the method is called on (`Unpickler(f).load()`)
    data: bool = False  # the argument is the file's bytes (`loads`), not a path or a file
    fix: str = ""


_PICKLE_FIX = "keep models in safetensors (tensors), skops (scikit-learn) or JSON; unpickle only files this program wrote itself"
TORCH_LOAD = UnsafeLoad(
    "torch.load",
    Unsafe.UNLESS_TRUE,
    "weights_only",
    0,
    ("f",),
    fix="pass weights_only=True (`mlgate check --fix` adds it where weights_only is not given: objects other than tensors and "
    "plain containers then fail to load), or load safetensors",
)
_PICKLE_LOAD = UnsafeLoad("pickle.load", Unsafe.ALWAYS, position=0, keywords=("file",), fix=_PICKLE_FIX)
_PICKLE_LOADS = UnsafeLoad("pickle.loads", Unsafe.ALWAYS, position=0, keywords=("data",), data=True, fix=_PICKLE_FIX)
_UNPICKLER = UnsafeLoad("pickle.Unpickler(...).load", Unsafe.ALWAYS, position=0, keywords=("file",), receiver=True, fix=_PICKLE_FIX)
_JOBLIB = UnsafeLoad(
    "joblib.load",
    Unsafe.ALWAYS,
    position=0,
    keywords=("filename",),
    fix="save scikit-learn models with skops (skops.io.load with trusted types) or ONNX; never joblib.load a file someone else can swap",
)
_KERAS = UnsafeLoad(
    "keras load_model",
    Unsafe.WHEN_FALSE,
    "safe_mode",
    0,
    ("filepath",),
    fix="drop safe_mode=False (safe_mode=True refuses Lambda layers' code); rebuild custom layers in code",
)

_WEIGHTS_FROM_URL = UnsafeLoad(
    "torch.hub.load_state_dict_from_url",
    Unsafe.UNLESS_TRUE,
    "weights_only",
    0,
    ("url",),
    fix="pass weights_only=True (it downloads the file and torch.loads it), and check_hash=True with the hash in the file name",
)

LOADS: dict[str, UnsafeLoad] = {
    "torch.load": TORCH_LOAD,
    "torch.serialization.load": TORCH_LOAD,
    "torch.hub.load_state_dict_from_url": _WEIGHTS_FROM_URL,
    "torch.utils.model_zoo.load_url": _WEIGHTS_FROM_URL,
    **{f"{module}.load": _PICKLE_LOAD for module in ("pickle", "_pickle", "cPickle", "dill", "cloudpickle", "pickle5")},
    **{f"{module}.loads": _PICKLE_LOADS for module in ("pickle", "_pickle", "cPickle", "dill", "cloudpickle", "pickle5")},
    **{f"{module}.Unpickler().load": _UNPICKLER for module in ("pickle", "_pickle", "cPickle", "dill")},
    "joblib.load": _JOBLIB,
    "sklearn.externals.joblib.load": _JOBLIB,
    "pandas.read_pickle": UnsafeLoad(
        "pandas.read_pickle",
        Unsafe.ALWAYS,
        position=0,
        keywords=("filepath_or_buffer",),
        fix="store frames as Parquet, Feather or CSV; read_pickle runs whatever the file names",
    ),
    "numpy.load": UnsafeLoad(
        "numpy.load",
        Unsafe.WHEN_TRUE,
        "allow_pickle",
        0,
        ("file",),
        fix="load with allow_pickle=False (the default) and store object arrays in another format",
    ),
    **{
        name: _KERAS
        for name in (
            "keras.models.load_model",
            "keras.saving.load_model",
            "keras.src.saving.saving_api.load_model",
            "tensorflow.keras.models.load_model",
            "tensorflow.keras.saving.load_model",
            "tf_keras.models.load_model",
        )
    },
    **{
        name: UnsafeLoad(
            "torch.package.PackageImporter",
            Unsafe.ALWAYS,
            position=0,
            keywords=("file_or_buffer",),
            fix="a torch.package archive is code: load only archives this project built; ship weights as safetensors",
        )
        for name in ("torch.package.PackageImporter", "torch.package.package_importer.PackageImporter")
    },
}
FROM_PRETRAINED = UnsafeLoad(
    "from_pretrained",
    Unsafe.WHEN_FALSE,
    "use_safetensors",
    0,
    ("pretrained_model_name_or_path",),
    fix="drop use_safetensors=False (transformers then loads model.safetensors, which holds no code)",
)
# Calls that write a file these loads read back (the program loads what it saved itself): name -> index of the path argument.
SAVES: dict[str, int] = {
    "torch.save": 1,
    "pickle.dump": 1,
    "_pickle.dump": 1,
    "dill.dump": 1,
    "cloudpickle.dump": 1,
    "joblib.dump": 1,
    "numpy.save": 0,
    "numpy.savez": 0,
}
# Serialisers whose bytes `loads` reads back in the same program: not a file from anywhere.
DUMPS = frozenset({"pickle.dumps", "_pickle.dumps", "cPickle.dumps", "dill.dumps", "cloudpickle.dumps"})


def unsafe_load_for(qualified: str) -> UnsafeLoad | None:
    """The unsafe loader a call to `qualified` (dotted, aliases resolved) is, or None."""
    found = LOADS.get(qualified)
    if found is not None:
        return found
    if qualified.endswith(".from_pretrained") and qualified.split(".", 1)[0] in ("transformers", "diffusers", "peft"):
        return FROM_PRETRAINED
    return None
