"""Findings for pickle streams: what they call, judged against callables.py.

    scan_pickle(data, where, options, *, expected=True, start=0, max_pickles=None) -> list[Finding]
    looks_like_pickle(head: bytes) -> bool

`scan_pickle` walks every pickle in `data` back to back from `start` (at most `max_pickles`:
legacy torch files are five pickles followed by raw storage bytes) and reports, once per
distinct callable, at the offset of its first invocation:
- MOD001 for a known-dangerous callable (even one only imported), a global whose name is
  computed at load time, a call on what an unvetted call returned, a global modified in place;
- MOD002 for any other callable outside the allowlist;
- MOD003 once when the pickle only rebuilds allowlisted data (the format can still run code);
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

import re

from mlgate.findings import Finding
from mlgate.models import joblib_files, walker
from mlgate.models.callables import Policy, Verdict, dangerous_reason
from mlgate.models.rules import DANGEROUS_CALL, PICKLE_FORMAT, UNKNOWN_CALL, UNPARSEABLE
from mlgate.models.walker import Site, SiteKind, Walk
from mlgate.models.where import Where

# A PROTO header is already a strong sign: this many bytes parsing cleanly confirm it (the
# whole stream is walked right after; sniffing must not walk it twice).
SNIFF_HEADERED = 256
SNIFF_MIN_CLEAN = 64
MAX_EMBEDDED = 64  # pickles kept as bytes inside one pickle that are walked in turn
MAX_EMBEDDED_DEPTH = 2  # a protocol 0/1 head without STOP must parse cleanly over this many bytes
_TEXT_STARTS = b"(]}c"  # how protocol 0/1 pickles of containers and objects begin
_PROTOCOL_0_OPCODES = frozenset(b"(.02FILNPRSVabcdgilpst")  # what a protocol 0 pickler writes
_CONTROL_BYTE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def policy(options: dict) -> Policy:
    return Policy(options.get("allowed-callables") or ())


def scan_pickle(data, where: Where, options: dict, *, expected: bool = True, start: int = 0, max_pickles: int | None = None, depth: int = 0) -> list[Finding]:
    rules = policy(options)
    reading = walk_all_readings(data, rules, start=start, max_pickles=max_pickles)
    found = findings(reading, data, where, rules, expected=expected, start=start)
    if depth < MAX_EMBEDDED_DEPTH and reading.embedded:
        for begin, end in reading.embedded[:MAX_EMBEDDED]:
            found += _embedded_findings(data, begin, end, where, options, depth)
        found.sort(key=lambda finding: finding.offset or 0)
    return found


def _embedded_findings(data, begin: int, end: int, where: Where, options: dict, depth: int) -> list[Finding]:
    """MOD001 for a pickle kept as bytes inside this one: loading the outer pickle does not
    run it, but the code that later calls pickle.loads() on the value does."""
    with memoryview(data)[begin:end] as view:
        inner = scan_pickle(view, where.at(begin), options, expected=False, depth=depth + 1)
    dangerous = [finding for finding in inner if finding.rule is DANGEROUS_CALL]
    for finding in dangerous:
        finding.message = f"a pickle stored as bytes (at offset {where.base_offset + begin}) for a later pickle.loads: {finding.message}"
    return dangerous


def walk_all_readings(data, rules: Policy, *, start: int = 0, max_pickles: int | None = None) -> Walk:
    """The joblib-aware reading, plus the dangerous globals other loaders' readings name.

    Only dangerous named globals come from the other readings: a stream read the wrong way
    round (a nested pickle's memo indices against the outer memo, or every later pickle's
    indices shifted by a shared memo) yields computed names, odd name pairs and non-callables
    that are artefacts of the reading, not of the file.
    """
    pickle_walker = walker.PickleWalker(data, calls_arguments=rules.calls_arguments, hooks=joblib_files.BUILD_HOOKS)
    reading = pickle_walker.walk(start, max_pickles)
    others = []
    if pickle_walker.hooked:  # pickle.load reads joblib's raw array bytes as opcodes
        others.append({})
    if reading.pickles > 1:  # Unpickler.load() called again keeps its memo
        others.append({"shared_memo": True})
    for other in others:
        alternative = walker.walk(data, start=start, max_pickles=max_pickles, calls_arguments=rules.calls_arguments, **other)
        reading.merge(alternative, _dangerous_global)
    return reading


def _dangerous_global(site: Site) -> bool:
    return site.kind is SiteKind.GLOBAL and dangerous_reason(site.name) is not None


def findings(reading: Walk, data, where: Where, rules: Policy, *, expected: bool, start: int = 0) -> list[Finding]:
    found = [finding for site in reading.sites.values() if (finding := _site_finding(site, where, rules)) is not None]
    broken = reading.error is not None and not (reading.first_op_error and reading.pickles)
    if broken and expected:
        assert reading.error_offset is not None
        done = f" after {reading.pickles} complete pickle(s)" if reading.pickles else ""
        found.append(where.finding(UNPARSEABLE, f"pickle stream cannot be parsed{done}: {reading.error}", reading.error_offset))
    elif not found and reading.pickles and not broken:
        found.append(where.finding(PICKLE_FORMAT, f"pickle ({_protocol(data, start)}): loading it can execute code; prefer safetensors", start))
    return sorted(found, key=lambda finding: finding.offset or 0)


def _site_finding(site: Site, where: Where, rules: Policy) -> Finding | None:
    called = site.call_offset is not None
    how = f" via {site.how}" if called else ""
    if site.kind is SiteKind.GLOBAL:
        reason = dangerous_reason(site.name)
        if reason is not None:
            verb = "calls" if called else "imports"
            return where.finding(DANGEROUS_CALL, f"pickle {verb} {site.name}{how}: {reason}", site.first_offset)
        if called and not rules.allowed(site.name):
            return where.finding(UNKNOWN_CALL, f"pickle calls {site.name}{how}, which is not in the allowlist of data-rebuilding callables", site.first_offset)
        return None
    if site.kind is SiteKind.DYNAMIC:
        return where.finding(DANGEROUS_CALL, f"pickle imports a global whose name is computed at load time ({site.name}): a scanner-evasion technique", site.first_offset)
    if site.kind is SiteKind.MUTATION:
        return where.finding(DANGEROUS_CALL, f"pickle modifies the global {site.name} in place via {site.how}: it can redirect later imports and calls", site.first_offset)
    if site.kind is SiteKind.RESULT:
        producer = rules.verdict(site.producer) if site.producer else Verdict.UNKNOWN
        if producer is Verdict.DANGEROUS:
            return None  # the producer itself is already reported as dangerous
        rule = UNKNOWN_CALL if producer is Verdict.ALLOWED else DANGEROUS_CALL
        return where.finding(rule, f"pickle calls the object returned by {site.name}{how}: a gadget chain", site.first_offset)
    if site.kind is SiteKind.EXTENSION:
        if not called:
            return None
        return where.finding(UNKNOWN_CALL, f"pickle calls the {site.name}{how}: the registry can map it to any callable", site.first_offset)
    return where.finding(UNKNOWN_CALL, f"pickle calls an object returned by the loader's persistent_load{how}", site.first_offset)


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
