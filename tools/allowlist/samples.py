"""Typical objects of each library, built on tiny data, whose pickles `generate.py` records.

Each builder yields (label, thing): `thing` is an object to pickle with every protocol, or a
`Recorded` set of globals already taken from a library's own file format (torch.save,
joblib.dump, a trainer's checkpoint folder). A builder whose library is missing yields
nothing; a single object that fails to build is skipped and reported by the caller.
Runs under Python 3.7 to 3.13 with library versions from 2019 to today: keep it 3.7-compatible.
"""

from __future__ import annotations

import argparse
import array
import collections
import datetime
import decimal
import enum
import fractions
import io
import ipaddress
import os
import pathlib
import re
import sys
import tempfile
import types
import uuid
import warnings

from recorder import globals_in, zip_pickle_globals


class Recorded(set):
    """Globals already recorded from a library's own file format."""


def _rows(count: int = 24, features: int = 4, seed: int = 0):
    import numpy as np

    rng = np.random.RandomState(seed)
    X = rng.rand(count, features)
    y = (X[:, 0] + X[:, 1] > 1).astype(int)
    return X, y


# ----------------------------------------------------------------------------------------- python
def python_samples():
    yield (
        "builtins",
        [
            {1, 2},
            frozenset({1}),
            slice(1, 5, 2),
            complex(1, 2),
            bytearray(b"ab"),
            b"bytes",
            range(3),
            Ellipsis,
            NotImplemented,
            10**30,
            1.5,
            True,
            None,
            ("a",),
            ["a"],
            {"a": 1},
            set,
            frozenset,
            slice,
            complex,
            bytearray,
            bytes,
            range,
            str,
            int,
            float,
            bool,
            list,
            tuple,
            dict,
            object,
            type(None),
            type(Ellipsis),
            type(NotImplemented),
        ],
    )
    yield (
        "collections",
        [
            collections.OrderedDict(a=1),
            collections.defaultdict(list, a=[1]),
            collections.defaultdict(int),
            collections.defaultdict(dict),
            collections.defaultdict(set),
            collections.deque([1, 2], maxlen=3),
            collections.Counter("abca"),
            collections.ChainMap({"a": 1}),
            collections.UserDict(a=1),
            collections.UserList([1]),
            collections.UserString("a"),
        ],
    )
    utc = datetime.timezone.utc
    yield (
        "datetime",
        [
            datetime.date(2020, 1, 2),
            datetime.time(1, 2, 3, 4),
            datetime.datetime(2020, 1, 2, 3, 4, 5, 6),
            datetime.datetime(2020, 1, 2, tzinfo=utc),
            datetime.timedelta(days=1, seconds=2),
            datetime.timezone(datetime.timedelta(hours=2), "X"),
            utc,
            datetime.time(1, tzinfo=utc),
        ],
    )
    yield "numbers", [decimal.Decimal("1.10"), decimal.Decimal("NaN"), fractions.Fraction(1, 3)]
    yield "uuid", [uuid.UUID(int=5), uuid.uuid4(), uuid.UUID(int=1, is_safe=uuid.SafeUUID.safe)]
    yield "array", [array.array("d", [1.0, 2.0]), array.array("b", [1]), array.array("u", "ab")]
    yield "namespaces", [argparse.Namespace(lr=0.1, name="x"), types.SimpleNamespace(a=1)]
    yield (
        "pathlib",
        [
            pathlib.PurePosixPath("/a/b"),
            pathlib.PureWindowsPath("c:/a"),
            pathlib.Path("a/b"),
            pathlib.PurePath("x"),
        ],
    )
    yield "re", [re.compile(r"a+b", re.I | re.M), re.compile(rb"x")]
    yield (
        "ipaddress",
        [
            ipaddress.ip_address("10.0.0.1"),
            ipaddress.ip_network("10.0.0.0/8"),
            ipaddress.ip_address("::1"),
            ipaddress.ip_interface("10.0.0.1/24"),
        ],
    )
    try:
        import zoneinfo

        yield "zoneinfo", [zoneinfo.ZoneInfo("Europe/Paris"), datetime.datetime(2020, 1, 1, tzinfo=zoneinfo.ZoneInfo("UTC"))]
    except Exception:
        pass


def http_samples():
    """Data classes of HTTP libraries that pickles in the wild contain (a saved response, headers)."""
    import http.cookiejar

    jar_cookie = http.cookiejar.Cookie(
        0,
        "name",
        "value",
        None,
        False,
        "example.org",
        True,
        False,
        "/",
        True,
        False,
        None,
        False,
        None,
        None,
        {},
    )
    yield "http.cookiejar", [jar_cookie, http.cookiejar.DefaultCookiePolicy()]
    try:
        import requests
        from requests.cookies import RequestsCookieJar
        from requests.structures import CaseInsensitiveDict
    except ImportError:
        return
    jar = RequestsCookieJar()
    jar.set_cookie(jar_cookie)
    response = requests.models.Response()
    response.status_code = 200
    response._content = b"{}"
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
    response.url = "https://example.org/"
    response.encoding = "utf-8"
    response.cookies = jar
    response.elapsed = datetime.timedelta(seconds=1)
    response.reason = "OK"
    prepared = requests.Request("GET", "https://example.org/", headers={"a": "b"}).prepare()
    response.request = prepared
    response.history = [requests.models.Response()]
    yield "requests", [response, jar, CaseInsensitiveDict(a=1), prepared, requests.Request("GET", "https://x/")]
    try:
        from urllib3._collections import HTTPHeaderDict

        yield "urllib3", [HTTPHeaderDict({"a": "b"})]
    except ImportError:
        pass


# ------------------------------------------------------------------------------------------ numpy
def numpy_samples():
    import numpy as np

    codes = [
        "?",
        "b",
        "B",
        "h",
        "H",
        "i",
        "I",
        "l",
        "L",
        "q",
        "Q",
        "e",
        "f",
        "d",
        "g",
        "F",
        "D",
        "G",
        "M8[ns]",
        "M8[D]",
        "m8[s]",
        "U3",
        "S3",
        "V4",
        ">i4",
        "<f8",
        "O",
    ]
    arrays = []
    for code in codes:
        value = np.zeros((2, 3), dtype=code)
        arrays += [value, np.asfortranarray(value), value[0, 0], np.zeros((), dtype=code), np.dtype(code)]
    structured = np.dtype([("a", "<i4"), ("b", "f8", (2,)), ("c", [("d", "U2")]), (("title", "e"), "u1")], align=True)
    arrays += [
        np.zeros(2, dtype=structured),
        structured,
        np.zeros(2, dtype=structured)[0],
        np.array([1, "a", None, 2.5], dtype=object),
        np.arange(6).reshape(2, 3)[:, ::2],
        np.array([(1, [2, 3])], dtype=[("x", "i8"), ("y", "O", (2,))]),
    ]
    if hasattr(np, "dtypes") and hasattr(np.dtypes, "StringDType"):
        arrays += [np.array(["a", "bc"], dtype=np.dtypes.StringDType()), np.dtypes.StringDType()]
    yield "arrays and scalars", arrays
    yield (
        "scalar types",
        [
            getattr(np, name)
            for name in (
                "float64",
                "float32",
                "float16",
                "int64",
                "int32",
                "int8",
                "uint8",
                "bool_",
                "complex128",
                "str_",
                "bytes_",
                "void",
                "datetime64",
                "timedelta64",
                "object_",
                "ndarray",
                "dtype",
                "generic",
                "number",
                "floating",
                "integer",
                "signedinteger",
                "unsignedinteger",
                "inexact",
                "complexfloating",
            )
            if hasattr(np, name)
        ],
    )
    if hasattr(np, "dtypes"):
        yield "dtype classes", [getattr(np.dtypes, name) for name in dir(np.dtypes) if name.endswith("DType")]
    masked = np.ma.array([1.0, 2.0, 3.0], mask=[0, 1, 0], fill_value=-1)
    yield (
        "masked and subclasses",
        [
            masked,
            np.ma.masked,
            np.ma.masked_array(np.zeros((2, 2)), mask=True),
            np.ma.array([1], dtype=object),
            np.matrix([[1, 2], [3, 4]]),
            np.rec.array([(1, 2.0)], names="a,b"),
            np.rec.array([(1, 2.0)], names="a,b")[0],
            np.char.array(["a", "b"]),
            np.ma.mrecords.fromarrays([np.arange(2)]) if hasattr(np.ma, "mrecords") else np.ma.masked,
        ],
    )
    rng = [np.random.RandomState(0), np.random.mtrand._rand]
    if hasattr(np.random, "default_rng"):
        rng.append(np.random.default_rng(0))
        for name in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"):
            if hasattr(np.random, name):
                bit_generator = getattr(np.random, name)(1)
                rng += [bit_generator, np.random.Generator(bit_generator), np.random.RandomState(bit_generator)]
        rng.append(np.random.SeedSequence(5))
    yield "random", rng
    polynomials = [
        np.poly1d([1, 2, 3]),
        np.polynomial.Polynomial([1, 2]),
        np.polynomial.Chebyshev([1]),
        np.polynomial.Legendre([1]),
        np.polynomial.Hermite([1]),
        np.polynomial.HermiteE([1]),
        np.polynomial.Laguerre([1]),
    ]
    yield "polynomials", polynomials
    yield "info", [np.finfo(np.float32), np.iinfo(np.int16)]


def numpy_ufuncs():
    """(module, name) of NumPy's ufuncs as a pickle names them (module `numpy`, or what numpy.x writes)."""
    import numpy as np

    return [getattr(np, name) for name in sorted(dir(np)) if isinstance(getattr(np, name, None), np.ufunc)]


# ----------------------------------------------------------------------------------------- pandas
def pandas_samples():
    import numpy as np
    import pandas as pd

    def attempt(build):
        try:
            return [build()]
        except Exception:
            return []

    objs = []
    for build in (
        lambda: pd.DataFrame({"i": [1, 2], "f": [1.0, np.nan], "s": ["a", "b"], "b": [True, False], "o": [1, "x"]}),
        lambda: pd.Series([1, 2, 3], name="x"),
        lambda: pd.Series(["a", None], dtype="string"),
        lambda: pd.Series(["a", None], dtype="str"),
        lambda: pd.Series([1, None], dtype="Int64"),
        lambda: pd.Series([1, None], dtype="UInt8"),
        lambda: pd.Series([1, None], dtype="Int8"),
        lambda: pd.Series([1, None], dtype="Int16"),
        lambda: pd.Series([1, None], dtype="Int32"),
        lambda: pd.Series([1, None], dtype="UInt16"),
        lambda: pd.Series([1, None], dtype="UInt32"),
        lambda: pd.Series([1, None], dtype="UInt64"),
        lambda: pd.Series([1.5, None], dtype="Float64"),
        lambda: pd.Series([1.5, None], dtype="Float32"),
        lambda: pd.Series([True, None], dtype="boolean"),
        lambda: pd.Series(pd.Categorical(["a", "b", "a"], ordered=True)),
        lambda: pd.Categorical(["a", "b"]),
        lambda: pd.CategoricalDtype(["a", "b"]),
        lambda: pd.Series(pd.date_range("2020-01-01", periods=3, freq="D")),
        lambda: pd.Series(pd.date_range("2020-01-01", periods=3, freq="h", tz="Europe/Paris")),
        lambda: pd.Series(pd.date_range("2020-01-01", periods=3, freq="h", tz="UTC")),
        lambda: pd.date_range("2020-01-01", periods=3, tz=datetime.timezone.utc),
        lambda: pd.date_range("2020-01-01", periods=3, tz=datetime.timezone(datetime.timedelta(hours=2))),
        lambda: pd.Series(pd.timedelta_range("1 day", periods=3)),
        lambda: pd.Series(pd.period_range("2020-01", periods=3, freq="M")),
        lambda: pd.Series(pd.interval_range(0, 3)),
        lambda: pd.Series(pd.arrays.SparseArray([0, 0, 1])),
        lambda: pd.Series(pd.SparseArray([0, 0, 1])),
        lambda: pd.DataFrame({"a": [1, 2]}).astype(pd.SparseDtype("int64", 0)),
        lambda: pd.Index([1, 2, 3]),
        lambda: pd.Index([1.0, 2.0]),
        lambda: pd.Index(["a", "b"]),
        lambda: pd.Index([1, 2], dtype="uint64"),
        lambda: pd.Index([1, 2], dtype="int32"),
        lambda: pd.RangeIndex(5),
        lambda: pd.CategoricalIndex(["a", "b"]),
        lambda: pd.DatetimeIndex(["2020-01-01", "2020-01-02"]),
        lambda: pd.TimedeltaIndex(["1 day"]),
        lambda: pd.PeriodIndex(["2020-01", "2020-02"], freq="M"),
        lambda: pd.IntervalIndex.from_breaks([0, 1, 2]),
        lambda: pd.MultiIndex.from_product([["a", "b"], [1, 2]], names=["x", "y"]),
        lambda: pd.Index([True, False]),
        lambda: pd.Index([1, None], dtype="Int64"),
        lambda: pd.Index([complex(1, 1)]),
        lambda: pd.DataFrame(
            np.zeros((2, 2)), index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)]), columns=pd.Index(["x", "y"], name="c")
        ),
        lambda: pd.Timestamp("2020-01-01"),
        lambda: pd.Timestamp("2020-01-01", tz="Asia/Tokyo"),
        lambda: pd.Timestamp("2020-01-01", tz="UTC"),
        lambda: pd.Timedelta("1 day"),
        lambda: pd.Period("2020-01", freq="M"),
        lambda: pd.Period("2020-01-01", freq="D"),
        lambda: pd.Interval(0, 1, closed="left"),
        lambda: pd.NaT,
        lambda: pd.NA,
        lambda: pd.DatetimeTZDtype(tz="UTC"),
        lambda: pd.PeriodDtype("D"),
        lambda: pd.IntervalDtype("int64"),
        lambda: pd.Int64Dtype(),
        lambda: pd.StringDtype(),
        lambda: pd.BooleanDtype(),
        lambda: pd.Float64Dtype(),
        lambda: pd.arrays.IntegerArray(np.array([1, 2]), np.array([False, True])),
        lambda: pd.array([1, None], dtype="Int64"),
        lambda: pd.array(["a", None], dtype="string"),
        lambda: pd.array(pd.date_range("2020", periods=2, tz="UTC")),
        lambda: pd.array(pd.timedelta_range("1 day", periods=2)),
        lambda: pd.array(pd.period_range("2020", periods=2)),
        lambda: pd.arrays.IntervalArray.from_breaks([0, 1, 2]),
        lambda: pd.array([1.5], dtype="Float32"),
        lambda: pd.DataFrame({"d": pd.to_datetime(["2020-01-01"]).tz_localize("US/Eastern")}),
        lambda: pd.Series([1, 2], index=pd.date_range("2020", periods=2, freq="B")),
        lambda: pd.Series([1], index=pd.to_datetime(["2020-01-01"]).tz_localize(__import__("pytz").timezone("Europe/Berlin"))),
        lambda: pd.Timestamp("2020-01-01", tz=__import__("dateutil.tz").tz.gettz("Europe/Paris")),
        lambda: pd.Timestamp("2020-01-01", tz=__import__("dateutil.tz").tz.tzutc()),
        lambda: pd.Timestamp("2020-01-01", tz=__import__("dateutil.tz").tz.tzoffset(None, 3600)),
        lambda: pd.Timestamp("2020-01-01", tz=__import__("pytz").FixedOffset(60)),
        lambda: pd.Timestamp("2020-01-01", tz=__import__("pytz").utc),
        lambda: pd.DataFrame({"a": [1]}).set_flags(allows_duplicate_labels=False),
    ):
        objs += attempt(build)
    yield "frames, series, indexes, arrays, scalars", objs
    offsets = []
    for name in dir(pd.offsets):
        offset = getattr(pd.offsets, name)
        if isinstance(offset, type):
            offsets += attempt(offset)
    offsets += attempt(lambda: pd.tseries.frequencies.to_offset("15min"))
    yield "date offsets", offsets
    frame = pd.DataFrame({"a": [1, 2, 2], "b": [1.0, 2.0, 3.0]})
    yield (
        "groupby and window objects",
        [
            x
            for build in (lambda: frame.groupby("a"), lambda: frame.rolling(2), lambda: frame.expanding(), lambda: frame.ewm(com=0.5))
            for x in attempt(build)
        ],
    )


# ------------------------------------------------------------------------------------------ scipy
def scipy_samples():
    import numpy as np
    import scipy.sparse as sp

    dense = np.array([[0, 1.0, 0], [2.0, 0, 3.0]])
    matrices = []
    for name in (
        "csr_matrix",
        "csc_matrix",
        "coo_matrix",
        "bsr_matrix",
        "lil_matrix",
        "dok_matrix",
        "dia_matrix",
        "csr_array",
        "csc_array",
        "coo_array",
        "bsr_array",
        "lil_array",
        "dok_array",
        "dia_array",
    ):
        if hasattr(sp, name):
            matrices.append(getattr(sp, name)(dense))
    matrices += [sp.random(3, 3, density=0.5, format="csr", random_state=0), sp.eye(3, dtype=np.float32)]
    yield "sparse", matrices
    others = []
    try:
        import scipy.stats as stats

        for name in (
            "norm",
            "uniform",
            "loguniform",
            "randint",
            "expon",
            "beta",
            "gamma",
            "poisson",
            "bernoulli",
            "truncnorm",
            "lognorm",
            "reciprocal",
            "binom",
            "geom",
            "t",
            "chi2",
            "dirichlet",
            "multivariate_normal",
        ):
            distribution = getattr(stats, name, None)
            if distribution is None:
                continue
            others.append(distribution)
            for args in ((), (1,), (0.1, 1.0), (2, 5)):
                try:
                    others.append(distribution(*args))
                    break
                except Exception:
                    continue
        others.append(stats.gaussian_kde(np.random.RandomState(0).rand(2, 10)))
    except ImportError:
        pass
    try:
        import scipy.interpolate as interpolate

        x = np.linspace(0, 1, 6)
        others += [
            interpolate.interp1d(x, x**2),
            interpolate.interp1d(x, x, kind="cubic"),
            interpolate.UnivariateSpline(x, x**2),
            interpolate.PchipInterpolator(x, x),
            interpolate.CubicSpline(x, x),
            interpolate.BSpline(np.arange(7.0), np.ones(3), 3),
            interpolate.make_interp_spline(x, x),
            interpolate.RegularGridInterpolator((x,), x),
            interpolate.Akima1DInterpolator(x, x),
            interpolate.PPoly(np.ones((2, 1)), [0, 1]),
        ]
    except Exception:
        pass
    try:
        import scipy.spatial as spatial

        points = np.random.RandomState(0).rand(8, 2)
        others += [spatial.cKDTree(points), spatial.KDTree(points)]
        others.append(spatial.transform.Rotation.from_euler("z", 30, degrees=True))
    except Exception:
        pass
    yield "stats, interpolate, spatial", others


# ---------------------------------------------------------------------------------------- sklearn
def _sklearn_estimators():
    try:
        from sklearn.utils import all_estimators
    except ImportError:  # scikit-learn < 0.22
        from sklearn.utils.testing import all_estimators
    for module in ("enable_hist_gradient_boosting", "enable_iterative_imputer", "enable_halving_search_cv"):
        try:
            __import__("sklearn.experimental." + module)
        except Exception:
            pass
    found = []
    for item in all_estimators():
        found.append(item[1])
    return found


def _sklearn_arguments(cls, task: str) -> dict:  # noqa: C901 -- one case per constructor parameter sklearn needs filled
    """Keyword arguments that make meta-estimators constructible, for a 'classifier' or 'regressor' task."""
    import inspect

    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    try:
        parameters = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return {}
    base = LogisticRegression() if task == "classifier" else Ridge()
    tree = DecisionTreeClassifier(max_depth=2) if task == "classifier" else DecisionTreeRegressor(max_depth=2)
    kwargs = {}
    for name, parameter in parameters.items():
        if name in ("estimator", "base_estimator", "regressor", "classifier"):
            kwargs[name] = base
            if cls.__name__ == "FrozenEstimator":  # wraps an already fitted estimator
                X, y = _rows()
                kwargs[name] = LogisticRegression().fit(X, y) if task == "classifier" else Ridge().fit(X, y)
        elif name == "estimators":
            kwargs[name] = [("a", base), ("b", tree)]
        elif name == "steps":
            kwargs[name] = [("scale", StandardScaler()), ("model", base)]
        elif name == "transformer_list":
            kwargs[name] = [("scale", StandardScaler()), ("pca", PCA(2))]
        elif name == "transformers" and "remainder" in parameters:
            kwargs[name] = [("scale", StandardScaler(), [0, 1]), ("pca", PCA(1), [2, 3])]
        elif name == "param_grid":
            kwargs[name] = {"max_depth": [1, 2]}
            kwargs["estimator"] = tree
        elif name == "param_distributions":
            import scipy.stats

            kwargs[name] = {"max_depth": scipy.stats.randint(1, 3), "min_samples_leaf": [1, 2]}
            kwargs["estimator"] = tree
            if "n_iter" in parameters:
                kwargs["n_iter"] = 2
        elif name == "dictionary":
            import numpy as np

            kwargs[name] = np.random.RandomState(0).rand(3, 4)
        elif name == "n_components" and (parameter.default is inspect.Parameter.empty or parameter.default == "auto"):
            kwargs[name] = 2
        elif name == "perplexity":
            kwargs[name] = 5.0
        elif name == "min_samples" and cls.__name__ == "RANSACRegressor":
            kwargs[name] = 5
    return kwargs


def sklearn_samples():
    import numpy as np
    from sklearn.base import RegressorMixin

    X, y = _rows(30)
    positive = (X * 10).astype(int)
    y_reg = X[:, 0] * 2.0 + 1
    y_multi = np.vstack([y, 1 - y]).T
    y_three = np.arange(len(y)) % 3
    text = ["the cat sat", "a dog ran", "the dog sat", "a cat ran"] * 6
    text_y = np.arange(len(text)) % 2
    datasets = (
        (X, y),
        (X, y_reg),
        (positive, y),
        (X, y_three),
        (X, y_multi),
        (X, None),
        (text, text_y),
        ([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}] * 5, None),
        (X[:, 0], y_reg),
        (y, None),
        ([["a", "b"], ["b"]] * 5, None),
        (X.reshape(30, 2, 2), None),
        (X.dot(X.T), None),
    )
    fitted = []
    failed = []
    warnings.simplefilter("ignore")
    for cls in _sklearn_estimators():
        kwargs = _sklearn_arguments(cls, "regressor" if issubclass(cls, RegressorMixin) else "classifier")
        try:
            fitted.append(cls(**kwargs))  # the unfitted estimator is a real pickle too
        except Exception:
            failed.append(cls.__name__)
            continue
        for features, target in datasets:  # the first data the estimator accepts
            try:
                model = cls(**kwargs)
                model.fit(features) if target is None else model.fit(features, target)
                fitted.append(model)
                break
            except Exception:
                continue
        else:
            failed.append(cls.__name__)
    yield "estimators (unfitted and fitted)", fitted
    if failed:
        sys.stderr.write("sklearn: not fitted: {}\n".format(", ".join(sorted(failed))))
    yield "composites", list(_sklearn_composites(X, y, y_reg))
    try:
        from sklearn.metrics import get_scorer, get_scorer_names

        names = get_scorer_names()
    except ImportError:
        from sklearn.metrics import SCORERS, get_scorer

        names = sorted(SCORERS)
    yield "scorers", [get_scorer(name) for name in names]
    try:
        from sklearn.utils import Bunch

        yield "bunch", [Bunch(a=1)]
    except ImportError:
        pass
    from sklearn.neighbors import BallTree, KDTree

    trees = [KDTree(X), BallTree(X), KDTree(X, metric="manhattan"), BallTree(X, metric="chebyshev")]
    try:
        from sklearn.metrics import DistanceMetric
    except ImportError:
        from sklearn.neighbors import DistanceMetric
    for metric in ("euclidean", "manhattan", "chebyshev", "minkowski", "hamming", "canberra", "braycurtis", "jaccard", "haversine"):
        try:
            trees.append(DistanceMetric.get_metric(metric))
        except Exception:
            pass
    yield "trees and metrics", trees


def _sklearn_composites(X, y, y_reg):
    import numpy as np
    from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.feature_selection import SelectKBest, chi2, f_classif, f_regression, mutual_info_classif
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV, StratifiedKFold
    from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
    from sklearn.preprocessing import (
        FunctionTransformer,
        LabelBinarizer,
        LabelEncoder,
        MultiLabelBinarizer,
        OneHotEncoder,
        StandardScaler,
    )

    def fit(model, *args):
        try:
            return [model.fit(*args)]
        except Exception:
            return []

    import pandas as pd

    frame = pd.DataFrame({"n": X[:, 0], "m": X[:, 1], "c": np.where(y == 1, "a", "b")})
    column = ColumnTransformer([("num", StandardScaler(), ["n", "m"]), ("cat", OneHotEncoder(), ["c"])])
    yield from fit(Pipeline([("prep", column), ("model", LogisticRegression())]), frame, y)
    yield from fit(make_pipeline(SimpleImputer(), SelectKBest(f_classif, k=2), RandomForestClassifier(3)), X, y)
    yield from fit(SelectKBest(chi2, k=2), X, y)
    yield from fit(SelectKBest(f_regression, k=2), X, y_reg)
    yield from fit(SelectKBest(mutual_info_classif, k=2), X, y)
    yield from fit(LabelEncoder(), ["a", "b", "a"])
    yield from fit(LabelEncoder(), y)
    yield from fit(LabelBinarizer(), ["a", "b", "c"])
    yield from fit(MultiLabelBinarizer(), [["a"], ["b", "c"]])
    yield from fit(FunctionTransformer(np.log1p, inverse_func=np.expm1), X)
    yield from fit(TransformedTargetRegressor(LinearRegression(), func=np.log1p, inverse_func=np.expm1), X, y_reg)
    yield from fit(GridSearchCV(LogisticRegression(), {"C": [0.1, 1]}, scoring="f1", cv=StratifiedKFold(3)), X, y)
    yield from fit(GridSearchCV(LogisticRegression(), {"C": [0.1, 1]}, scoring=["accuracy", "roc_auc"], refit="accuracy", cv=3), X, y)
    yield from fit(RandomizedSearchCV(GradientBoostingClassifier(n_estimators=3), {"max_depth": [1, 2]}, n_iter=2, cv=KFold(3)), X, y)
    yield from fit(FeatureUnion([("a", StandardScaler()), ("b", FunctionTransformer())]), X)
    yield from fit(StandardScaler(), frame[["n", "m"]])
    try:
        from sklearn.metrics import fbeta_score, make_scorer

        yield make_scorer(fbeta_score, beta=2)
    except Exception:
        pass
    yield KFold(3), StratifiedKFold(3)


# ----------------------------------------------------------------------------- gradient boosting
def xgboost_samples():
    import xgboost

    X, y = _rows(40)
    models = []
    for cls, target in (
        (xgboost.XGBClassifier, y),
        (xgboost.XGBRegressor, X[:, 0]),
        (xgboost.XGBRFClassifier, y),
        (xgboost.XGBRFRegressor, X[:, 0]),
    ):
        models.append(cls(n_estimators=2, max_depth=2).fit(X, target))
    ranker = xgboost.XGBRanker(n_estimators=2)
    try:
        ranker.fit(X, y, qid=[0] * 20 + [1] * 20)
    except TypeError:
        ranker.fit(X, y, group=[20, 20])
    models.append(ranker)
    models.append(xgboost.train({"max_depth": 2}, xgboost.DMatrix(X, label=y), num_boost_round=2))
    models.append(xgboost.XGBClassifier(n_estimators=2))
    yield "models", models


def lightgbm_samples():
    import lightgbm

    X, y = _rows(60)
    models = [
        lightgbm.LGBMClassifier(n_estimators=2, verbose=-1).fit(X, y),
        lightgbm.LGBMRegressor(n_estimators=2, verbose=-1).fit(X, X[:, 0]),
        lightgbm.LGBMRanker(n_estimators=2, verbose=-1, min_child_samples=1).fit(X, y, group=[30, 30]),
        lightgbm.train({"verbose": -1}, lightgbm.Dataset(X, y), num_boost_round=2),
        lightgbm.LGBMClassifier(),
    ]
    yield "models", models


def catboost_samples():
    import catboost

    X, y = _rows(40)
    train_dir = tempfile.mkdtemp()
    models = [
        catboost.CatBoostClassifier(iterations=2, verbose=False, train_dir=train_dir).fit(X, y),
        catboost.CatBoostRegressor(iterations=2, verbose=False, train_dir=train_dir).fit(X, X[:, 0]),
        catboost.CatBoost({"iterations": 2, "verbose": False, "train_dir": train_dir}).fit(X, y),
    ]
    yield "models", models


def joblib_samples():
    """joblib.dump files (uncompressed and zlib), recorded with the arrays' raw bytes left out."""
    import numpy as np
    from joblib import numpy_pickle

    wrapper = numpy_pickle.NumpyArrayWrapper
    original = wrapper.write_array
    object_arrays = []

    def write_nothing(self, array, pickler):  # the raw bytes follow the pickle: not opcodes
        if array.dtype.hasobject:
            object_arrays.append(array)

    X, _ = _rows()
    payloads = [X, {"a": X, "b": np.arange(3)}, np.array([1, "a"], dtype=object), [X.astype(np.float32)]]
    try:
        from sklearn.linear_model import LogisticRegression

        payloads.append(LogisticRegression().fit(X, (X[:, 0] > 0.5).astype(int)))
    except ImportError:
        pass
    found = Recorded()
    wrapper.write_array = write_nothing
    try:
        for payload in payloads:
            for protocol in (2, 4, 5):
                if protocol > __import__("pickle").HIGHEST_PROTOCOL:
                    continue
                buffer = io.BytesIO()
                numpy_pickle.NumpyPickler(buffer, protocol=protocol).dump(payload)
                found |= globals_in(buffer.getvalue())
    finally:
        wrapper.write_array = original
    for object_array in object_arrays:
        found |= globals_in(__import__("pickle").dumps(object_array, protocol=2))
    yield "joblib.dump", found


# ------------------------------------------------------------------------------------------- torch
def torch_save_globals(obj) -> set:
    """Globals of `obj` saved by torch.save: zip format (protocols 2 and 4) and the legacy format."""
    import torch

    found = set()
    for protocol in (2, 4):
        buffer = io.BytesIO()
        torch.save(obj, buffer, pickle_protocol=protocol)
        found |= zip_pickle_globals(buffer.getvalue())
    buffer = io.BytesIO()
    torch.save(obj, buffer, _use_new_zipfile_serialization=False)
    found |= globals_in(buffer.getvalue(), max_pickles=5)  # raw storage bytes follow the 5th pickle
    return found


def _torch_modules():
    import inspect

    import torch

    modules = []
    for name in sorted(dir(torch.nn)):
        cls = getattr(torch.nn, name)
        if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)) or inspect.isabstract(cls):
            continue
        for args in ((), (4,), (4, 4), (4, 4, 3), (4, 2, 4), ([4],)):
            try:
                modules.append(cls(*args))
                break
            except Exception:
                continue
    return modules


def torch_samples():
    import torch

    found = Recorded()
    tensors = {}
    for dtype in (
        torch.float32,
        torch.float64,
        torch.float16,
        torch.bfloat16,
        torch.int8,
        torch.uint8,
        torch.int16,
        torch.int32,
        torch.int64,
        torch.bool,
        torch.complex64,
        torch.complex128,
        torch.complex32,
        getattr(torch, "float8_e4m3fn", torch.float32),
        getattr(torch, "float8_e5m2", torch.float32),
        getattr(torch, "uint16", torch.float32),
        getattr(torch, "uint32", torch.float32),
        getattr(torch, "uint64", torch.float32),
    ):
        try:
            tensors[str(dtype)] = torch.zeros(2, 3, dtype=dtype)
        except Exception:
            pass
    dense = torch.tensor([[0.0, 1.0], [2.0, 0.0]])
    tensors.update(
        coo=dense.to_sparse(),
        csr=dense.to_sparse_csr(),
        csc=dense.to_sparse_csc(),
        bsr=dense.to_sparse_bsr((1, 1)),
        bsc=dense.to_sparse_bsc((1, 1)),
        qint8=torch.quantize_per_tensor(dense, 0.1, 0, torch.qint8),
        quint8=torch.quantize_per_tensor(dense, 0.1, 0, torch.quint8),
        qchannel=torch.quantize_per_channel(dense, torch.tensor([0.1, 0.2]), torch.tensor([0, 0]), 0, torch.qint8),
        meta=torch.empty(2, device="meta"),
        parameter=torch.nn.Parameter(dense),
        size=torch.Size([2, 3]),
        device=torch.device("cpu"),
        dtype=torch.float16,
        strided=dense.t(),
        channels_last=torch.zeros(1, 2, 2, 2).to(memory_format=torch.channels_last),
        rng=torch.get_rng_state(),
        generator=torch.Generator().get_state(),
        requires_grad=torch.ones(2, requires_grad=True),
        layout=torch.sparse_coo,
        layouts=[torch.strided, torch.sparse_csr, torch.sparse_csc, torch.sparse_bsr, torch.sparse_bsc],
        view=dense[0],
        nested=torch.nested.nested_tensor([torch.ones(2), torch.ones(3)]),
        max=torch.max(dense, 0),
        sort=torch.sort(dense),
    )
    for name, value in tensors.items():
        try:
            found |= torch_save_globals({name: value})
        except Exception as error:
            sys.stderr.write(f"torch: {name} not saved: {error}\n")
    models = _torch_modules()
    sequential = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(2, 3)
    )
    models.append(sequential)
    models.append(torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(3, 3)))
    try:
        models.append(torch.nn.utils.weight_norm(torch.nn.Linear(3, 3)))
        models.append(torch.nn.utils.spectral_norm(torch.nn.Linear(3, 3)))
    except Exception:
        pass
    for model in models:
        try:
            found |= torch_save_globals(model)
            found |= torch_save_globals(model.state_dict())
        except Exception as error:
            sys.stderr.write(f"torch: module {type(model).__name__} not saved: {error}\n")
    found |= _torch_training_objects()
    yield "torch.save of tensors, modules, optimizers, schedulers, scalers", found
    yield "torch.jit.save (TorchScript)", Recorded(_torchscript_globals())


def _torchscript_globals() -> set:
    """Globals of the pickles inside a TorchScript archive whose module holds lists, dicts and tuples."""
    import torch

    class Holder(torch.nn.Module):  # TorchScript infers the attribute types from the values
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(3, 2)
            self.ints, self.floats, self.flags = [1, 2], [0.5], [True]
            self.tensors, self.table, self.pair = [torch.ones(2)], {"a": torch.zeros(1)}, (1, "x")

        def forward(self, x):
            return self.linear(x) * self.tensors[0].sum() + self.ints[0] + self.floats[0]

    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(Holder()), buffer)
    return {item for item in zip_pickle_globals(buffer.getvalue()) if not item[0].startswith("__torch__")}


def _torch_training_objects() -> set:
    import inspect

    import torch

    found = set()
    for name in sorted(dir(torch.optim)):
        cls = getattr(torch.optim, name)
        if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)) or cls is torch.optim.Optimizer:
            continue
        model = torch.nn.Linear(3, 2)
        try:
            optimizer = cls(model.parameters(), lr=0.1) if "lr" in inspect.signature(cls).parameters else cls(model.parameters())
            model(torch.ones(4, 3)).sum().backward()
            if name == "LBFGS":
                optimizer.step(lambda: model(torch.ones(4, 3)).sum())  # noqa: B023 -- called within this iteration
            else:
                optimizer.step()
            found |= torch_save_globals(optimizer.state_dict())
            found |= torch_save_globals(optimizer)
        except Exception as error:
            sys.stderr.write(f"torch: optimizer {name}: {error}\n")
    schedulers = torch.optim.lr_scheduler
    arguments = {
        "StepLR": (1,),
        "MultiStepLR": ([1, 2],),
        "ExponentialLR": (0.9,),
        "CosineAnnealingLR": (5,),
        "CyclicLR": (0.01, 0.1),
        "OneCycleLR": (0.1, 10),
        "CosineAnnealingWarmRestarts": (2,),
        "PolynomialLR": (),
        "ConstantLR": (),
        "LinearLR": (),
        "ReduceLROnPlateau": (),
    }
    for name in sorted(dir(schedulers)):
        cls = getattr(schedulers, name)
        if not isinstance(cls, type) or name not in arguments:
            continue
        optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1, momentum=0.9)
        try:
            scheduler = cls(optimizer, *arguments[name])
            optimizer.step()
            scheduler.step(1.0) if name == "ReduceLROnPlateau" else scheduler.step()
            found |= torch_save_globals(scheduler.state_dict())
            found |= torch_save_globals(scheduler)
        except Exception as error:
            sys.stderr.write(f"torch: scheduler {name}: {error}\n")
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)
    for build in (
        lambda: schedulers.SequentialLR(optimizer, [schedulers.ConstantLR(optimizer), schedulers.StepLR(optimizer, 1)], [1]),
        lambda: schedulers.ChainedScheduler([schedulers.ConstantLR(optimizer), schedulers.StepLR(optimizer, 1)]),
        lambda: torch.optim.swa_utils.SWALR(optimizer, swa_lr=0.05),
        lambda: torch.optim.swa_utils.AveragedModel(torch.nn.Linear(2, 2)),
    ):
        try:
            scheduler = build()
            found |= torch_save_globals(scheduler.state_dict())
            found |= torch_save_globals(scheduler)
        except Exception as error:
            sys.stderr.write(f"torch: {error}\n")
    for build in (
        lambda: torch.amp.GradScaler("cpu"),
        lambda: torch.cuda.amp.GradScaler(enabled=False),
        lambda: torch.amp.GradScaler("cuda", enabled=False),
    ):
        try:
            scaler = build()
            found |= torch_save_globals(scaler.state_dict())
            found |= torch_save_globals(scaler)
        except Exception as error:
            sys.stderr.write(f"torch: scaler {error}\n")
    return found


# ------------------------------------------------------------------------ configs and trainers
def omegaconf_samples():
    from omegaconf import DictConfig, ListConfig, OmegaConf

    config = OmegaConf.create(
        {
            "model": {"name": "x", "layers": [1, 2, {"a": None}], "lr": 0.1, "flag": True, "ref": "${model.name}"},
            "list": [[1], {"b": "c"}],
            "missing": "???",
        }
    )
    typed = OmegaConf.structured({"a": 1})
    config_with_flags = OmegaConf.create({"a": {"b": 1}})
    OmegaConf.set_struct(config_with_flags, True)
    OmegaConf.set_readonly(config_with_flags, True)
    yield "configs", [config, OmegaConf.create([1, {"a": [2]}]), typed, config_with_flags, DictConfig({}), ListConfig([])]


def transformers_samples():
    import transformers

    output_dir = tempfile.mkdtemp()
    arguments = [
        transformers.TrainingArguments(output_dir=output_dir, report_to=[]),
        transformers.Seq2SeqTrainingArguments(
            output_dir=output_dir,
            report_to=[],
            predict_with_generate=True,
            generation_config=transformers.GenerationConfig(max_new_tokens=3),
        ),
    ]
    objects = list(arguments) + [transformers.GenerationConfig(do_sample=True, top_k=5, num_beams=2)]
    for name in ("TrainerState", "TrainerControl"):
        if hasattr(transformers, name):
            objects.append(getattr(transformers, name)())
    found = Recorded()
    for obj in objects:
        found |= torch_save_globals(obj)
    found |= _trainer_checkpoint_globals()
    yield "training arguments, configs, trainer checkpoint", found
    yield "pickled configs", objects


def _trainer_checkpoint_globals() -> set:
    """Globals of every pickle a tiny Trainer run writes into its checkpoint folder (CPU, no download)."""
    import torch
    import transformers

    config = transformers.BertConfig(
        vocab_size=30,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=8,
        max_position_embeddings=16,
        num_labels=2,
    )
    model = transformers.BertForSequenceClassification(config)
    data = [
        {"input_ids": torch.tensor([1, 2, 3]), "attention_mask": torch.ones(3, dtype=torch.long), "labels": torch.tensor(i % 2)}
        for i in range(8)
    ]
    output_dir = tempfile.mkdtemp()
    wanted = dict(
        output_dir=output_dir,
        per_device_train_batch_size=4,
        max_steps=2,
        save_steps=1,
        report_to=[],
        logging_steps=1,
        use_cpu=True,
        save_safetensors=True,
    )
    fields = transformers.TrainingArguments.__dataclass_fields__
    arguments = transformers.TrainingArguments(**{key: value for key, value in wanted.items() if key in fields})
    transformers.Trainer(model=model, args=arguments, train_dataset=data).train()
    return _folder_globals(output_dir)


def _folder_globals(folder: str) -> set:
    """Globals of every torch-saved or pickled file under `folder` (json, safetensors and logs are skipped)."""
    found = set()
    for root, _, files in os.walk(folder):
        for name in files:
            if name.endswith((".json", ".safetensors", ".txt", ".yaml", ".md")) or "events.out" in name:
                continue
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                data = handle.read()
            if data[:2] == b"PK":
                found |= zip_pickle_globals(data)
            else:
                try:
                    found |= globals_in(data, max_pickles=5)
                except Exception as error:
                    sys.stderr.write(f"{path}: {error}\n")
    return found


def accelerate_samples():
    import torch
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=True)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1)
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
    accelerator.backward(model(torch.ones(2, 3)).sum())
    optimizer.step()
    scheduler.step()
    folder = tempfile.mkdtemp()
    accelerator.save_state(folder)
    yield "save_state folder", Recorded(_folder_globals(folder))
    import accelerate.utils.dataclasses as dataclasses

    yield (
        "enums",
        [
            member
            for cls in vars(dataclasses).values()
            if isinstance(cls, type) and issubclass(cls, enum.Enum) and cls.__module__ == dataclasses.__name__
            for member in list(cls)[:1]
        ],
    )


def lightning_samples():
    found = Recorded()
    for package in ("lightning.pytorch", "pytorch_lightning"):
        try:
            found |= _lightning_checkpoint_globals(package)
        except ImportError:
            continue
    yield "trainer checkpoints", found
    objects = []
    for module in (
        "lightning.fabric.utilities.data",
        "lightning_fabric.utilities.data",
        "pytorch_lightning.utilities.parsing",
        "lightning.pytorch.utilities.parsing",
    ):
        try:
            objects.append(__import__(module, fromlist=["AttributeDict"]).AttributeDict(lr=0.1, layers=[1, 2]))
        except (ImportError, AttributeError):
            pass
    yield "hparams", objects


def _lightning_checkpoint_globals(package: str) -> set:
    import importlib

    import torch

    pl = importlib.import_module(package)
    callbacks = importlib.import_module(package + ".callbacks")

    class Tiny(pl.LightningModule):
        def __init__(self, lr: float = 0.1, layers=(1, 2), name: str = "tiny"):
            super().__init__()
            self.save_hyperparameters()
            self.layer = torch.nn.Linear(3, 1)

        def training_step(self, batch, index):
            loss = self.layer(batch).sum()
            self.log("loss", loss)
            return loss

        def configure_optimizers(self):
            optimizer = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
            return {"optimizer": optimizer, "lr_scheduler": torch.optim.lr_scheduler.StepLR(optimizer, 1)}

    Tiny.__module__ = "tiny_model"
    folder = tempfile.mkdtemp()
    trainer = pl.Trainer(
        max_steps=2,
        default_root_dir=folder,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[
            callbacks.ModelCheckpoint(dirpath=folder, monitor="loss", save_last=True),
            callbacks.EarlyStopping(monitor="loss"),
            callbacks.ModelCheckpoint(dirpath=folder),
        ],
    )
    trainer.fit(Tiny(), torch.utils.data.DataLoader(torch.ones(8, 3), batch_size=4))
    found = _folder_globals(folder)
    return {item for item in found if item[0] != "tiny_model"}


def tokenizers_samples():
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.decoder = decoders.BPEDecoder()
    tokenizer.train_from_iterator(["the cat sat", "a dog ran"] * 4, trainers.BpeTrainer(special_tokens=["[UNK]", "[CLS]", "[SEP]"]))
    tokenizer.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 1), ("[SEP]", 2)])
    objects = [
        tokenizer,
        models.BPE(),
        models.WordPiece(),
        models.Unigram(),
        models.WordLevel(),
        AddedToken("x"),
        normalizers.NFKC(),
        pre_tokenizers.ByteLevel(),
        decoders.ByteLevel(),
        processors.ByteLevel(),
    ]
    yield "tokenizers", objects


BUILDERS = {
    "python": python_samples,
    "http": http_samples,
    "numpy": numpy_samples,
    "pandas": pandas_samples,
    "scipy": scipy_samples,
    "sklearn": sklearn_samples,
    "xgboost": xgboost_samples,
    "lightgbm": lightgbm_samples,
    "catboost": catboost_samples,
    "joblib": joblib_samples,
    "torch": torch_samples,
    "omegaconf": omegaconf_samples,
    "transformers": transformers_samples,
    "accelerate": accelerate_samples,
    "lightning": lightning_samples,
    "tokenizers": tokenizers_samples,
}
