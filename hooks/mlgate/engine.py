"""Run selected hooks over files: dispatch, filter, suppress, fingerprint."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from mlgate.config import Config, options_for
from mlgate.file_scans import FileScanner, scan_files, with_context, worth_splitting
from mlgate.files import SourceFile, display_paths, iter_files
from mlgate.findings import INVALID, Finding, Result, Rule, ScanErrorEntry, UnusedIgnore, assign_fingerprints
from mlgate.generated import is_generated
from mlgate.hook import Hook, ScanContext
from mlgate.suppressions import IgnoreComment, InlineIgnores

if TYPE_CHECKING:
    from mlgate.online import OnlineSession


def _selected(code: str, hook: str, selectors: list[str]) -> bool:
    return any(s == hook or code.startswith(s) for s in selectors)


def _wanted(finding: Finding, config: Config) -> bool:
    return _wanted_rule(finding.rule, config)


def _wanted_rule(rule: Rule, config: Config) -> bool:
    code, hook = rule.code, rule.hook
    if config.select and not _selected(code, hook, config.select):
        return False
    return not _selected(code, hook, config.ignore)


def scan(
    paths: list[str],
    hooks: list[Hook],
    config: Config,
    baseline: set[str] | None = None,
    online: OnlineSession | None = None,
    jobs: int = 1,
) -> Result:
    """Scan `paths`; with an `online` session, each hook's online check runs after the scan.
    An offline run of enough files is split among up to `jobs` processes (`mlgate.file_scans`):
    the result is the same."""
    result = Result(strict_errors=config.strict_errors)
    hooks = [hook for hook in hooks if any(_wanted_rule(rule, config) for rule in hook.rules)]
    selection = iter_files(paths, config.exclude)  # a bad named path raises BadPath: nothing is read
    files = selection.files
    result.skipped, result.warnings = selection.skipped, selection.warnings
    contexts = {hook.name: ScanContext(options=options_for(hook, config), online=online is not None) for hook in hooks}
    # every scanner of every hook in order, with the context it is given for each file of the run
    scanners = [(hook, scanner, contexts[hook.name]) for hook in hooks for scanner in hook.scanners]
    debug = bool(os.environ.get("MLGATE_DEBUG"))
    loop = FileScanner(files, display_paths(files), scanners, debug=debug)
    # notes are kept only in this process (for the online check), and a debug run raises here
    split = 1 if online is not None or debug else worth_splitting(jobs, len(files))
    scans, opened = scan_files(loop, split)

    raw: list[Finding] = []
    sources: dict[str, SourceFile] = {}  # what the report reads lines of, as its files are shown
    comments: list[IgnoreComment] = []
    for scan in scans:
        raw.extend(scan.findings)
        result.errors.extend(scan.errors)
        comments.extend(scan.comments)
        if scan.matched:
            result.scanned_files += 1
            sources[loop.shown[scan.index]] = SourceFile(path=loop.shown[scan.index], abspath=files[scan.index])
    for other in opened:
        sources.setdefault(other.path, SourceFile(path=other.path, abspath=other.abspath))
        comments.extend(other.comments)
    ignores = InlineIgnores(comments)
    result.errors.extend(ScanErrorEntry(path, message, INVALID) for path, message in ignores.problems())
    if online is not None:
        candidates = _dedupe(f for f in raw if _wanted(f, config))
        raw = _online_findings(online, hooks, contexts, candidates, config, _hidden_anyway(candidates, ignores, sources, baseline))
        result.errors.extend(ScanErrorEntry(path, message) for path, message in online.errors)
        online.errors.clear()

    findings = _dedupe(f for f in raw if _wanted(f, config))
    findings = [dataclasses.replace(f, severity=config.severity[f.rule.code]) if f.rule.code in config.severity else f for f in findings]
    findings = _without_generated_copies(findings, sources, result)
    findings = _without_inline_ignored(findings, ignores, result)
    findings = [with_context(f, sources.get(f.path)) for f in findings]
    findings = assign_fingerprints(findings, _content_digests(findings, sources))
    if baseline:
        findings = _without_baselined(findings, baseline, result)
    result.unused_ignores = _unused_ignores(ignores, hooks, config, online is not None)
    result.findings = sorted(findings, key=lambda f: f.sort_key)
    # Dedupe errors too: an include read by two requirement files is reported once.
    unique = {(e.path, e.message, e.kind): e for e in result.errors}
    result.errors = sorted(unique.values(), key=lambda e: (e.path, e.message))
    return result


def prepare_online(online: OnlineSession, hooks: list[Hook], config: Config) -> None:
    """Tell the session of a run what its online checks may report (`wanted`: the selected
    rules) and which hooks run (`hooks`: whose remote scans `session.scan_remote` uses)."""
    rules = {rule.code: rule for hook in hooks for rule in hook.rules}
    online.wanted = lambda code: code in rules and _wanted_rule(rules[code], config)
    online.hooks = tuple(hook for hook in hooks if any(_wanted_rule(rule, config) for rule in hook.rules))


def _online_findings(
    online: OnlineSession,
    hooks: list[Hook],
    contexts: dict[str, ScanContext],
    findings: list[Finding],
    config: Config,
    hidden: set[int],
) -> list[Finding]:
    """`findings` after each hook's online check: the check returns its hook's findings as they
    are reported (some with more said in their message) followed by new ones. The findings in
    `hidden` (by id) are not looked up: the report hides them whatever the network says."""
    from mlgate.online.checks import run_checks

    prepare_online(online, hooks, config)
    online.cooldown = config.cooldown
    modules = {hook.name: module for hook in hooks if (module := hook.online_module()) is not None}
    found = [f for f in findings if f.rule.hook not in modules or id(f) in hidden]
    work = [
        (module, contexts[name], [f for f in findings if f.rule.hook == name and id(f) not in hidden]) for name, module in modules.items()
    ]
    return [*found, *run_checks(online, work)]


def _hidden_anyway(findings: list[Finding], ignores: InlineIgnores, sources: dict[str, SourceFile], baseline: set[str] | None) -> set[int]:
    """The findings (by id) that an inline ignore comment or the baseline hides, as the report
    will: not worth a lookup. A model file's finding is fingerprinted with its file's digest,
    which is read only for the report: it is never taken for a baselined one here."""
    hidden = {id(f) for f in findings if ignores.hides(f)}
    if baseline:
        shown = [f for f in findings if id(f) not in hidden]
        fingerprinted = assign_fingerprints([with_context(f, sources.get(f.path)) for f in shown])
        hidden.update(
            id(f) for f, known in zip(shown, fingerprinted, strict=True) if known.fingerprint in baseline and not f.in_binary_content
        )
    return hidden


def _dedupe(findings: Iterable[Finding]) -> list[Finding]:
    unique: dict[tuple[str, str, int | None, int | None, int | None, str | None, str], Finding] = {}
    for f in findings:
        unique.setdefault((f.rule.code, f.path, f.line, f.column, f.offset, f.member, f.message), f)
    return list(unique.values())


def _without_generated_copies(findings: list[Finding], sources: dict[str, SourceFile], result: Result) -> list[Finding]:
    """The findings less those on a line of a file the repository marks generated or vendored
    (`mlgate.generated`) when the same rule and message are reported in a file it does not mark:
    the copy is fixed at its source. Model files' findings are the file's own content: always kept."""
    generated = {
        path for path in {f.path for f in findings if not f.in_binary_content} if path in sources and is_generated(sources[path].abspath)
    }
    if not generated:
        return findings
    at_source = {(f.rule.code, f.message) for f in findings if f.path not in generated}
    shown = [f for f in findings if f.path not in generated or f.in_binary_content or (f.rule.code, f.message) not in at_source]
    result.hidden_as_generated += len(findings) - len(shown)
    return shown


def _without_inline_ignored(findings: list[Finding], ignores: InlineIgnores, result: Result) -> list[Finding]:
    """The findings no `mlgate: ignore[...]` comment hides; the hidden ones are counted."""
    shown = [finding for finding in findings if not ignores.hides(finding)]
    result.hidden_inline += len(findings) - len(shown)
    return shown


def _content_digests(findings: list[Finding], sources: dict[str, SourceFile]) -> dict[str, str]:
    """The sha256 of each file that has a finding in its binary content, for its fingerprint."""
    import hashlib  # loads OpenSSL: paid only by runs with findings in model files

    digests: dict[str, str] = {}
    for path in {finding.path for finding in findings if finding.in_binary_content}:
        source = sources.get(path)
        if source is None:
            continue
        digest = hashlib.sha256()
        try:
            with source.open_binary() as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
        except OSError:  # the scanner could read it a moment ago; without a digest the id is still stable
            continue
        digests[path] = digest.hexdigest()
    return digests


# Said on a model file's finding that a version-1 baseline (written before fingerprints included
# the file's digest) lists: the baseline cannot tell the accepted file from a swapped one.
_OLD_FINGERPRINT = (
    " (a baseline from before mlgate fingerprinted model files by their sha256 lists it: review the file, then run `mlgate baseline` again)"
)


def _without_baselined(findings: list[Finding], baseline: set[str], result: Result) -> list[Finding]:
    """The findings the baseline does not list; the hidden ones are counted."""
    old_ids = assign_fingerprints(findings) if any(f.in_binary_content for f in findings) else findings
    shown = []
    for finding, old in zip(findings, old_ids, strict=True):
        if finding.fingerprint in baseline:
            result.hidden_by_baseline += 1
        elif finding.in_binary_content and old.fingerprint in baseline:
            shown.append(dataclasses.replace(finding, message=finding.message + _OLD_FINGERPRINT))
        else:
            shown.append(finding)
    return shown


def _unused_ignores(ignores: InlineIgnores, hooks: list[Hook], config: Config, online: bool) -> list[UnusedIgnore]:
    """The ignore comments with codes that hid nothing, when the configuration asks for them."""
    if not config.report_unused_ignores:
        return []
    return ignores.unused(lambda name: _ran(name, hooks, config, online))


def _ran(name: str, hooks: list[Hook], config: Config, online: bool) -> bool:
    """Whether this run checked the rule or hook `name`: an ignore comment naming a rule the run
    did not check (another hook's, a rule reported only with --online) is not unused."""
    if any(hook.name == name for hook in hooks):
        return True
    rule = next((rule for hook in hooks for rule in hook.rules if rule.code == name), None)
    return rule is not None and _wanted_rule(rule, config) and (online or not rule.online_only)
