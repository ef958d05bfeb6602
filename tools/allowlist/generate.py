"""Regenerates hooks/mlgate/models/allowlist/*.txt: the exact objects a scanned pickle may call.

Sources, in order: PyTorch's weights_only unpickler (`torch._weights_only_unpickler._get_allowed_globals()`);
the globals that real pickles of each library name (objects built on tiny data in samples.py, pickled
with every protocol and by the libraries' own writers: torch.save, joblib.dump, a transformers Trainer,
accelerate's save_state and a Lightning checkpoint; recorded by walking the opcodes, never unpickled);
every class the data libraries define (enumerate_classes.py); scikit-learn's pre-0.22 module paths;
a short documented list (DOCUMENTED). Whatever mlgate's own `dangerous_reason` flags is left out.

How to run (from the repository root; each venv is a scratch one, nothing here is a project dependency):

    python3.11 -m venv /work/allowlist-venv
    /work/allowlist-venv/bin/pip install torch==2.13.0 numpy pandas scikit-learn scipy xgboost-cpu lightgbm \
        joblib omegaconf transformers accelerate lightning catboost tokenizers requests
    python3.11 -m venv /work/allowlist-venv-np1
    /work/allowlist-venv-np1/bin/pip install numpy==1.26.4 pandas==2.2.3 scikit-learn==1.5.2 scipy==1.13.1 \
        xgboost-cpu==2.1.4 lightgbm==4.5.0 joblib==1.4.2 torch==2.13.0 transformers==4.46.3 accelerate==1.1.1 \
        lightning==2.4.0 pytorch-lightning==2.4.0 omegaconf==2.3.0 requests
    python3.11 -m venv /work/allowlist-venv-old
    /work/allowlist-venv-old/bin/pip install numpy==1.23.5 pandas==1.5.3 scikit-learn==1.1.3 scipy==1.9.3 \
        xgboost==1.7.6 lightgbm==3.3.5 joblib==1.2.0 python-dateutil==2.9.0.post0
    python3.9 -m venv /work/allowlist-venv-py39
    /work/allowlist-venv-py39/bin/pip install numpy==1.19.5 scipy==1.6.3 scikit-learn==0.24.2 pandas==1.2.5 joblib==1.0.1
    python3.7 -m venv /work/allowlist-venv-py37
    /work/allowlist-venv-py37/bin/pip install numpy==1.17.5 scipy==1.3.3 scikit-learn==0.21.3 pandas==0.25.3 joblib==0.14.1 \
        "pytest<7.5" "Cython<3"                 # scikit-learn 0.21's all_estimators imports both
    /work/venv/bin/python tools/allowlist/generate.py            # all venvs above + stdlib runs of Python 3.8-3.13

Versions the committed files were generated with (first venv: the newest of everything):
    torch 2.13.0+cpu, numpy 2.4.6, pandas 3.1.1, scikit-learn 1.9.1, scipy 1.17.1, xgboost-cpu 3.2.0,
    lightgbm 4.7.0, joblib 1.6.0, omegaconf 2.4.0, transformers 5.25.0, accelerate 1.16.0, lightning 2.6.6,
    catboost 1.2.10, tokenizers 0.23.3, requests 2.34.2, urllib3 2.8.0 (Python 3.11);
    numpy 1.26.4 / pandas 2.2.3 / scikit-learn 1.5.2 / scipy 1.13.1 / xgboost 2.1.4 / lightgbm 4.5.0 /
    transformers 4.46.3 / accelerate 1.1.1 / lightning 2.4.0 / omegaconf 2.3.0 (Python 3.11);
    numpy 1.23.5 / pandas 1.5.3 / scikit-learn 1.1.3 / scipy 1.9.3 / xgboost 1.7.6 / lightgbm 3.3.5 /
    python-dateutil 2.9.0 (Python 3.11);
    numpy 1.19.5 / pandas 1.2.5 / scikit-learn 0.24.2 / scipy 1.6.3 (Python 3.9);
    numpy 1.17.5 / pandas 0.25.3 / scikit-learn 0.21.3 / scipy 1.3.3 (Python 3.7);
    the standard library of Python 3.7 to 3.13.

`generate.py collect OUT.json` is what runs inside each venv; `generate.py` alone collects and writes.
It also writes tools/allowlist/excluded.txt: globals real pickles use that were left out, and why.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import warnings

from enumerate_classes import skipped

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ALLOWLIST = os.path.join(ROOT, "hooks", "mlgate", "models", "allowlist")
CALLABLES = os.path.join(ROOT, "hooks", "mlgate", "models", "callables.py")
VENVS = [
    "/work/allowlist-venv",
    "/work/allowlist-venv-np1",
    "/work/allowlist-venv-old",
    "/work/allowlist-venv-py39",
    "/work/allowlist-venv-py37",
]
STDLIB_PYTHONS = [f"/root/.pyenv/versions/{version}/bin/python" for version in ("3.8.18", "3.10.13", "3.12.1", "3.13.0")]

ENUMERATED_PACKAGES = {
    "sklearn": "sklearn",
    "pandas": "pandas",
    "scipy": "scipy.sparse",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "omegaconf": "omegaconf",
}
ENUM_MODULES = {
    "transformers": [
        "transformers.trainer_utils",
        "transformers.training_args",
        "transformers.debug_utils",
        "transformers.utils.generic",
        "transformers.generation.configuration_utils",
        "transformers.trainer_callback",
        "transformers.integrations.deepspeed",
    ],
    "accelerate": ["accelerate.utils.dataclasses"],
    "lightning": [
        "lightning.pytorch.trainer.states",
        "lightning.fabric.utilities.enums",
        "lightning.pytorch.utilities.enums",
        "pytorch_lightning.trainer.states",
        "lightning_fabric.utilities.enums",
        "pytorch_lightning.utilities.enums",
    ],
}

# Old module paths that scikit-learn 0.22 renamed (private module, deprecated public shim until 0.24),
# from sklearn/_build_utils/deprecated_modules.py of scikit-learn 0.22: (new module, pre-0.22 module).
SKLEARN_022_RENAMES = [
    tuple(line.split())
    for line in """
    sklearn.utils._mocking sklearn.utils.mocking
    sklearn.ensemble._bagging sklearn.ensemble.bagging
    sklearn.ensemble._base sklearn.ensemble.base
    sklearn.ensemble._forest sklearn.ensemble.forest
    sklearn.ensemble._gb sklearn.ensemble.gradient_boosting
    sklearn.ensemble._iforest sklearn.ensemble.iforest
    sklearn.ensemble._voting sklearn.ensemble.voting
    sklearn.ensemble._weight_boosting sklearn.ensemble.weight_boosting
    sklearn.tree._classes sklearn.tree.tree
    sklearn.tree._export sklearn.tree.export
    sklearn.neural_network._rbm sklearn.neural_network.rbm
    sklearn.neural_network._multilayer_perceptron sklearn.neural_network.multilayer_perceptron
    sklearn.utils._weight_vector sklearn.utils.weight_vector
    sklearn.utils._seq_dataset sklearn.utils.seq_dataset
    sklearn.utils._fast_dict sklearn.utils.fast_dict
    sklearn.cluster._affinity_propagation sklearn.cluster.affinity_propagation_
    sklearn.cluster._bicluster sklearn.cluster.bicluster
    sklearn.cluster._birch sklearn.cluster.birch
    sklearn.cluster._dbscan sklearn.cluster.dbscan_
    sklearn.cluster._agglomerative sklearn.cluster.hierarchical
    sklearn.cluster._kmeans sklearn.cluster.k_means_
    sklearn.cluster._mean_shift sklearn.cluster.mean_shift_
    sklearn.cluster._optics sklearn.cluster.optics_
    sklearn.cluster._spectral sklearn.cluster.spectral
    sklearn.mixture._base sklearn.mixture.base
    sklearn.mixture._gaussian_mixture sklearn.mixture.gaussian_mixture
    sklearn.mixture._bayesian_mixture sklearn.mixture.bayesian_mixture
    sklearn.covariance._empirical_covariance sklearn.covariance.empirical_covariance_
    sklearn.covariance._shrunk_covariance sklearn.covariance.shrunk_covariance_
    sklearn.covariance._robust_covariance sklearn.covariance.robust_covariance
    sklearn.covariance._graph_lasso sklearn.covariance.graph_lasso_
    sklearn.covariance._elliptic_envelope sklearn.covariance.elliptic_envelope
    sklearn.cross_decomposition._cca sklearn.cross_decomposition.cca_
    sklearn.cross_decomposition._pls sklearn.cross_decomposition.pls_
    sklearn.svm._base sklearn.svm.base
    sklearn.svm._bounds sklearn.svm.bounds
    sklearn.svm._classes sklearn.svm.classes
    sklearn.svm._libsvm sklearn.svm.libsvm
    sklearn.svm._libsvm_sparse sklearn.svm.libsvm_sparse
    sklearn.svm._liblinear sklearn.svm.liblinear
    sklearn.decomposition._base sklearn.decomposition.base
    sklearn.decomposition._dict_learning sklearn.decomposition.dict_learning
    sklearn.decomposition._cdnmf_fast sklearn.decomposition.cdnmf_fast
    sklearn.decomposition._factor_analysis sklearn.decomposition.factor_analysis
    sklearn.decomposition._fastica sklearn.decomposition.fastica_
    sklearn.decomposition._incremental_pca sklearn.decomposition.incremental_pca
    sklearn.decomposition._kernel_pca sklearn.decomposition.kernel_pca
    sklearn.decomposition._nmf sklearn.decomposition.nmf
    sklearn.decomposition._lda sklearn.decomposition.online_lda
    sklearn.decomposition._online_lda_fast sklearn.decomposition.online_lda_fast
    sklearn.decomposition._pca sklearn.decomposition.pca
    sklearn.decomposition._sparse_pca sklearn.decomposition.sparse_pca
    sklearn.decomposition._truncated_svd sklearn.decomposition.truncated_svd
    sklearn.gaussian_process._gpr sklearn.gaussian_process.gpr
    sklearn.gaussian_process._gpc sklearn.gaussian_process.gpc
    sklearn.feature_extraction._dict_vectorizer sklearn.feature_extraction.dict_vectorizer
    sklearn.feature_extraction._hash sklearn.feature_extraction.hashing
    sklearn.feature_extraction._stop_words sklearn.feature_extraction.stop_words
    sklearn.linear_model._base sklearn.linear_model.base
    sklearn.linear_model._cd_fast sklearn.linear_model.cd_fast
    sklearn.linear_model._bayes sklearn.linear_model.bayes
    sklearn.linear_model._coordinate_descent sklearn.linear_model.coordinate_descent
    sklearn.linear_model._huber sklearn.linear_model.huber
    sklearn.linear_model._least_angle sklearn.linear_model.least_angle
    sklearn.linear_model._logistic sklearn.linear_model.logistic
    sklearn.linear_model._omp sklearn.linear_model.omp
    sklearn.linear_model._passive_aggressive sklearn.linear_model.passive_aggressive
    sklearn.linear_model._perceptron sklearn.linear_model.perceptron
    sklearn.linear_model._ransac sklearn.linear_model.ransac
    sklearn.linear_model._ridge sklearn.linear_model.ridge
    sklearn.linear_model._sag sklearn.linear_model.sag
    sklearn.linear_model._sag_fast sklearn.linear_model.sag_fast
    sklearn.linear_model._sgd_fast sklearn.linear_model.sgd_fast
    sklearn.linear_model._stochastic_gradient sklearn.linear_model.stochastic_gradient
    sklearn.linear_model._theil_sen sklearn.linear_model.theil_sen
    sklearn.metrics.cluster._bicluster sklearn.metrics.cluster.bicluster
    sklearn.metrics.cluster._supervised sklearn.metrics.cluster.supervised
    sklearn.metrics.cluster._unsupervised sklearn.metrics.cluster.unsupervised
    sklearn.metrics.cluster._expected_mutual_info_fast sklearn.metrics.cluster.expected_mutual_info_fast
    sklearn.metrics._base sklearn.metrics.base
    sklearn.metrics._classification sklearn.metrics.classification
    sklearn.metrics._regression sklearn.metrics.regression
    sklearn.metrics._ranking sklearn.metrics.ranking
    sklearn.metrics._pairwise_fast sklearn.metrics.pairwise_fast
    sklearn.metrics._scorer sklearn.metrics.scorer
    sklearn.inspection._partial_dependence sklearn.inspection.partial_dependence
    sklearn.neighbors._ball_tree sklearn.neighbors.ball_tree
    sklearn.neighbors._base sklearn.neighbors.base
    sklearn.neighbors._classification sklearn.neighbors.classification
    sklearn.neighbors._dist_metrics sklearn.neighbors.dist_metrics
    sklearn.neighbors._graph sklearn.neighbors.graph
    sklearn.neighbors._kd_tree sklearn.neighbors.kd_tree
    sklearn.neighbors._kde sklearn.neighbors.kde
    sklearn.neighbors._lof sklearn.neighbors.lof
    sklearn.neighbors._nca sklearn.neighbors.nca
    sklearn.neighbors._nearest_centroid sklearn.neighbors.nearest_centroid
    sklearn.neighbors._quad_tree sklearn.neighbors.quad_tree
    sklearn.neighbors._regression sklearn.neighbors.regression
    sklearn.neighbors._typedefs sklearn.neighbors.typedefs
    sklearn.neighbors._unsupervised sklearn.neighbors.unsupervised
    sklearn.manifold._isomap sklearn.manifold.isomap
    sklearn.manifold._locally_linear sklearn.manifold.locally_linear
    sklearn.manifold._mds sklearn.manifold.mds
    sklearn.manifold._spectral_embedding sklearn.manifold.spectral_embedding_
    sklearn.manifold._t_sne sklearn.manifold.t_sne
    sklearn.semi_supervised._label_propagation sklearn.semi_supervised.label_propagation
    sklearn.preprocessing._data sklearn.preprocessing.data
    sklearn.preprocessing._label sklearn.preprocessing.label
    sklearn.feature_selection._base sklearn.feature_selection.base
    sklearn.feature_selection._from_model sklearn.feature_selection.from_model
    sklearn.feature_selection._mutual_info sklearn.feature_selection.mutual_info
    sklearn.feature_selection._rfe sklearn.feature_selection.rfe
    sklearn.feature_selection._univariate_selection sklearn.feature_selection.univariate_selection
    sklearn.feature_selection._variance_threshold sklearn.feature_selection.variance_threshold
""".strip().splitlines()
]
PRE_022_MODULES = {old for _, old in SKLEARN_022_RENAMES}

# Reviewed by hand, listed with their reason: objects real pickles need that no enumeration yields.
DOCUMENTED = {
    ("python", "pickle"): (
        "pickle's own rebuilders (copyreg): allocate an instance of the class given (itself checked) and set its state",
        ["copyreg:_reconstructor", "copyreg:__newobj__", "copyreg:__newobj_ex__"],
    ),
    ("python", "dill types"): (
        "dill's lookup of a type by name: the walker judges the type it returns (types.CodeType is dangerous, "
        "functools.partial is not) and a name it cannot resolve as a dynamic global",
        ["dill._dill:_load_type"],
    ),
    ("python", "partial"): (
        "functools.partial and dill's rebuild of one (_create_ftype builds the type given with the function and "
        "arguments given): a partial stores them and runs the function later, so the wrapped function is judged "
        "as called (CALLS_ARGUMENTS)",
        ["functools:partial", "dill._dill:_create_ftype"],
    ),
    ("python", "bytes"): (
        "encodes a str to bytes: how protocol 0-2 pickles (and torch.save) store bytes",
        ["_codecs:encode", "codecs:encode"],
    ),
    ("python", "builtins"): (
        "built-in data type: calling it builds a value from the arguments, nothing else",
        [
            "builtins:set",
            "builtins:frozenset",
            "builtins:slice",
            "builtins:complex",
            "builtins:bytearray",
            "builtins:bytes",
            "builtins:range",
            "builtins:str",
            "builtins:int",
            "builtins:float",
            "builtins:bool",
            "builtins:list",
            "builtins:tuple",
            "builtins:dict",
            "builtins:object",
        ],
    ),
    ("python", "stdlib"): (
        "standard-library data type: constructing it stores or parses the values given",
        [
            "collections:OrderedDict",
            "collections:defaultdict",
            "collections:deque",
            "collections:Counter",
            "array:array",
            "array:_array_reconstructor",
            "datetime:date",
            "datetime:time",
            "datetime:datetime",
            "datetime:timedelta",
            "datetime:timezone",
            "decimal:Decimal",
            "fractions:Fraction",
            "uuid:UUID",
            "uuid:SafeUUID",
            "argparse:Namespace",
            "types:SimpleNamespace",
            "pathlib:PurePath",
            "pathlib:PurePosixPath",
            "pathlib:PureWindowsPath",
            "pathlib:Path",
            "pathlib:PosixPath",
            "pathlib:WindowsPath",
            "re:_compile",
        ],
    ),
    ("numpy", "legacy"): (
        "RandomState rebuilder of numpy < 1.17 (takes no arguments, returns RandomState(seed=0))",
        ["numpy.random:__RandomState_ctor"],
    ),
    ("numpy", "compat"): (
        "the array rebuilder under the names pickles of numpy < 1.0 (Python 2) and numpy's own "
        "compatibility aliases record (numpy/_core/_internal.py re-exports multiarray._reconstruct)",
        [
            "numpy._core._internal:_reconstruct",
            "numpy.core._internal:_reconstruct",
            "numpy._core._multiarray_umath:_reconstruct",
            "numpy.core._multiarray_umath:_reconstruct",
        ],
    ),
    ("numpy", "dtype"): (
        "numpy's DType-class rebuilder (copyreg reducer of numpy >= 1.25): returns type(np.dtype(scalar_type))",
        ["numpy._core:_DType_reconstruct", "numpy.core:_DType_reconstruct"],
    ),
    ("torch", "torchscript"): (
        "TorchScript's pickle helpers (torch.jit._pickle): each returns the list or value it is given",
        ["torch.jit._pickle:build_tensor_from_id"],
    ),
    ("torch", "legacy"): (
        "tensor rebuild function of earlier torch releases, named by their checkpoints (XLA tensors, "
        "sparse CSR before torch 2.0, Tensor subclasses): rebuilds a tensor from arrays or storages; "
        "_rebuild_from_type calls the rebuild function it is given (itself checked)",
        ["torch._utils:_rebuild_xla_tensor", "torch._utils:_rebuild_sparse_csr_tensor", "torch._tensor:_rebuild_from_type"],
    ),
    ("joblib", "compat"): (
        "array wrapper of joblib < 0.10 files (numpy_pickle_compat; joblib.numpy_pickle before 0.10) "
        "and of scikit-learn's vendored joblib: constructing it stores the array's metadata; joblib's "
        "own loader reads the array from the side file it names (no code runs)",
        [
            "joblib.numpy_pickle:NDArrayWrapper",
            "joblib.numpy_pickle:ZNDArrayWrapper",
            "joblib.numpy_pickle_compat:NDArrayWrapper",
            "joblib.numpy_pickle_compat:ZNDArrayWrapper",
            "sklearn.externals.joblib.numpy_pickle:NumpyArrayWrapper",
            "sklearn.externals.joblib.numpy_pickle:NDArrayWrapper",
            "sklearn.externals.joblib.numpy_pickle:ZNDArrayWrapper",
            "sklearn.externals.joblib.numpy_pickle_compat:NDArrayWrapper",
            "sklearn.externals.joblib.numpy_pickle_compat:ZNDArrayWrapper",
        ],
    ),
}

# Data classes of dangerous (network) packages that pickles in the wild contain, reviewed one by one:
# their constructors store values and open nothing. Everything else of those packages stays dangerous.
HTTP_DATA_CLASSES = {
    "requests.models:Response",
    "requests.models:PreparedRequest",
    "requests.models:Request",
    "requests.structures:CaseInsensitiveDict",
    "requests.cookies:RequestsCookieJar",
    "urllib3._collections:HTTPHeaderDict",
    "http.cookiejar:Cookie",
    "http.cookiejar:DefaultCookiePolicy",
    # openai<1.0 (recorded API responses in evaluation harnesses' test data): a dict subclass whose
    # __init__ stores the id and client settings and whose __setstate__ is dict.update (read in 0.28.1)
    "openai.openai_object:OpenAIObject",
}

# Flagged by mlgate's dangerous_reason (judged without an allowlist), reviewed and kept: why the flag does not apply.
REVIEWED_FALSE_ALARMS = {
    "copyreg:__newobj__": "pickle's own rebuilder: the dunder is the function's name, not an attribute walk",
    "copyreg:__newobj_ex__": "pickle's own rebuilder: the dunder is the function's name, not an attribute walk",
    "numpy.random:__RandomState_ctor": "numpy < 1.17's RandomState rebuilder: the dunder is the function's name",
    **dict.fromkeys(
        [
            "torch.jit._pickle:" + name
            for name in (
                "build_intlist",
                "build_tensorlist",
                "build_doublelist",
                "build_boollist",
                "build_tensor_from_id",
                "restore_type_tag",
            )
        ],
        "torch.jit._pickle is torch's submodule, not the stdlib _pickle; each function returns the value it is given",
    ),
    "numpy.random._pickle:__bit_generator_ctor": "numpy.random._pickle is numpy's submodule, not the stdlib _pickle; "
    "builds a bit generator from its name or class",
    "numpy.random._pickle:__generator_ctor": "numpy.random._pickle is numpy's submodule, not the stdlib _pickle; "
    "builds a Generator around a bit generator",
    "numpy.random._pickle:__randomstate_ctor": "numpy.random._pickle is numpy's submodule, not the stdlib _pickle; "
    "builds a RandomState around a bit generator",
}

# Seen or enumerated, but left out: calling them does more than rebuild data.
EXCLUDED = {
    "numpy:memmap": "constructing it opens or creates the file it is given",
    "numpy.core.memmap:memmap": "constructing it opens or creates the file it is given",
    "numpy._core.memmap:memmap": "constructing it opens or creates the file it is given",
    "numpy.core:_ufunc_reconstruct": "imports any module named by the pickle and returns any attribute of it",
    "numpy._core:_ufunc_reconstruct": "imports any module named by the pickle and returns any attribute of it",
    "numpy.core._multiarray_umath:_ufunc_reconstruct": "imports any module named by the pickle and returns any attribute of it",
    "builtins:getattr": "returns any attribute of any object (pickles of bound methods and zoneinfo use it)",
    "builtins:type": "with three arguments it creates a class, running hooks of the bases and values the pickle supplies",
    "xgboost.core:DMatrix": "constructing it reads the data file or URI it is given",
    "xgboost.core:QuantileDMatrix": "constructing it reads the data it is given through callbacks",
    "xgboost.core:ExtMemQuantileDMatrix": "constructing it iterates a user data iterator and writes cache files",
    "xgboost.core:DataIter": "iterates user callbacks and writes cache files",
    "lightgbm.basic:Dataset": "with lightgbm.Booster it builds a training set; Booster(train_set=..., params={'machines': ...}) "
    "opens network connections; no real pickle of a trained model contains it",
    "lightgbm.basic:Sequence": "user data access protocol (calls user code)",
    "lightgbm.basic:_TempFile": "creates a temporary file",
    "lightgbm.basic:_InnerPredictor": "takes a native Booster handle (raw pointer), or reads a model file",
    "lightgbm.engine:CVBooster": "__getattr__ forwards any method name to the boosters it holds; model_file reads a file",
    "xgboost.training:CVPack": "__getattr__ forwards any method name to the booster it holds",
    "xgboost._data_utils:Categories": "takes a native handle (raw pointer) and a callable it calls to free it",
    "xgboost.compat:LazyLoader": "attribute access imports the module it names",
    "pandas.util._depr_module:_DeprecatedModule": "attribute access imports the module it names",
    "pandas.api.typing:Expression": "lazy expression: attribute access builds getattr calls that run when it is called",
    "pandas.core.col:Expression": "lazy expression: attribute access builds getattr calls that run when it is called",
    "pandas.core.groupby.groupby:GroupByPlot": "__getattr__ forwards any method name to the plotting accessor",
    "pandas.core.nanops:bottleneck_switch": "calling it looks up a bottleneck function by the name it holds (bottleneck.test runs tests)",
    "sklearn.metrics._scorer:_Scorer": "calling it calls the method named by its response_method on the object given "
    "(Path.write_text): a getattr gadget; fitted searches with a scoring string hold one",
    "sklearn.metrics._scorer:_CurveScorer": "calling it calls the method named by its response_method on the object given",
    "sklearn.model_selection._classification_threshold:_CurveScorer": "calling it calls the method named by its "
    "response_method on the object given",
    "sklearn.utils.deprecation:deprecated": "decorator: calling it rewrites the class or function it is given",
    "sklearn.utils:parallel_backend": "sets joblib's process-wide parallel backend (and registers dask/ray backends)",
    "pandas.core.indexes.interval:SetopCheck": "calls the Index method named by its state",
    "pandas.core.algorithms:_reconstruct_data": "not a pickle rebuilder (its name matched): converts arrays by calling "
    "methods of the dtype object it is given",
    "accelerate.state:PartialState": "constructing it initializes torch.distributed with the keyword arguments given (network "
    "connection in a distributed job) and sets environment variables; pickled TrainingArguments "
    "of transformers hold one (rebuilt there by __newobj__, without __init__)",
    "numpy:vectorize": "wraps a callable to call it later, like functools.partial (scipy discrete distributions store one)",
}

FAMILIES = {
    "torch": "torch",
    "numpy": "numpy",
    "pandas": "pandas",
    "sklearn": "sklearn",
    "scipy": "scipy",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "catboost": "catboost",
    "joblib": "joblib",
    "omegaconf": "omegaconf",
    "transformers": "transformers",
    "accelerate": "accelerate",
    "lightning": "lightning",
    "lightning_fabric": "lightning",
    "pytorch_lightning": "lightning",
    "tokenizers": "tokenizers",
    "pytz": "timezones",
    "dateutil": "timezones",
    "requests": "python",
    "urllib3": "python",
    "_loss": "sklearn",  # scikit-learn 1.5's Cython losses name their module by its build name
}

# (file, group) -> the reason line written above the group (groups are written in GROUP_ORDER).
REASONS = {
    ("torch", "weights_only"): "accepted by PyTorch's weights_only unpickler (torch 2.13 _get_allowed_globals): tensor, storage, "
    "dtype, layout and quantization-scheme rebuilders",
    ("torch", "seen"): "recorded in torch.save files of nn modules, optimizers, LR schedulers, GradScaler and tensors "
    "(full objects and state_dicts) and in TorchScript archives: classes are rebuilt by "
    "__newobj__/_reconstructor + __setstate__ (no __init__ runs; calling one builds a module or "
    "optimizer), functions are tensor operations",
    ("python", "weights_only"): "accepted by PyTorch's weights_only unpickler (torch 2.13 _get_allowed_globals): builtin data "
    "types and the bytes encoder",
    ("python", "seen"): "recorded in pickles of standard-library values and of the libraries' objects (Python 3.7-3.13): "
    "constructing it only builds the value",
    ("python", "http"): "data class of an HTTP library: constructing it stores data, opens no connection",
    ("numpy", "seen"): "recorded in pickles of NumPy arrays, scalars, dtypes, masked arrays, matrices, polynomials and random "
    "generators (numpy 1.17-2.4): rebuilds arrays, dtypes and generator states",
    ("numpy", "ufunc"): "NumPy ufunc as pickles name it (numpy >= 2: numpy.<name>, numpy <= 1.19: "
    "numpy.core._multiarray_umath.<name>), e.g. in FunctionTransformer(np.log1p): calling it computes "
    "element-wise on the arrays given",
    ("pandas", "seen"): "recorded in pickles of pandas frames, series, indexes, extension arrays, dtypes, offsets and scalars "
    "(pandas 0.25-3.1): rebuilds the container from arrays and metadata",
    ("pandas", "rebuild"): "pandas pickle rebuild function (Cython __pyx_unpickle_*, _unpickle*, _new_*): allocates the object "
    "of the class given and sets its state",
    ("pandas", "class"): "a class pandas defines (every module but io, plotting, computation and tests; pandas 0.25-3.1): "
    "constructing it stores data",
    ("sklearn", "seen"): "recorded in pickles of fitted scikit-learn estimators, pipelines, searches and scorers "
    "(scikit-learn 0.21-1.9): estimators are rebuilt by __newobj__ + __setstate__, functions are "
    "metrics or score functions that only compute on arrays",
    ("sklearn", "rebuild"): "scikit-learn Cython rebuild function (newObj, __pyx_unpickle_*): allocates an instance of the "
    "class given and sets its state",
    ("sklearn", "class"): "a class scikit-learn defines (every module but datasets, externals and tests; scikit-learn "
    "0.21-1.9): constructing an estimator stores its parameters",
    ("sklearn", "pre022"): "module path of scikit-learn <= 0.21 that 0.22 renamed (sklearn/_build_utils/deprecated_modules.py): "
    "the same classes and rebuild functions, as enumerated in scikit-learn 0.21.3",
    ("scipy", "seen"): "recorded in pickles of scipy.sparse matrices/arrays, frozen distributions, interpolators and "
    "spatial trees (scipy 1.3-1.17): rebuilds the object from arrays",
    ("scipy", "rebuild"): "scipy Cython rebuild function: allocates an instance of the class given and sets its state",
    ("scipy", "class"): "a class scipy.sparse defines (scipy 1.3-1.17): constructing it stores or converts arrays",
    ("xgboost", "seen"): "recorded in pickles of xgboost sklearn-API models (xgboost 1.7-3.2): model classes rebuilt by "
    "__newobj__ + __setstate__ around a Booster",
    ("xgboost", "booster"): "xgboost Booster: pickles rebuild it from its serialized model bytes (__setstate__); called "
    "with model_file it loads and parses that model file (no code runs)",
    ("lightgbm", "booster"): "lightgbm Booster: pickles rebuild it from its model string (__setstate__); called with "
    "model_file it parses that model file; training with network parameters needs a Dataset, "
    "which is not allowlisted",
    ("timezones", "tzfile"): "dateutil tzfile: pickles rebuild it from its zone data (dateutil 2.x: called with no file "
    "and the zone name); called with a path it opens and parses that file as a TZif zone (reads only)",
    ("xgboost", "class"): "a class xgboost defines (not the dask/spark/tracker/collective/federated modules): constructing "
    "it stores parameters",
    ("lightgbm", "seen"): "recorded in pickles of lightgbm sklearn-API models (lightgbm 3.3-4.7): model classes rebuilt by "
    "__newobj__ + __setstate__ around a Booster",
    ("lightgbm", "class"): "a class lightgbm defines (not the dask and plotting modules): constructing it stores parameters",
    ("catboost", "seen"): "recorded in pickles of catboost models (catboost 1.2): the model is rebuilt from its serialized bytes",
    ("joblib", "seen"): "recorded in joblib.dump files (joblib 0.14-1.6): array wrapper that joblib's loader reads the array for",
    ("omegaconf", "seen"): "recorded in pickles of omegaconf DictConfig/ListConfig trees (omegaconf 2.3-2.4): rebuilds nodes "
    "and their metadata",
    ("omegaconf", "class"): "a class omegaconf defines (not its grammar, parser and resolvers): constructing it stores a config node",
    ("transformers", "seen"): "recorded in a transformers Trainer checkpoint and in pickled TrainingArguments / "
    "Seq2SeqTrainingArguments / GenerationConfig / TrainerState (transformers 4.46-5.25): "
    "dataclasses and enums, rebuilt by __newobj__ + state; calling TrainingArguments runs "
    "__post_init__, which validates options and may read the JSON config files its fields name",
    ("transformers", "enum"): "transformers enum (trainer, training-argument and generation options): calling it looks up a member",
    ("accelerate", "seen"): "recorded in accelerate save_state folders and pickled TrainingArguments (accelerate 1.1-1.16): "
    "enums and state dataclasses",
    ("accelerate", "enum"): "accelerate enum (distributed types, precision and plugin options): calling it looks up a member",
    ("lightning", "seen"): "recorded in Lightning checkpoints and pickled hparams (lightning 2.4-2.6): AttributeDict and state",
    ("lightning", "enum"): "Lightning enum (trainer states and stages): calling it looks up a member",
    ("tokenizers", "seen"): "recorded in pickles of tokenizers Tokenizer/models/normalizers and transformers fast tokenizers: "
    "rebuilt from their JSON state",
    ("timezones", "seen"): "time zone object (pytz, dateutil) recorded in pandas pickles: rebuilds a zone from its name or "
    "offset, reading only the bundled zone database",
}
EXCLUDED_MODULES = {
    "_cyutility": "Cython's shared utility module (memoryview internals), never in a model pickle",
}

# Objects whose call can do more than their group's reason says: their own group, with the whole story.
SPECIAL_GROUPS = {
    "xgboost.core:Booster": "booster",
    "lightgbm.basic:Booster": "booster",
    "dateutil.tz.tz:tzfile": "tzfile",
    "dateutil.tz._tzfile:tzfile": "tzfile",
}

# When one object comes from several sources, the first group in this order names it.
GROUP_ORDER = ["weights_only", "documented", "http", "booster", "tzfile", "pre022", "seen", "enum", "ufunc", "rebuild", "class"]


# ------------------------------------------------------------------------------------- collecting
def _versions() -> dict:
    versions = {"python": sys.version.split()[0]}
    for name in (
        "torch",
        "numpy",
        "pandas",
        "sklearn",
        "scipy",
        "xgboost",
        "lightgbm",
        "catboost",
        "joblib",
        "omegaconf",
        "transformers",
        "accelerate",
        "lightning",
        "pytorch_lightning",
        "tokenizers",
        "requests",
        "urllib3",
    ):
        try:
            versions[name] = importlib.import_module(name).__version__
        except Exception:
            continue
    return versions


def _split_key(key: str, obj: object) -> tuple:
    """(module, qualname) of a weights_only key: the longest importable module from which the rest resolves."""
    from enumerate_classes import resolves_to

    parts = key.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module, qualname = ".".join(parts[:cut]), ".".join(parts[cut:])
        try:
            importlib.import_module(module)
        except ImportError:
            continue
        if resolves_to(module, qualname, obj) or _resolves(module, qualname):
            return module, qualname
    raise ValueError("cannot split " + key)


def _resolves(module: str, qualname: str) -> bool:
    target = importlib.import_module(module)
    for part in qualname.split("."):
        if not hasattr(target, part):
            return False
        target = getattr(target, part)
    return True


def collect(families: list) -> dict:  # noqa: C901 -- one block per source of records (samples, torch, numpy, enumerations), in order
    """Records [kind, module, qualname, evidence] from what this interpreter has installed."""
    import samples
    from enumerate_classes import classes_and_rebuilders
    from recorder import pickled_globals

    records = []
    problems = []
    warnings.simplefilter("ignore")
    for family in families:
        try:
            for label, thing in samples.BUILDERS[family]():
                if isinstance(thing, samples.Recorded):
                    records += [["seen", module, name, f"{family}: {label}"] for module, name in sorted(thing)]
                    continue
                for obj in thing:
                    evidence = f"{family}: {label} ({type(obj).__qualname__})"
                    try:
                        records += [["seen", module, name, evidence] for module, name in sorted(pickled_globals(obj))]
                    except Exception as error:
                        problems.append(f"{evidence}: not pickled: {str(error)[:200]}")
        except ImportError as error:
            problems.append(f"{family}: not installed ({error})")
        except Exception as error:
            problems.append(f"{family}: builder failed: {error!r}")
    if "torch" in families:
        try:
            from torch._weights_only_unpickler import _get_allowed_globals

            for key, obj in sorted(_get_allowed_globals().items()):
                module, qualname = _split_key(key, obj)
                records.append(["weights_only", module, qualname, "torch._weights_only_unpickler._get_allowed_globals"])
        except ImportError:
            pass
    if "numpy" in families:
        try:
            import numpy  # noqa: F401 -- only to skip the numpy records when numpy is missing

            from recorder import pickled_globals

            for ufunc in samples.numpy_ufuncs():
                records.append(["ufunc", "numpy", ufunc.__name__, "numpy ufunc"])
                for module, name in pickled_globals(ufunc, (2, 4)):
                    if name == ufunc.__name__:  # numpy 1.20-1.26 write _ufunc_reconstruct('numpy', name) instead
                        records.append(["ufunc", module, name, "numpy ufunc"])
        except ImportError:
            pass
    for family, package in ENUMERATED_PACKAGES.items():
        if family not in families or importlib.util.find_spec(package.split(".")[0]) is None:
            continue
        for kind, module, qualname in classes_and_rebuilders(package):
            records.append([kind, module, qualname, "defined in " + module])
    for family, modules in ENUM_MODULES.items():
        if family not in families:
            continue
        import enum

        for name in modules:
            try:
                module = importlib.import_module(name)
            except Exception:
                continue
            for value in vars(module).values():
                if isinstance(value, type) and issubclass(value, enum.Enum) and value.__module__ == name and list(value):
                    records.append(["enum", name, value.__qualname__, "enum defined in " + name])
    return {"versions": _versions(), "records": records, "problems": problems}


# ------------------------------------------------------------------------------------------ merging
def _load_dangerous_reason():
    """mlgate's own dangerous_reason, judged with an empty allowlist (the allowlist is what we write)."""
    spec = importlib.util.spec_from_file_location("mlgate_callables_for_allowlist", CALLABLES)
    callables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(callables)
    callables.ALLOWED = {}
    callables.ALLOWED_NAMES = frozenset()
    callables.dangerous_reason.cache_clear()
    return callables.dangerous_reason


def _family(module: str) -> str:
    top = module.split(".")[0]
    if top in FAMILIES:
        return FAMILIES[top]
    stdlib = getattr(sys, "stdlib_module_names", ())
    if top in stdlib or top.lstrip("_") in stdlib or top in ("builtins", "_codecs"):
        return "python"
    return "other:" + top


def merge(collected: list) -> tuple:
    """({file: {group: {entry}}}, {entry: (why excluded, evidence)}) from every collector's output."""
    dangerous_reason = _load_dangerous_reason()
    sources = {}  # entry -> {group: evidence}
    ufuncs = {(module, qualname) for result in collected for kind, module, qualname, _ in result["records"] if kind == "ufunc"}
    for result in collected:
        for kind, module, qualname, evidence in result["records"]:
            entry = f"{module}:{qualname}"
            if kind == "seen" and (module, qualname) in ufuncs:
                kind = "ufunc"
            if kind in ("class", "rebuild", "risky") and module.startswith("sklearn.") and module in PRE_022_MODULES:
                kind = "pre022" if kind != "risky" else kind
            if kind == "seen" and module in PRE_022_MODULES:
                kind = "pre022"
            if module.startswith("http.") or module.split(".")[0] in ("requests", "urllib3"):
                kind = "http" if kind == "seen" else kind
            if kind in ("seen", "class") and entry in SPECIAL_GROUPS:
                kind = SPECIAL_GROUPS[entry]
            sources.setdefault(entry, {}).setdefault(kind, evidence)
    for (_family, group), (_reason, entries) in DOCUMENTED.items():
        for entry in entries:
            sources.setdefault(entry, {})["documented:" + group] = "documented in generate.py"
    files = {}
    excluded = {}
    for entry, kinds in sorted(sources.items()):
        module, qualname = entry.split(":", 1)
        evidence = "; ".join(sorted(set(kinds.values())))[:300]
        why = _why_excluded(entry, module, qualname, kinds, dangerous_reason)
        if why:
            excluded[entry] = (why, "{}: {}".format("+".join(sorted(kinds)), evidence))
            continue
        group = min(kinds, key=lambda kind: GROUP_ORDER.index(kind.split(":")[0]))
        if group.startswith("documented:"):
            family = next(f for (f, g), (_, items) in DOCUMENTED.items() if entry in items and "documented:" + g == group)
        else:
            family = "python" if group == "http" else _family(module)
        if family.startswith("other:"):
            excluded[entry] = (f"no library family for {family[6:]} (review and add one)", evidence)
            continue
        files.setdefault(family, {}).setdefault(group, set()).add(entry)
    return files, excluded


def _why_excluded(entry: str, module: str, qualname: str, kinds: dict, dangerous_reason) -> str | None:
    if entry in EXCLUDED:
        return EXCLUDED[entry]
    if module in EXCLUDED_MODULES:
        return EXCLUDED_MODULES[module]
    if module.split(".")[0] == "__torch__":
        return "TorchScript class compiled from the archive's code: mlgate allows the __torch__ namespace by rule"
    left_out = skipped(module)
    if left_out and not any(kind.startswith("documented") for kind in kinds):
        return "module left out of the allowlist: " + left_out
    if "risky" in kinds:
        return "subclass of a class that does I/O, runs processes or threads, touches raw memory, or unpickles"
    if module in ("__main__", "tiny_model") or "<locals>" in qualname:
        return "defined by the sample script itself"
    if "http" in kinds:
        return None if entry in HTTP_DATA_CLASSES else "HTTP library object not reviewed as a data class"
    reason = dangerous_reason(f"{module}.{qualname}", module)
    if reason and entry in REVIEWED_FALSE_ALARMS:
        return None
    return "dangerous per mlgate.models.callables: " + reason if reason else None


def write(files: dict, excluded: dict) -> dict:
    counts = {}
    header = [
        "# Generated by tools/allowlist/generate.py: exact objects a pickle may call (module:qualname).",
        "# Add an entry by hand only with a reason (tools/allowlist/README.md).",
    ]
    for family, groups in sorted(files.items()):
        lines = list(header)
        total = 0
        keys = sorted(groups, key=lambda g: (GROUP_ORDER.index(g.split(":")[0]), g))
        for group in keys:
            reason = DOCUMENTED[(family, group.split(":", 1)[1])][0] if group.startswith("documented:") else REASONS[(family, group)]
            lines.append("# reason: " + reason)
            lines += sorted(groups[group])
            total += len(groups[group])
        with open(os.path.join(ALLOWLIST, family + ".txt"), "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        counts[family] = total
    with open(os.path.join(HERE, "excluded.txt"), "w", encoding="utf-8") as handle:
        handle.write("# Globals that real pickles (or documented lists) use but the allowlist leaves out, and why.\n")
        handle.write("# Generated by generate.py; evidence: which sample produced it.\n")
        for entry, (why, evidence) in sorted(excluded.items()):
            handle.write(f"{entry}\t{why}\t[{evidence}]\n")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="generate", choices=["generate", "collect"])
    parser.add_argument("output", nargs="?", help="collect: where to write the records (JSON)")
    parser.add_argument("--families", default=",".join(sorted(_all_families())))
    parser.add_argument("--venv", action="append", help="venv to collect in (default: VENVS)")
    parser.add_argument("--stdlib-python", action="append", help="interpreter for stdlib-only runs (default: STDLIB_PYTHONS)")
    parser.add_argument("--records", help="folder keeping each run's records: runs already there are not repeated")
    arguments = parser.parse_args()
    if arguments.command == "collect":
        result = collect(arguments.families.split(","))
        with open(arguments.output, "w", encoding="utf-8") as handle:
            json.dump(result, handle)
        return
    runs = [(os.path.join(venv, "bin", "python"), arguments.families) for venv in (arguments.venv or VENVS)]
    runs += [(python, "python,http") for python in (arguments.stdlib_python or STDLIB_PYTHONS)]
    collected = []
    for python, families in runs:
        if not os.path.exists(python):
            sys.stderr.write(f"skipped (missing): {python}\n")
            continue
        folder = arguments.records or tempfile.mkdtemp()
        os.makedirs(folder, exist_ok=True)
        output = os.path.join(folder, python.strip("/").replace("/", "_") + ".json")
        if not (arguments.records and os.path.exists(output)):
            sys.stderr.write(f"collecting with {python}\n")
            subprocess.run(
                [python, os.path.abspath(__file__), "collect", output, "--families", families], check=True, cwd=tempfile.gettempdir()
            )
        with open(output, encoding="utf-8") as handle:
            collected.append(json.load(handle))
        sys.stderr.write("  {}\n".format(json.dumps(collected[-1]["versions"])))
        for problem in collected[-1]["problems"]:
            sys.stderr.write(f"  problem: {problem}\n")
    files, excluded = merge(collected)
    counts = write(files, excluded)
    for family, count in sorted(counts.items()):
        print(f"{family + '.txt':<14} {count:5d}")
    print(f"excluded: {len(excluded):d} (tools/allowlist/excluded.txt)")


def _all_families() -> list:
    return [
        "python",
        "http",
        "numpy",
        "pandas",
        "scipy",
        "sklearn",
        "xgboost",
        "lightgbm",
        "catboost",
        "joblib",
        "torch",
        "omegaconf",
        "transformers",
        "accelerate",
        "lightning",
        "tokenizers",
    ]


if __name__ == "__main__":
    main()
