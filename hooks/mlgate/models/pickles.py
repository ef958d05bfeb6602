"""Findings for pickle streams: what they call, judged against callables.py.

    scan_pickle(data, where, options, *, expected=True, start=0, max_pickles=None) -> list[Finding]
    looks_like_pickle(head: bytes) -> bool

`scan_pickle` walks every pickle in `data` back to back from `start` (at most `max_pickles`:
legacy torch files are five pickles followed by raw storage bytes) and reports, once per rule
for the whole reading, at the offset of the first site of that rule (naming the others):
- MOD001 for a known-dangerous callable (even one only imported), a global whose name is
  computed at load time, a call on what an unvetted call returned, a global modified in place;
- MOD002 for any other callable outside the allowlist;
- MOD003 once when the pickle only rebuilds allowlisted data (the format can still run code),
  unless the pickle is kept for its format (`_kept_for_its_format`: docs, examples, fixtures);
- MOD004 when the stream breaks (truncation, unknown opcode, bad argument) and `expected`
  says a model was expected here; calls seen before the break are reported all the same;
- MOD001 too for a pickle kept as bytes inside the stream (BINBYTES starting with a PROTO
  header, e.g. an optimizer state pickled separately) that calls a dangerous callable: it
  runs when the code that reads the value unpickles it.
Bytes that are not a pickle at all after a complete one (padding, a trailer) are ignored.
Offsets are relative to `data`, made absolute by `where`.

The same bytes are read the way each kind of loader would: joblib's (raw array bytes after
its NumpyArrayWrapper) and plain pickle's (those bytes are opcodes); fresh memo per pickle
(pickle.load in a loop) and one memo for all (Unpickler.load() repeated). A dangerous global
named by any reading is reported.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable

from mlgate.files import ScanError, is_example_path, is_test_path
from mlgate.findings import Finding, Rule, Severity
from mlgate.models import expansion, frames, joblib_files, stored_values, walker
from mlgate.models.callables import HARM_ORDER, Policy, Verdict, dangerous_reason, harm_rank
from mlgate.models.rules import DANGEROUS_CALL, EXPANSION_BOMB, PICKLE_FORMAT, UNKNOWN_CALL, UNPARSEABLE
from mlgate.models.walker import Site, SiteKind, Walk
from mlgate.models.where import Where

# A PROTO header is already a strong sign: this many bytes parsing cleanly confirm it (the
# whole stream is walked right after; sniffing must not walk it twice).
SNIFF_HEADERED = 256
SNIFF_MIN_CLEAN = 64
MAX_EMBEDDED_DEPTH = 2  # pickles inside values inside pickles: how deep values are read
STORED_BUDGET = 256 << 20  # bytes decoded or decompressed from stored values, per file
MIN_REPEATS = 64  # DUP/GET pushes below which no expansion can matter
EXPANSION_FULL_CHECK = 4 << 20  # pickles up to this size get the expansion check whatever their memo
# Model files a stored value can be (zip, npy, HDF5, GGUF); pickles are read by scan_pickle itself.
FILE_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY", b"\x89HDF\r\n\x1a\n", b"GGUF")
_TEXT_STARTS = b"(]}c"  # how protocol 0/1 pickles of containers and objects begin
_PROTOCOL_0_OPCODES = frozenset(b"(.02FILNPRSVabcdgilpst")  # what a protocol 0 pickler writes
_CONTROL_BYTE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def policy(options: dict) -> Policy:
    return Policy(options.get("allowed-callables") or ())


# Scans bytes as a file of its own (a zip, an .npy, a .keras kept as a value inside a pickle);
# given by the scanner, which knows every format.
NestedScan = Callable[[bytes, Where], list[Finding]]


def scan_pickle(
    data,
    where: Where,
    options: dict,
    *,
    expected: bool = True,
    start: int = 0,
    max_pickles: int | None = None,
    depth: int = 0,
    nested: NestedScan | None = None,
    budget: stored_values.Budget | None = None,
) -> list[Finding]:
    rules = policy(options)
    reading = walk_all_readings(data, rules, start=start, max_pickles=max_pickles)
    found = findings(reading, data, where, rules, expected=expected, start=start)
    bomb = _expansion_findings(reading, data, where, start)
    if bomb:  # more than "a pickle format" to say
        found = [finding for finding in found if finding.rule is not PICKLE_FORMAT] + bomb
    if depth < MAX_EMBEDDED_DEPTH and reading.embedded:
        budget = budget or stored_values.Budget(STORED_BUDGET)
        try:
            found += _stored_value_findings(data, reading, where, options, depth, nested, budget)
        except ScanError:  # a value of content read on demand that could not be fetched (a remote file)
            budget.exhausted = True
    if reading.stored_overflow or budget is not None and budget.exhausted:
        found.append(
            where.finding(
                UNPARSEABLE,
                "more values stored inside the pickle than mlgate reads: the rest were not checked for pickles or model files",
                start,
            )
        )
    found.sort(key=lambda finding: finding.offset or 0)
    return found


def scan_other_reading(data, where: Where, options: dict) -> list[Finding]:
    """What pickle.load would run if given content of another format as a pickle: a polyglot
    (a tar header or protobuf whose bytes are also opcodes that import and call)."""
    rules = policy(options)
    reading = walker.walk(data, calls_arguments=rules.calls_arguments)
    if not _credible(reading):
        return []
    return [finding for finding in findings(reading, data, where, rules, expected=False) if finding.rule in (DANGEROUS_CALL, UNKNOWN_CALL)]


def calls_when_unpickled(data) -> bool:
    """Whether pickle.load on `data` would import and call Python globals before it stops,
    whatever the first bytes look like (a text pickle, one without STOP, frames that hide bytes)."""
    reading = walker.walk(data, max_pickles=1)
    if reading.irregular_frames:
        _merge_buffered_reading(reading, data, 0, policy({}))
    return _credible(reading)


def _credible(reading: Walk) -> bool:
    """A global named like a real module and attribute that is called or dangerous: not an
    accident of reading text or random bytes as opcodes."""
    return any(
        site.kind is SiteKind.GLOBAL
        and _identifier_like(site.name)
        and (site.call_offset is not None or dangerous_reason(site.name, site.module) is not None)
        for site in reading.sites.values()
    )


def _expansion_findings(reading: Walk, data, where: Where, start: int) -> list[Finding]:
    """MOD016 when references (DUP, GET) unfold into a tree thousands of times the file's size."""
    size = len(data) - start
    if reading.repeats < MIN_REPEATS or size > EXPANSION_FULL_CHECK and reading.repeats * 4 < reading.stored_in_memo:
        return []
    threshold = max(expansion.UNFOLD_LIMIT, expansion.EXPANSION_RATIO * size)
    unfolded = expansion.unfolded_size(data, start, threshold)
    if unfolded <= threshold:
        return []
    return [
        where.finding(
            EXPANSION_BOMB,
            f"pickle of {size} bytes whose shared references unfold into more than {threshold:,} objects (a billion-laughs expansion): anything that walks it exhausts memory or time",
            start,
        )
    ]


def _stored_value_findings(
    data, reading: Walk, where: Where, options: dict, depth: int, nested: NestedScan | None, budget: stored_values.Budget
) -> list[Finding]:
    """Calls in a pickle (or a model file) kept as a value inside this one: loading the outer
    pickle does not run them, the code that later loads the value does."""
    found: list[Finding] = []
    seen: set[bytes] = set()
    for op, begin, end in reading.embedded:
        for value, how in stored_values.readings(data, op, begin, end, budget):
            if value in seen:
                continue
            seen.add(value)
            inner_where = where.at(begin)
            prefix = f"stored as {how} (at offset {inner_where.base_offset}) for a later load"
            if nested is not None and value.startswith(FILE_MAGICS):
                inner = [
                    finding
                    for finding in nested(value, inner_where)
                    if finding.severity >= Severity.HIGH and finding.rule is not UNPARSEABLE
                ]
                inner = [  # located at the value: the file has no such member
                    dataclasses.replace(
                        finding,
                        message=f"a model file {prefix}: {f'its member {finding.member}: ' if finding.member else ''}{finding.message}",
                        member=where.member,
                        offset=inner_where.base_offset,
                    )
                    for finding in inner
                ]
            else:
                inner = scan_pickle(value, inner_where, options, expected=False, depth=depth + 1, nested=nested, budget=budget)
                inner = [finding for finding in inner if finding.rule in (DANGEROUS_CALL, UNKNOWN_CALL, EXPANSION_BOMB)]
                told = prefix.replace("a later load", "a later pickle.loads")
                inner = [
                    dataclasses.replace(
                        finding,
                        message=f"a pickle {told}: {finding.message}",
                        # decoded: offsets inside the value do not map to the file
                        offset=finding.offset if how == "bytes" else inner_where.base_offset,
                    )
                    for finding in inner
                ]
            found += inner
    return found


def walk_all_readings(data, rules: Policy, *, start: int = 0, max_pickles: int | None = None) -> Walk:
    """The joblib-aware reading, plus the dangerous globals other loaders' readings name.

    Only dangerous named globals come from the other readings: a stream read the wrong way
    round (a nested pickle's memo indices against the outer memo, or every later pickle's
    indices shifted by a shared memo) yields computed names, odd name pairs and non-callables
    that are artefacts of the reading, not of the file.
    """
    pickle_walker = walker.PickleWalker(data, calls_arguments=rules.calls_arguments, hooks=joblib_files.BUILD_HOOKS)
    reading = pickle_walker.walk(start, max_pickles)
    others: list[bool] = []  # the other readings, by whether their pickles share one memo
    if pickle_walker.hooked:  # pickle.load reads joblib's raw array bytes as opcodes
        others.append(False)
    if reading.pickles > 1 or reading.pickles and reading.end < len(data):  # Unpickler.load() again keeps its memo
        others.append(True)
    for shared_memo in others:
        alternative = walker.walk(
            data, start=start, max_pickles=max_pickles, calls_arguments=rules.calls_arguments, shared_memo=shared_memo
        )
        reading.merge(alternative, _dangerous_global)
    if reading.irregular_frames:
        _merge_buffered_reading(reading, data, start, rules)
    return reading


FRAME_READING = " (as the C unpickler reads this stream from memory: its FRAMEs hide bytes)"


def _merge_buffered_reading(reading: Walk, data, start: int, rules: Policy) -> None:
    """What torch.load's C unpickler runs when FRAMEs disagree with their opcodes (frames.py):
    a reading as real as the straight one, so every site it finds counts, at its file offset."""
    buffered = frames.buffered_reading(bytes(data[start:]))  # rare: only streams whose frames disagree
    if buffered is None:
        return
    other = walker.walk(buffered.data, calls_arguments=rules.calls_arguments)
    for site in other.sites.values():
        site.offset = start + buffered.file_offset(site.offset)
        if site.call_offset is not None:
            site.call_offset = start + buffered.file_offset(site.call_offset)
        if site.how:
            site.how += FRAME_READING
    reading.merge(other, lambda site: True)


def _dangerous_global(site: Site) -> bool:
    return site.kind is SiteKind.GLOBAL and dangerous_reason(site.name, site.module) is not None


def findings(reading: Walk, data, where: Where, rules: Policy, *, expected: bool, start: int = 0) -> list[Finding]:
    found = call_findings(reading.sites.values(), where, rules)
    found += stream_findings(reading, data, where, expected=expected, start=start, calls=bool(found))
    return sorted(found, key=lambda finding: finding.offset or 0)


def stream_findings(reading: Walk, data, where: Where, *, expected: bool, start: int = 0, calls: bool) -> list[Finding]:
    """What the stream itself is, apart from its calls: MOD004 when it breaks where a model was
    expected, else MOD003 when it has no `calls` to report and is not kept for its format."""
    broken = reading.error is not None and not (reading.first_op_error and reading.pickles)
    if broken and expected:
        assert reading.error_offset is not None
        done = f" after {reading.pickles} complete pickle(s)" if reading.pickles else ""
        return [where.finding(UNPARSEABLE, f"pickle stream cannot be parsed{done}: {reading.error}", reading.error_offset)]
    packages = _packages(reading)
    if calls or not reading.pickles or broken or _kept_for_its_format(where.path, packages):
        return []
    advice = _safer_format(packages)
    return [where.finding(PICKLE_FORMAT, f"pickle ({_protocol(data, start)}): loading it can execute code; {advice}", start)]


def _kept_for_its_format(path: str, packages: set[str]) -> bool:
    """Whether a pickle that rebuilds only allowlisted objects is there because of its format, so
    that nobody would convert it: documentation, examples and benchmarks ship what the loader they
    show reads (a serving runtime's docs load the joblib file beside them), and a test fixture of
    library objects is what the loader under test reads. Plain Python data in a test is the test's
    own cache (a recorded API answer): JSON is a trivial swap, so it stays reported."""
    return is_example_path(path) or is_test_path(path) and not packages <= _PLAIN_DATA


# What to save instead, by the library whose objects the pickle rebuilds: safetensors holds tensors
# only, so it is the wrong advice for an estimator or a data frame.
_SAFER_FORMATS = (
    (
        frozenset({"sklearn", "xgboost", "lightgbm", "catboost"}),
        "prefer skops for scikit-learn models, or the library's own format (xgboost/LightGBM/CatBoost save_model)",
    ),
    (frozenset({"pandas"}), "prefer Parquet, Feather or CSV for data frames"),
    (frozenset({"torch", "numpy", "transformers", "accelerate", "lightning", "pytorch_lightning"}), "prefer safetensors"),
)
_PLAIN_DATA = frozenset({"builtins", "__builtin__", "collections", "copyreg", "_codecs", "codecs", "datetime", "decimal"})


def _packages(reading: Walk) -> set[str]:
    """The top-level packages of the globals a pickle names (`sklearn`, `collections`)."""
    return {site.module.split(".")[0] for site in reading.sites.values() if site.kind is SiteKind.GLOBAL and site.module}


def _safer_format(packages: set[str]) -> str:
    for libraries, advice in _SAFER_FORMATS:
        if packages & libraries:
            return advice
    if packages <= _PLAIN_DATA:
        return "it holds plain Python data: prefer JSON"
    return "prefer safetensors"


NAMES_SHOWN = 8  # the other callables a grouped finding lists by name before "and N more"
_LEAST_HARM = (1 << 30, True)  # an unknown call named in a dangerous finding never leads it


@dataclasses.dataclass(frozen=True)
class _Call:
    """What one site of a pickle is reported as, before the sites of one rule are grouped."""

    rule: Rule
    offset: int
    message: str  # the whole story of this site, told when it leads its group
    label: str  # how the group's message names it among the others
    harm: tuple[int, bool] = (0, False)  # lower is worse: the site a MOD001 group leads with


def call_findings(sites: Iterable[Site], where: Where, rules: Policy) -> list[Finding]:
    """One finding per rule for the sites of one pickle reading (a stream, an archive member).

    A maintainer fixes the file once, however many classes it rebuilds: the finding sits at the
    first site of its rule, tells the worst site in full (the first, for MOD002) and names the
    others. Grouping is per rule, so a dangerous call is MOD001 whatever unknown calls come first.
    """
    groups: dict[str, list[_Call]] = {}
    for site in sites:
        call = _site_call(site, rules)
        if call is not None and site.how.endswith(FRAME_READING):  # invisible to a plain reading: say where it is
            call = dataclasses.replace(call, label=call.label + FRAME_READING)
        if call is not None:
            groups.setdefault(call.rule.code, []).append(call)
    if DANGEROUS_CALL.code in groups and UNKNOWN_CALL.code in groups:
        # one file, one fix: the unknown calls are named in the dangerous finding, not reported again
        groups[DANGEROUS_CALL.code] += [
            dataclasses.replace(call, rule=DANGEROUS_CALL, label=f"{call.label} (outside the allowlist)", harm=_LEAST_HARM)
            for call in groups.pop(UNKNOWN_CALL.code)
        ]
    return [_grouped(calls, where) for calls in groups.values()]


def _grouped(calls: list[_Call], where: Where) -> Finding:
    calls.sort(key=lambda call: call.offset)
    first = next(call for call in calls if call.harm != _LEAST_HARM)  # a site of the group's own rule
    lead = min(calls, key=lambda call: call.harm)  # the first of the worst
    others = [call.label for call in calls if call is not lead]
    more = f" and {len(others) - NAMES_SHOWN} more" if len(others) > NAMES_SHOWN else ""
    listing = f"; also {', '.join(others[:NAMES_SHOWN])}{more}" if others else ""
    at = "" if lead is first else f" (at offset {where.base_offset + lead.offset})"
    # the fingerprint leaves the offset out, as for every binary finding: a re-saved file keeps its baseline entry
    context = f"{where.member or ''}|{lead.message}{listing}"
    return where.finding(first.rule, f"{lead.message}{at}{listing}", first.offset, context=context)


def _site_call(site: Site, rules: Policy) -> _Call | None:
    called = site.call_offset is not None
    how = f" via {site.how}" if called else ""
    at = site.first_offset
    if site.kind is SiteKind.GLOBAL:
        reason = dangerous_reason(site.name, site.module)
        if reason is not None:
            verb = "calls" if called else "imports"
            return _Call(DANGEROUS_CALL, at, f"pickle {verb} {site.name}{how}: {reason}", site.name, (harm_rank(reason), not called))
        if called and not rules.allowed(site.name, site.module or None):
            route = f" (the attribute chain {site.qualname} of module {site.module})" if "." in site.qualname else ""
            message = f"pickle calls {site.name}{route}{how}, which is not in the allowlist of data-rebuilding callables"
            return _Call(UNKNOWN_CALL, at, message, site.name)
        return None
    # Evasions without a named callable rank after every named one: the named reason says more.
    unnamed = (len(HARM_ORDER) + 1, False)
    if site.kind is SiteKind.DYNAMIC:
        message = f"pickle imports a global whose name is computed at load time ({site.name}): a scanner-evasion technique"
        return _Call(DANGEROUS_CALL, at, message, f"a global whose name is computed at load time ({site.name})", unnamed)
    if site.kind is SiteKind.MUTATION:
        message = f"pickle modifies the global {site.name} in place via {site.how}: it can redirect later imports and calls"
        return _Call(DANGEROUS_CALL, at, message, f"{site.name} modified in place via {site.how}", unnamed)
    if site.kind is SiteKind.RESULT:
        producer = rules.verdict(site.producer) if site.producer else Verdict.UNKNOWN
        if producer is Verdict.DANGEROUS:
            return None  # the producer itself is already reported as dangerous
        message = f"pickle calls the object returned by {site.name}{how}: a gadget chain"
        if producer is Verdict.ALLOWED:
            return _Call(UNKNOWN_CALL, at, message, f"the object returned by {site.name}")
        return _Call(DANGEROUS_CALL, at, message, f"the object returned by {site.name}", unnamed)
    if site.kind is SiteKind.EXTENSION:
        if not called:
            return None
        return _Call(UNKNOWN_CALL, at, f"pickle calls the {site.name}{how}: the registry can map it to any callable", f"the {site.name}")
    label = "an object returned by the loader's persistent_load"
    return _Call(UNKNOWN_CALL, at, f"pickle calls {label}{how}", label)


def _protocol(data, start: int) -> str:
    if len(data) > start + 1 and data[start] == 0x80:
        return f"protocol {data[start + 1]}"
    return "protocol 0/1"


def looks_like_pickle(head: bytes) -> bool:
    """Whether `head` (the first bytes of a file) starts a pickle stream.

    A protocol 2+ header must be followed by opcodes that parse up to STOP or over the first
    SNIFF_HEADERED bytes. Protocol 0/1 has no header, so the test is strict, not to take text for a
    pickle: a clean parse to STOP with every global named like a Python identifier, or a
    container/GLOBAL start parsing cleanly over at least SNIFF_MIN_CLEAN bytes. Text that
    does not start with a protocol 0 opcode (pickles written at protocol 0 are text, those
    of protocol 1 hold control bytes in their lengths and memo indices) counts only when it
    names a global: `CacheControl==0.14.4` parses as one SHORT_BINBYTES of 97 bytes, STOP.
    """
    if len(head) < 2:
        return False
    if head[0] == 0x80:
        head = head[:SNIFF_HEADERED]
    reading = walker.walk(head, max_pickles=1, hooks=joblib_files.BUILD_HOOKS)
    if not all(_identifier_like(site.name) for site in reading.sites.values() if site.kind is SiteKind.GLOBAL):
        return False
    if head[0] not in _PROTOCOL_0_OPCODES and not reading.sites and _CONTROL_BYTE.search(head) is None:
        return False  # text: a binary pickle's lengths and BINPUT indices hold control bytes
    if reading.pickles:
        return True
    if not reading.truncated:
        return False
    if head[0] == 0x80:
        return True
    return head[0] in _TEXT_STARTS and len(head) >= SNIFF_MIN_CLEAN


def _identifier_like(name: str) -> bool:
    return all(part.isidentifier() for part in name.split("."))
