"""scan_pickle: each bypass class of the published scanner advisories, by rule, member and offset.

Every fixture is written opcode by opcode (picklegen) or with pickle.dumps of plain data;
nothing is ever unpickled.
"""

from __future__ import annotations

import collections
import pickle

import pytest
from picklegen import (
    BINPERSID,
    BUILD,
    DUP,
    EMPTY_DICT,
    EMPTY_TUPLE,
    MARK,
    MEMOIZE,
    NEWFALSE,
    NEWOBJ,
    NEWOBJ_EX,
    NONE,
    POP,
    REDUCE,
    SETITEM,
    STACK_GLOBAL,
    STOP,
    TUPLE,
    TUPLE1,
    TUPLE2,
    Pickle,
    binget,
    binint1,
    binput,
    ext1,
    ext2,
    ext4,
    get,
    global_,
    put,
    short_unicode,
    stack_global,
    string,
    system_call,
    unicode_line,
)

from mlgate.models.callables import Policy, Verdict
from mlgate.models.pickles import looks_like_pickle, scan_pickle
from mlgate.models.where import Where

PATH = "model.pkl"


def scan(data: bytes, options: dict | None = None, **kwargs) -> list[tuple[str, str, str | None, int | None]]:
    return [(f.rule.code, f.path, f.member, f.offset) for f in scan_pickle(data, Where(PATH), options or {}, **kwargs)]


def messages(data: bytes, options: dict | None = None) -> list[str]:
    return [f.message for f in scan_pickle(data, Where(PATH), options or {})]


def test_global_reduce_of_os_system_is_critical_at_the_call():
    data, at = system_call()
    assert scan(data) == [("MOD001", PATH, None, at)]
    assert messages(data) == ["pickle calls os.system via REDUCE: runs processes or shell commands"]


def test_protocol_0_text_global():
    data = b"cos\nsystem\n(S'id'\ntR."
    assert scan(data) == [("MOD001", PATH, None, data.index(b"R"))]


def test_posix_alias_and_python2_module_names():
    data = b"cposix\nsystem\n(S'id'\ntR." + b"ccommands\ngetoutput\n(S'id'\ntR."
    # one stream, one finding per rule: at the first call, naming the other
    assert scan(data) == [("MOD001", PATH, None, data.index(b"R"))]
    assert messages(data) == [  # commands is Python 2's subprocess
        "pickle calls posix.system via REDUCE: runs processes or shell commands; also subprocess.getoutput"
    ]


def test_stack_global_with_names_from_the_memo():
    stream = Pickle(4)
    stream.add(short_unicode("os"), MEMOIZE, POP, short_unicode("system"), MEMOIZE, POP)
    stream.add(binget(0), binget(1), STACK_GLOBAL, short_unicode("id"), TUPLE1)
    at = stream.add(REDUCE, STOP)
    assert scan(stream.bytes()) == [("MOD001", PATH, None, at)]


def test_memo_confusion_mixing_put_and_memoize():
    """picklescan #14: BINPUT fills explicit slots, MEMOIZE the next free count."""
    stream = Pickle(4)
    stream.add(short_unicode("os"), binput(0), short_unicode("system"), binput(1))
    stream.add(short_unicode("torch._utils"), MEMOIZE, short_unicode("_rebuild_tensor_v2"), MEMOIZE)
    stream.add(POP, POP, POP, POP, binget(0), binget(1), STACK_GLOBAL, EMPTY_TUPLE)
    at = stream.add(REDUCE, STOP)
    assert scan(stream.bytes()) == [("MOD001", PATH, None, at)]


def test_text_put_and_get_resolve_too():
    stream = Pickle()
    stream.add(unicode_line("subprocess"), put(7), POP, unicode_line("getoutput"), put(8), POP)
    stream.add(get(7), get(8), STACK_GLOBAL, string("id"), TUPLE1)
    at = stream.add(REDUCE, STOP)
    assert scan(stream.bytes()) == [("MOD001", PATH, None, at)]


def test_callable_kept_in_the_memo_is_reported_where_it_is_called():
    stream = Pickle(2)
    stream.add(global_("os", "system"), binput(3), POP, NONE, POP)
    stream.add(binget(3), short_unicode("id"), TUPLE1)
    at = stream.add(REDUCE, STOP)
    assert scan(stream.bytes()) == [("MOD001", PATH, None, at)]


def test_second_pickle_of_the_file_is_malicious():
    first = pickle.dumps({"weights": [1.0, 2.0]}, protocol=4)
    data, at = system_call()
    assert scan(first + data) == [("MOD001", PATH, None, len(first) + at)]


def test_truncated_stream_after_a_dangerous_call_reports_both():
    data, at = system_call()
    truncated = data[:-1]
    assert scan(truncated) == [("MOD001", PATH, None, at), ("MOD004", PATH, None, len(truncated))]


def test_inst_invokes_its_class():
    data = b"(S'id'\nios\nsystem\n."
    assert scan(data) == [("MOD001", PATH, None, data.index(b"ios"))]


def test_obj_invokes_the_first_item_after_mark():
    data = b"(cos\nsystem\nS'id'\no."
    assert scan(data) == [("MOD001", PATH, None, data.index(b"o."))]


@pytest.mark.parametrize("opcode", [NEWOBJ, NEWOBJ_EX])
def test_newobj_of_an_unknown_class_is_high(opcode):
    stream = Pickle(4)
    stream.add(stack_global("evil.payload", "Thing"), EMPTY_TUPLE)
    if opcode == NEWOBJ_EX:
        stream.add(EMPTY_DICT)
    at = stream.add(opcode, STOP)
    assert scan(stream.bytes()) == [("MOD002", PATH, None, at)]


def test_class_instantiated_by_copyreg_reconstructor_then_built():
    """BUILD runs __setstate__ of the class copyreg._reconstructor made: that class is called."""
    stream = Pickle(2)
    stream.add(global_("copyreg", "_reconstructor"), global_("evil.payload", "Thing"), global_("builtins", "object"), NONE, b"\x87")
    at = stream.add(REDUCE, EMPTY_DICT, short_unicode("cmd"), short_unicode("id"), SETITEM, BUILD, STOP)
    assert scan(stream.bytes()) == [("MOD002", PATH, None, at)]
    assert messages(stream.bytes()) == [
        "pickle calls evil.payload.Thing via copyreg._reconstructor (REDUCE), which is not in the allowlist of data-rebuilding callables"
    ]


def test_build_on_a_global_object_patches_it():
    """modelscan #85: BUILD on numpy.prod sets attributes on the function itself."""
    stream = Pickle(2)
    stream.add(global_("numpy", "prod"), NONE, MARK, short_unicode("a"), short_unicode("os"), b"d", TUPLE2)
    at = stream.add(BUILD, STOP)
    assert scan(stream.bytes()) == [("MOD001", PATH, None, at)]
    assert "modifies the global numpy.prod in place via BUILD" in messages(stream.bytes())[0]


def test_setitem_on_the_extension_registry():
    stream = Pickle(2)
    stream.add(global_("copyreg", "_inverted_registry"), binint1(1), MARK, short_unicode("os"), short_unicode("system"), TUPLE)
    stream.add(SETITEM, STOP)
    assert scan(stream.bytes()) == [("MOD001", PATH, None, 2)]
    assert messages(stream.bytes()) == [
        "pickle imports copyreg._inverted_registry: tampers with pickle's own registries; "
        "also copyreg._inverted_registry modified in place via SETITEM"
    ]


def test_name_computed_from_a_global_attribute():
    """modelscan #85 part two: STACK_GLOBAL whose module is an attribute set at load time."""
    stream = Pickle(4)
    stream.add(global_("numpy", "prod.a"), global_("numpy", "prod.b"), STACK_GLOBAL, short_unicode("id"), TUPLE1)
    at = stream.add(REDUCE, STOP)
    assert scan(stream.bytes()) == [("MOD001", PATH, None, at)]
    assert "computed at load time (<computed>.<computed>)" in messages(stream.bytes())[0]


def test_getattr_gadget_chain_reports_each_dangerous_callable_once():
    stream = Pickle(2)
    stream.add(global_("builtins", "getattr"), binput(0), POP)
    stream.add(binget(0), global_("importlib", "import_module"), short_unicode("os"), TUPLE1)
    inner = stream.add(REDUCE, short_unicode("system"), TUPLE2)
    stream.add(REDUCE, short_unicode("id"), TUPLE1, REDUCE, STOP)
    assert scan(stream.bytes()) == [("MOD001", PATH, None, inner)]
    assert messages(stream.bytes()) == [
        "pickle calls importlib.import_module via REDUCE: imports modules or resolves names at load time; also builtins.getattr"
    ]


def objects(stream: Pickle, *classes: str) -> list[int]:
    """Adds `cls()` (NEWOBJ) for each dotted class, each popped; returns the NEWOBJ offsets."""
    offsets = []
    for dotted in classes:
        module, _, name = dotted.rpartition(".")
        stream.add(stack_global(module, name), EMPTY_TUPLE)
        offsets.append(stream.add(NEWOBJ, POP))
    return offsets


def test_one_finding_per_rule_names_every_callable_and_keeps_the_dangerous_one_critical():
    """A cloudpickled pipeline rebuilds many classes: the maintainer fixes the file once. The
    unknown calls that come first do not turn the os.system call into MOD002."""
    stream = Pickle(4)
    [first] = objects(stream, "tempo.serve.pipeline.Pipeline")
    stream.add(stack_global("os", "system"), short_unicode("id"), TUPLE1)
    system = stream.add(REDUCE, POP)
    objects(stream, "tempo.serve.metadata.ModelDetails", "tempo.seldon.protocol.SeldonProtocol")
    stream.add(NONE, STOP)
    # one finding for the one fix: the unknown classes are named in the dangerous finding
    assert scan(stream.bytes()) == [("MOD001", PATH, None, system)]
    assert messages(stream.bytes()) == [
        "pickle calls os.system via REDUCE: runs processes or shell commands; also tempo.serve.pipeline.Pipeline (outside the "
        "allowlist), tempo.serve.metadata.ModelDetails (outside the allowlist), tempo.seldon.protocol.SeldonProtocol (outside the allowlist)"
    ]
    assert first < system


def test_a_long_group_names_the_first_callables_and_counts_the_rest():
    stream = Pickle(4)
    classes = [f"pkg.layer{number}.Block{number}" for number in range(12)]
    [first, *_] = objects(stream, *classes)
    stream.add(NONE, STOP)
    assert scan(stream.bytes()) == [("MOD002", PATH, None, first)]
    [message] = messages(stream.bytes())
    assert message.startswith("pickle calls pkg.layer0.Block0 via NEWOBJ, which is not in the allowlist")
    assert message.endswith(f"; also {', '.join(classes[1:9])} and 3 more")


def test_a_dangerous_group_leads_with_the_worst_reason_at_the_first_offset():
    """operator.attrgetter comes first, os.system is worse: the finding stays at the first call and tells the worst."""
    stream = Pickle(4)
    stream.add(stack_global("operator", "attrgetter"), short_unicode("x"), TUPLE1)
    partial = stream.add(REDUCE, POP)
    stream.add(stack_global("os", "system"), short_unicode("id"), TUPLE1)
    system = stream.add(REDUCE, STOP)
    assert scan(stream.bytes()) == [("MOD001", PATH, None, partial)]
    assert messages(stream.bytes()) == [
        f"pickle calls os.system via REDUCE: runs processes or shell commands (at offset {system}); also operator.attrgetter"
    ]
    # the fingerprint leaves the offset out: the same calls after a re-save keep their baseline entry
    shifted = pickle.dumps(0, protocol=4) + stream.bytes()
    [(before, _)] = [(f.context, f.offset) for f in scan_pickle(stream.bytes(), Where(PATH), {})]
    [(after, offset)] = [(f.context, f.offset) for f in scan_pickle(shifted, Where(PATH), {})]
    assert (after, offset) == (before, partial + len(shifted) - len(stream.bytes()))


def test_a_pickle_stored_inside_a_pickle_is_a_reading_of_its_own():
    """Its calls run when the code that reads the value unpickles it: a finding of its own."""
    inner = Pickle(4)
    [inner_call] = objects(inner, "evil.payload.Inner")
    inner.add(NONE, STOP)
    stream = Pickle(4)
    [outer_call] = objects(stream, "evil.payload.Outer")
    value_at = stream.add(b"B" + len(inner.bytes()).to_bytes(4, "little")) + 5
    stream.add(inner.bytes(), POP, NONE, STOP)
    assert scan(stream.bytes()) == [("MOD002", PATH, None, outer_call), ("MOD002", PATH, None, value_at + inner_call)]
    assert "evil.payload.Inner" not in messages(stream.bytes())[0]


def dill_partial(function: tuple[str, str], type_name: str = "PartialType") -> tuple[Pickle, int, int]:
    """What dill writes for functools.partial(function, 15): `_create_ftype(_load_type(type_name),
    function, (15,), {})`. Returns the stream (not yet stopped), the _load_type call's offset and
    the _create_ftype call's offset."""
    stream = Pickle(4)
    stream.add(stack_global("dill._dill", "_create_ftype"), MARK)
    stream.add(stack_global("dill._dill", "_load_type"), short_unicode(type_name), TUPLE1)
    load_type = stream.add(REDUCE)
    stream.add(stack_global(*function), binint1(15), TUPLE1, EMPTY_DICT, TUPLE)  # (partial_type, function, (15,), {})
    create = stream.add(REDUCE)
    return stream, load_type, create


def test_a_dill_partial_is_judged_as_the_partial_it_builds():
    """alibi's segmentation_fn.dill: functools.partial(skimage.segmentation.slic, ...) carries no
    code; the function is stored, not called."""
    stream, _, create = dill_partial(("skimage.segmentation", "slic"))
    stream.add(STOP)
    # the wrapped function runs when the partial is used: judged as called, outside the allowlist
    assert scan(stream.bytes()) == [("MOD002", PATH, None, create)]
    assert messages(stream.bytes())[0].startswith("pickle calls skimage.segmentation.slic via dill._dill._create_ftype (REDUCE)")


def test_a_partial_is_judged_by_the_function_it_wraps():
    def partial_of(module: str, name: str) -> tuple[bytes, int]:
        stream = Pickle(4)
        stream.add(stack_global("functools", "partial"), stack_global(module, name), binint1(1), TUPLE2)
        at = stream.add(REDUCE)
        stream.add(STOP)
        return stream.bytes(), at

    safe, _ = partial_of("builtins", "int")
    unknown, unknown_at = partial_of("mypkg.tools", "run")
    dangerous, dangerous_at = partial_of("os", "system")
    assert scan(safe) == [("MOD003", PATH, None, 0)]
    assert scan(unknown) == [("MOD002", PATH, None, unknown_at)]
    assert scan(dangerous) == [("MOD001", PATH, None, dangerous_at)]


@pytest.mark.parametrize("type_name", ["CodeType", "FunctionType", "NoSuchType"])
def test_a_dill_type_that_builds_code_or_that_dill_cannot_name_is_critical(type_name):
    stream, load_type, create = dill_partial(("skimage.segmentation", "slic"), type_name)
    stream.add(STOP)
    assert load_type < create and scan(stream.bytes()) == [("MOD001", PATH, None, create)]  # where _create_ftype calls it
    assert (type_name if type_name != "NoSuchType" else "_load_type(NoSuchType)") in messages(stream.bytes())[0]


def test_a_dill_partial_of_a_dangerous_function_or_one_called_later_is_reported():
    stream, _, _ = dill_partial(("os", "system"))
    stream.add(STOP)
    assert [hit[0] for hit in scan(stream.bytes())] == ["MOD001"]
    called, _, create = dill_partial(("mypkg.tools", "run"))
    called.add(EMPTY_TUPLE)
    later = called.add(REDUCE)  # partial(mypkg.tools.run, 15)(): runs run(15) at load
    called.add(STOP)
    assert create < later and scan(called.bytes()) == [("MOD002", PATH, None, create)]
    assert "the object returned by dill._dill._create_ftype(...)" in messages(called.bytes())[0]  # the later call is named too


def test_calling_what_an_unknown_resolver_returned_is_critical():
    """pkgutil.resolve_name-style bypass through a resolver no list knows."""
    stream = Pickle(2)
    stream.add(global_("somelib.names", "resolve"), short_unicode("os:system"), TUPLE1)
    first = stream.add(REDUCE, short_unicode("id"), TUPLE1)
    second = stream.add(REDUCE, STOP)
    assert first < second and scan(stream.bytes()) == [("MOD001", PATH, None, second)]
    assert messages(stream.bytes()) == [
        "pickle calls the object returned by somelib.names.resolve(...) via REDUCE: a gadget chain; "
        "also somelib.names.resolve (outside the allowlist)"
    ]


@pytest.mark.parametrize(
    "module, name",
    [
        ("pip", "main"),  # CVE-2025-1716
        ("pip._internal.cli.main", "main"),
        ("pickle", "loads"),  # nested pickle
        ("_pickle", "loads"),
        ("marshal", "loads"),
        ("runpy", "_run_code"),
        ("runpy", "run_path"),
        ("pydoc", "locate"),
        ("pkgutil", "resolve_name"),
        ("importlib", "import_module"),
        ("functools", "partialmethod"),
        ("operator", "attrgetter"),
        ("operator", "methodcaller"),
        ("_operator", "itemgetter"),
        ("builtins", "eval"),
        ("__builtin__", "exec"),
        ("builtins", "__import__"),
        ("builtins", "getattr"),
        ("subprocess", "Popen"),
        ("pty", "spawn"),
        ("code", "InteractiveInterpreter.runcode"),
        ("cProfile", "run"),
        ("timeit", "timeit"),
        ("pdb", "run"),
        ("trace", "Trace.run"),
        ("idlelib.pyshell", "ModifiedInterpreter.runcode"),
        ("numpy.testing._private.utils", "runstring"),
        ("numpy", "load"),
        ("torch", "load"),
        ("torch.hub", "load"),
        ("torch.storage", "_load_from_bytes"),
        ("torch.jit", "load"),
        ("shutil", "rmtree"),
        ("distutils.file_util", "write_file"),
        ("_io", "FileIO"),
        ("asyncio.unix_events", "_UnixSubprocessTransport"),
        ("socket", "create_connection"),
        ("urllib.request", "urlopen"),
        ("requests", "get"),
        ("webbrowser", "open"),
        ("ctypes", "CDLL"),
        ("types", "CodeType"),
        ("ensurepip", "_run_pip"),
        ("venv", "create"),
        ("uuid", "_get_command_stdout"),
        ("mailcap", "findmatch"),
        ("imaplib", "IMAP4_stream"),
        ("_interpreters", "run_string"),
        ("sys", "modules"),
        ("pathlib", "Path.write_text"),
        ("numpy", "ndarray.tofile"),
        ("collections", "OrderedDict.__init__.__globals__"),
    ],
)
def test_known_dangerous_callables_are_critical(module, name):
    stream = Pickle(2)
    stream.add(global_(module, name), short_unicode("x"), TUPLE1)
    at = stream.add(REDUCE, STOP)
    assert scan(stream.bytes()) == [("MOD001", PATH, None, at)]


def test_dangerous_global_only_imported_is_still_critical():
    stream = Pickle(2)
    at = stream.add(global_("os", "system"))
    stream.add(STOP)
    assert scan(stream.bytes()) == [("MOD001", PATH, None, at)]
    assert messages(stream.bytes()) == ["pickle imports os.system: runs processes or shell commands"]


def test_os_path_is_not_dangerous_but_not_allowed_either():
    stream = Pickle(2)
    stream.add(global_("os.path", "join"), short_unicode("a"), TUPLE1)
    at = stream.add(REDUCE, STOP)
    assert scan(stream.bytes()) == [("MOD002", PATH, None, at)]


@pytest.mark.parametrize("opcode, code", [(ext1, 1), (ext2, 300), (ext4, 70000)])
def test_extension_registry_callable_is_unknown(opcode, code):
    stream = Pickle(2)
    stream.add(opcode(code), short_unicode("id"), TUPLE1)
    at = stream.add(REDUCE, STOP)
    assert scan(stream.bytes()) == [("MOD002", PATH, None, at)]
    assert messages(stream.bytes()) == [
        f"pickle calls the copyreg extension code {code} via REDUCE: the registry can map it to any callable"
    ]


def test_extension_code_zero_breaks_the_stream():
    stream = Pickle(2)
    at = stream.add(ext1(0), STOP)
    assert scan(stream.bytes()) == [("MOD004", PATH, None, at)]


def test_persistent_object_called_as_a_class():
    """torch's legacy persistent_load returns the class named in a ('module', cls, ...) id."""
    stream = Pickle(2)
    stream.add(short_unicode("module"), global_("evil", "Loader"), short_unicode(""), b"\x87", BINPERSID, EMPTY_TUPLE)
    at = stream.add(REDUCE, STOP)
    assert scan(stream.bytes()) == [("MOD002", PATH, None, at)]


def torch_like_state_dict() -> bytes:
    """collections.OrderedDict({'w': _rebuild_tensor_v2(persistent storage, ...)}) as torch.save writes it."""
    stream = Pickle(2)
    stream.add(global_("collections", "OrderedDict"), binput(0), EMPTY_TUPLE, REDUCE, binput(1))
    stream.add(short_unicode("w"), global_("torch._utils", "_rebuild_tensor_v2"), binput(2), MARK)
    stream.add(
        MARK,
        short_unicode("storage"),
        global_("torch", "FloatStorage"),
        short_unicode("0"),
        short_unicode("cpu"),
        binint1(4),
        TUPLE,
        BINPERSID,
    )
    stream.add(binint1(0), binint1(2), binint1(2), TUPLE2, binint1(2), binint1(1), TUPLE2, NEWFALSE)
    stream.add(binget(0), EMPTY_TUPLE, REDUCE, TUPLE, REDUCE, SETITEM, STOP)
    return stream.bytes()


def test_torch_like_state_dict_is_only_the_pickle_format():
    assert scan(torch_like_state_dict()) == [("MOD003", PATH, None, 0)]
    assert messages(torch_like_state_dict()) == ["pickle (protocol 2): loading it can execute code; prefer safetensors"]


@pytest.mark.parametrize("protocol", range(6))
def test_plain_data_at_every_protocol_is_medium_only(protocol):
    value = {"a": [1, 2.5, "x", b"y", None, True], "b": collections.OrderedDict(c=(1, 2)), "s": {1}, "f": frozenset({2})}
    assert scan(pickle.dumps(value, protocol=protocol)) == [("MOD003", PATH, None, 0)]


def test_unknown_function_referenced_but_not_called_is_not_high():
    """A FunctionTransformer-like object stores numpy.log1p in its state: imported, never called."""
    stream = Pickle(2)
    stream.add(global_("copyreg", "_reconstructor"), global_("sklearn.preprocessing._function_transformer", "FunctionTransformer"))
    stream.add(global_("builtins", "object"), NONE, b"\x87", REDUCE, EMPTY_DICT, short_unicode("func"), global_("numpy", "log1p"))
    stream.add(SETITEM, BUILD, STOP)
    assert scan(stream.bytes()) == [("MOD003", PATH, None, 0)]


def test_allowed_callables_option_accepts_a_reviewed_class_but_never_a_dangerous_one():
    stream = Pickle(4)
    stream.add(stack_global("mypkg.models", "Net"), EMPTY_TUPLE)
    at = stream.add(NEWOBJ, STOP)
    assert scan(stream.bytes(), {"allowed-callables": ["mypkg.models.Net"]}) == [("MOD003", PATH, None, 0)]
    assert scan(stream.bytes(), {"allowed-callables": ["mypkg.*"]}) == [("MOD003", PATH, None, 0)]
    assert scan(stream.bytes(), {"allowed-callables": ["mypkg.other.Net"]}) == [("MOD002", PATH, None, at)]
    data, at = system_call()
    assert scan(data, {"allowed-callables": ["os.system"]}) == [("MOD001", PATH, None, at)]


def test_each_callable_is_reported_once_at_its_first_call():
    stream = Pickle(2)
    stream.add(global_("evil", "f"), binput(0), EMPTY_TUPLE)
    first = stream.add(REDUCE, POP, binget(0), EMPTY_TUPLE, REDUCE, POP, binget(0), EMPTY_TUPLE, REDUCE, STOP)
    assert scan(stream.bytes()) == [("MOD002", PATH, None, first)]


def test_member_and_base_offset_come_from_where():
    data, at = system_call()
    where = Where("model.pt", None, 0).inside("archive/data.pkl").at(100)
    found = scan_pickle(data, where, {})
    assert [(f.rule.code, f.path, f.member, f.offset) for f in found] == [("MOD001", "model.pt", "archive/data.pkl", 100 + at)]


def test_start_offset_skips_a_prefix():
    data, at = system_call()
    assert scan(b"HEADER" + data, start=6) == [("MOD001", PATH, None, 6 + at)]


def test_max_pickles_ignores_raw_data_after_them():
    """Legacy torch files: pickles, then raw storage bytes that are no pickle."""
    head = pickle.dumps(119547037146038801333356, protocol=2) + pickle.dumps(1001, protocol=2)
    raw = b"N\x00\x01\x02" * 8
    assert scan(head + raw, max_pickles=2) == [("MOD003", PATH, None, 0)]
    assert scan(head + raw) == [("MOD004", PATH, None, len(head) + 1)]


@pytest.mark.parametrize("trailer", [b"\n", b"\x00" * 512, b"garbage text"])
def test_trailing_bytes_that_are_no_pickle_are_ignored(trailer):
    assert scan(pickle.dumps([1, 2], protocol=2) + trailer) == [("MOD003", PATH, None, 0)]


def test_unparseable_content_fails_closed_only_when_a_model_is_expected():
    assert scan(b"\x80\x02this is not a pickle") == [("MOD004", PATH, None, 2)]
    assert scan(b"\x80\x02this is not a pickle", expected=False) == []
    assert scan(b"") == []


def test_unexpected_content_still_reports_calls_before_the_break():
    data, at = system_call()
    assert scan(data[:-1], expected=False) == [("MOD001", PATH, None, at)]


def test_dup_keeps_the_callable_identity():
    stream = Pickle(2)
    stream.add(global_("os", "system"), DUP, POP, MARK, short_unicode("id"), TUPLE)
    at = stream.add(REDUCE, STOP)
    assert scan(stream.bytes()) == [("MOD001", PATH, None, at)]


def test_inst_from_protocol_0_with_unknown_class():
    data = b"(S'x'\nimypkg\nThing\np0\n."
    assert scan(data) == [("MOD002", PATH, None, data.index(b"i"))]


@pytest.mark.parametrize(
    "head",
    [
        pickle.dumps({"a": 1}, protocol=2),
        pickle.dumps(list(range(2000)), protocol=4)[:4096],
        pickle.dumps(list(range(2000)), protocol=5)[:100],
        b"cos\nsystem\n(S'id'\ntR.",
        pickle.dumps({"k": "v" * 10}, protocol=0),
        pickle.dumps([1, 2, 3], protocol=1),
        b"(S'" + b"a" * 200,  # protocol 0 padded past the sniffed head
        pickle.dumps(3, protocol=1),  # K\x03: a control byte, so not text
        b"C\x05hello0cos\nsystem\n(S'id'\ntR.",  # text, a protocol 1+ start, but it names a global
    ],
)
def test_looks_like_pickle_accepts_pickle_heads(head):
    assert looks_like_pickle(head)


@pytest.mark.parametrize(
    "head",
    [
        b'{"a": [1, 2]}',
        b"[1, 2, 3]",
        b"}\n.x { color: red }",
        b"import os\nos.system('id')\n",
        b"cat\nfile\nbar\n",
        b"const x = 1;\nlet y = 2;\n",
        b"# Title\n\nSome text.",
        b"key: value\nother: 1\n",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\x80\x06\x95",
        b"\x00" * 64,
        b"N",
        b"(a) first\n(b) second\n",
        # pip's vendor.txt: SHORT_BINBYTES of 'a' (97) bytes lands on the '.' of "4.12.4", a STOP
        b"CacheControl==0.14.4\ndistlib==0.4.4\ndistro==1.9.0\nmsgpack==1.2.4\npackaging==26.3\nplatformdirs==4.12.4\npyproject-hooks==1.3.3\n",
    ],
)
def test_looks_like_pickle_rejects_other_files(head):
    assert not looks_like_pickle(head)


def test_a_global_handed_to_an_allowed_call_is_called_only_where_the_callee_calls_it():
    """copyreg._reconstructor instantiates its first argument; a tensor rebuild only stores a dtype."""
    constructed = Pickle(2)
    constructed.add(global_("copyreg", "_reconstructor"), global_("mypkg", "Dtype"), global_("builtins", "object"), NONE, b"\x87")
    at = constructed.add(REDUCE, STOP)
    assert scan(constructed.bytes()) == [("MOD002", PATH, None, at)]
    stored = Pickle(2)
    stored.add(
        global_("torch._utils", "_rebuild_meta_tensor_no_storage"),
        MARK,
        global_("mypkg", "Dtype"),
        EMPTY_TUPLE,
        EMPTY_TUPLE,
        NEWFALSE,
        TUPLE,
    )
    stored.add(REDUCE, STOP)
    assert scan(stored.bytes()) == [("MOD003", PATH, None, 0)]


@pytest.mark.parametrize("module", ["numpy.core._internal", "numpy._core._internal"])
def test_numpy_arrays_pickled_by_python_2_numpy_rebuild_data_only(module):
    """The stream numpy's own test suite keeps for arrays pickled by numpy < 1.0 (Python 2)."""
    data = (
        b"\x80\x02c" + module.encode() + b"\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02K\x00\x85U\x01b\x87Rq\x03(K\x04\x85"
        b"cnumpy\ndtype\nq\x04U\x02f4K\x00K\x01\x87Rq\x05(U\x01<NNJ\xff\xff\xff\xffJ\xff\xff\xff\xfftb\x89"
        b"U\x10\x00\x00\x80?\x00\x00\x00@\x00\x00@@\x00\x00\x80@tb."
    )
    assert scan(data) == [("MOD003", PATH, None, 0)]


@pytest.mark.parametrize(
    "callee",
    [
        ("sklearn.neighbors._kd_tree", "newObj"),
        ("pandas._libs.arrays", "__pyx_unpickle_NDArrayBacked"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core._internal", "_reconstruct"),
        ("collections", "defaultdict"),
    ],
)
def test_constructors_that_call_their_first_argument(callee):
    stream = Pickle(2)
    stream.add(global_(*callee), global_("evil", "Cls"), NONE, TUPLE2)
    at = stream.add(REDUCE, STOP)
    assert scan(stream.bytes()) == [("MOD002", PATH, None, at)]
    assert messages(stream.bytes()) == [
        f"pickle calls evil.Cls via {'.'.join(callee)} (REDUCE), which is not in the allowlist of data-rebuilding callables"
    ]


@pytest.mark.parametrize(
    "name, verdict",
    [
        ("collections.OrderedDict", Verdict.ALLOWED),
        ("copyreg.__newobj__", Verdict.ALLOWED),
        ("numpy.random._pickle.__randomstate_ctor", Verdict.ALLOWED),
        ("sklearn.calibration._CalibratedClassifier", Verdict.ALLOWED),
        ("sklearn.ensemble._forest.RandomForestClassifier", Verdict.ALLOWED),
        ("torch.nn.modules.linear.Linear", Verdict.ALLOWED),
        ("torch.jit._pickle.build_intlist", Verdict.ALLOWED),
        ("__torch__.torch.nn.modules.linear.Linear", Verdict.ALLOWED),
        ("torch.float16", Verdict.ALLOWED),
        ("torch.cuda.HalfStorage", Verdict.ALLOWED),
        ("sklearn.utils.validation.check_array", Verdict.UNKNOWN),
        ("sklearn.ensemble._forest.RandomForestClassifier.fit", Verdict.UNKNOWN),
        ("os.path.join", Verdict.UNKNOWN),
        ("__main__.Net", Verdict.UNKNOWN),
        ("torch.jit.load", Verdict.DANGEROUS),
        ("torch.fx.graph_module.reduce_graph_module", Verdict.DANGEROUS),
        ("pandas.HDFStore", Verdict.DANGEROUS),
        ("pandas.io.pytables.HDFStore", Verdict.DANGEROUS),
        ("sklearn.utils._testing.TempMemmap", Verdict.DANGEROUS),
        ("sklearn.base.BaseEstimator.__reduce__", Verdict.DANGEROUS),
        ("transformers.AutoModel.from_pretrained", Verdict.DANGEROUS),
        ("os", Verdict.DANGEROUS),
        # what fickling and modelaudit also flag: file listing, logs, sockets, limits, exit
        ("glob.glob", Verdict.DANGEROUS),
        ("syslog.syslog", Verdict.DANGEROUS),
        ("selectors.DefaultSelector", Verdict.DANGEROUS),
        ("select.select", Verdict.DANGEROUS),
        ("imaplib.IMAP4_SSL", Verdict.DANGEROUS),
        ("resource.setrlimit", Verdict.DANGEROUS),
        ("builtins.exit", Verdict.DANGEROUS),
        ("__builtins__.eval", Verdict.DANGEROUS),
    ],
)
def test_policy_verdicts(name, verdict):
    assert Policy().verdict(name) is verdict


def test_memo_shared_across_pickles_is_read_too():
    """Benign under a fresh memo per pickle, os.system for a loader that reuses one Unpickler."""
    first = Pickle(4)
    first.add(short_unicode("os"), MEMOIZE, short_unicode("system"), MEMOIZE, POP, POP, NONE, STOP)
    second = Pickle(4)
    second.add(short_unicode("collections"), MEMOIZE, short_unicode("OrderedDict"), MEMOIZE, POP, POP)
    second.add(binget(0), binget(1), STACK_GLOBAL, EMPTY_TUPLE)
    at = second.add(REDUCE, STOP)
    data = first.bytes() + second.bytes()
    assert scan(data) == [("MOD001", PATH, None, len(first.bytes()) + at)]
    assert messages(data) == ["pickle calls os.system via REDUCE: runs processes or shell commands"]


def bytes_value(key: str, payload: bytes) -> tuple[bytes, int]:
    """pickle.dumps({key: payload}, protocol=4) without framing; (stream, payload offset)."""
    head = b"\x80\x04}\x94" + b"\x8c" + bytes([len(key)]) + key.encode() + b"\x94B" + len(payload).to_bytes(4, "little")
    return head + payload + b"\x94s.", len(head)


def test_a_pickle_kept_as_bytes_is_walked_for_dangerous_calls():
    """Loading the outer dict runs nothing; the code that unpickles the value runs os.system."""
    inner, at = system_call(protocol=4)
    data, payload_at = bytes_value("optimizer", inner)
    assert scan(data) == [("MOD003", PATH, None, 0), ("MOD001", PATH, None, payload_at + at)]
    assert (
        messages(data)[1]
        == f"a pickle stored as bytes (at offset {payload_at}) for a later pickle.loads: pickle calls os.system via REDUCE: runs processes or shell commands"
    )


@pytest.mark.parametrize(
    "payload",
    [
        pickle.dumps({"lr": 0.1, "betas": (0.9, 0.99)}, protocol=4),  # benign nested state
        b"\x80\x04\xff\xfe not a pickle after all",  # float bytes that start like a header
        pickle.dumps(collections.OrderedDict(a=1), protocol=2)[:-5],  # broken: no MOD004 for a value
    ],
)
def test_other_bytes_values_only_leave_the_outer_verdict(payload):
    data, _ = bytes_value("state", payload)
    assert scan(data) == [("MOD003", PATH, None, 0)]


@pytest.mark.parametrize(
    ("fixture", "advice"),
    [
        (
            "sklearn_forest_p4.pkl",
            "prefer skops for scikit-learn models, or the library's own format (xgboost/LightGBM/CatBoost save_model)",
        ),
        (None, "it holds plain Python data: prefer JSON"),
    ],
)
def test_the_safer_format_advised_follows_what_the_pickle_rebuilds(fixture, advice):
    """safetensors holds tensors only: wrong advice for an estimator or a dict of results."""
    from pathlib import Path

    data = (
        (Path(__file__).parent.parent / "fixtures" / "models" / fixture).read_bytes()
        if fixture
        else pickle.dumps({"a": [1, 2.0, "x"]}, protocol=4)
    )
    assert scan(data) == [("MOD003", PATH, None, 0)]
    assert [message.split("; ", 1)[1] for message in messages(data)] == [advice]


def test_recorded_api_responses_of_http_clients_are_data():
    """lm-evaluation-harness's test data: openai<1.0 responses pickled as `OpenAIObject(id, key, ...)`
    plus a dict state; the client's calls (`openai.Completion.create`) stay dangerous."""
    response = Pickle(2)
    response.add(global_("openai.openai_object", "OpenAIObject"), short_unicode("cmpl-1"), TUPLE1, REDUCE)
    response.add(EMPTY_DICT, short_unicode("object"), short_unicode("text_completion"), SETITEM, BUILD, STOP)
    assert scan(response.bytes()) == [("MOD003", PATH, None, 0)]
    call = Pickle(2)
    call.add(global_("openai", "Completion.create"), short_unicode("x"), TUPLE1)
    at = call.add(REDUCE, STOP)
    assert scan(call.bytes()) == [("MOD002", PATH, None, at)]
