"""Run selected hooks over files: dispatch, filter, suppress, fingerprint."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from mlgate.config import Config, options_for
from mlgate.files import InvalidText, ScanError, SourceFile, display_path, iter_files
from mlgate.findings import ERROR, INVALID, Finding, Result, Rule, ScanErrorEntry, assign_fingerprints
from mlgate.hook import Hook, ScanContext
from mlgate.notes import Note
from mlgate.suppressions import is_suppressed_inline

if TYPE_CHECKING:
    from mlgate.online import OnlineSession


def error_kind(error: ScanError) -> str:
    """What a ScanError is (see "Errors" in docs/configuration.md): INVALID for a text file that
    is not valid in its own language (`InvalidText`), ERROR (fails the run) for everything else:
    a file that cannot be read as text (`UnreadableFile`), a missing include, a refused file."""
    return INVALID if isinstance(error, InvalidText) else ERROR


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
    paths: list[str], hooks: list[Hook], config: Config, baseline: set[str] | None = None, online: OnlineSession | None = None
) -> Result:
    """Scan `paths`; with an `online` session, each hook's online check runs after the scan."""
    result = Result(strict_errors=config.strict_errors)
    hooks = [hook for hook in hooks if any(_wanted_rule(rule, config) for rule in hook.rules)]
    files, missing = iter_files(paths, config.exclude)
    result.errors.extend(ScanErrorEntry(path, message) for path, message in missing)
    contexts = {hook.name: ScanContext(options=options_for(hook, config), online=online is not None) for hook in hooks}
    sources: dict[str, SourceFile] = {}
    raw: list[Finding] = []
    debug = bool(os.environ.get("MLGATE_DEBUG"))

    for path in files:
        shown = display_path(path)
        source = SourceFile(path=shown, abspath=path)
        matched = False
        for hook in hooks:
            for scanner in hook.scanners:
                if not scanner.matches(shown):
                    continue
                matched = True
                context = contexts[hook.name]
                try:
                    for item in scanner.scan(source, context):
                        if isinstance(item, Note):
                            context.note(item)  # for the online check; never reported
                        else:
                            raw.append(item)
                except ScanError as exc:
                    result.errors.append(ScanErrorEntry(shown, str(exc), error_kind(exc)))
                except Exception as exc:  # a bug must not end the run over the other files
                    if debug:
                        raise
                    result.errors.append(
                        ScanErrorEntry(shown, f"internal error in {hook.name}/{scanner.name}: {type(exc).__name__}: {exc}")
                    )
        source.forget_parses()
        if matched:
            result.scanned_files += 1
            sources[shown] = source
    for context in contexts.values():
        for source in context._cache.values():
            sources.setdefault(source.path, source)
    if online is not None:
        raw = _online_findings(online, hooks, contexts, [f for f in raw if _wanted(f, config)], config)
        result.errors.extend(ScanErrorEntry(path, message) for path, message in online.errors)
        online.errors.clear()

    findings = _dedupe(f for f in raw if _wanted(f, config))
    findings = [dataclasses.replace(f, severity=config.severity[f.rule.code]) if f.rule.code in config.severity else f for f in findings]
    findings = [f for f in findings if not _inline_suppressed(f, sources)]
    findings = [
        dataclasses.replace(f, context=_line(sources, f.path, f.line).strip() or f.message) if f.context is None else f for f in findings
    ]
    findings = assign_fingerprints(findings)
    if baseline:
        findings = [f for f in findings if f.fingerprint not in baseline]
    result.findings = sorted(findings, key=lambda f: f.sort_key)
    # Dedupe errors too: an include read by two requirement files is reported once.
    unique = {(e.path, e.message, e.kind): e for e in result.errors}
    result.errors = sorted(unique.values(), key=lambda e: (e.path, e.message))
    return result


def _online_findings(
    online: OnlineSession, hooks: list[Hook], contexts: dict[str, ScanContext], findings: list[Finding], config: Config
) -> list[Finding]:
    """`findings` after each hook's online check: the check returns its hook's findings as they
    are reported (some with more said in their message) followed by new ones."""
    rules = {rule.code: rule for hook in hooks for rule in hook.rules}
    online.wanted = lambda code: code in rules and _wanted_rule(rules[code], config)
    modules = {hook.name: module for hook in hooks if (module := hook.online_module()) is not None}
    found = [f for f in findings if f.rule.hook not in modules]
    for name, module in modules.items():
        found.extend(module.check(online, contexts[name], [f for f in findings if f.rule.hook == name]))
    return found


def _dedupe(findings: Iterable[Finding]) -> list[Finding]:
    unique: dict[tuple[str, str, int | None, int | None, int | None, str | None, str], Finding] = {}
    for f in findings:
        unique.setdefault((f.rule.code, f.path, f.line, f.column, f.offset, f.member, f.message), f)
    return list(unique.values())


def _line(sources: dict[str, SourceFile], path: str, line: int | None) -> str:
    source = sources.get(path)
    if source is None or not line:
        return ""
    try:
        return source.line_text(line)
    except ScanError:
        return ""


def _inline_suppressed(finding: Finding, sources: dict[str, SourceFile]) -> bool:
    if not finding.line:
        return False
    return is_suppressed_inline(
        finding,
        _line(sources, finding.path, finding.line),
        _line(sources, finding.path, finding.line - 1),
    )
