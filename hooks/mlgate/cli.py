"""Command line: `mlgate check|baseline|rules|explain` and the per-hook scripts.

Exit status: 0 nothing at or above --fail-on, 1 findings (or errors that fail the run: see
"Errors" in docs/configuration.md), 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate import __version__, rule_pages
from mlgate.config import Config, check_selectors, find_config_file, load_config, top_level_keys
from mlgate.errors import UsageError
from mlgate.findings import Result, Rule, Severity
from mlgate.hook import Hook
from mlgate.plugins import HOOK_MODULES, load_hook, load_hooks

if TYPE_CHECKING:
    from mlgate.online import OnlineSession

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
SEVERITIES = [str(s) for s in Severity]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would exit(2) itself; keep control here
        raise UsageError(f"{self.prog}: {message}")


def _split(values: list[str] | None) -> list[str]:
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    from mlgate.report import FORMATS

    parser = _Parser(
        prog="mlgate",
        description="Block ML supply-chain risks: unpinned dependencies, executable model files, swappable hub references, exposed services.",
    )
    parser.add_argument("--version", action="version", version=f"mlgate {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    def scan_options(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
        cmd.add_argument("--select", action="append", metavar="HOOKS_OR_CODES", help="only these hooks or rule codes (comma separated)")
        cmd.add_argument("--ignore", action="append", metavar="HOOKS_OR_CODES", help="skip these hooks or rule codes")
        cmd.add_argument("--config", metavar="FILE", help="configuration file (default: nearest .mlgate.yaml or pyproject.toml)")
        cmd.add_argument("--exclude", action="append", metavar="GLOB", help="paths not to scan")

    check = sub.add_parser("check", help="scan files and directories")
    scan_options(check)
    check.add_argument("--format", choices=list(FORMATS), default="text")
    check.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")
    check.add_argument("--fail-on", choices=SEVERITIES, help="lowest severity that fails the run (default: low)")
    check.add_argument("--baseline", metavar="FILE", help="hide findings listed in this baseline")
    check.add_argument(
        "--strict-errors",
        action="store_true",
        help="fail the run on files that are not valid in their own language or cannot be read (default: listed only)",
    )
    check.add_argument(
        "--online", action="store_true", help="also run the checks that use the network (OSV advisories, what tags and images point to now)"
    )
    check.add_argument("--fix", action="store_true", help="rewrite movable references to what they resolve to now (implies --online)")
    sub.add_parser("fix", help="same as `check --fix`: pin actions, pre-commit repos and images in place", add_help=False)

    baseline = sub.add_parser("baseline", help="write a baseline of the current findings")
    scan_options(baseline)
    baseline.add_argument("--output", metavar="FILE", default=".mlgate-baseline.json")

    rules = sub.add_parser("rules", help="list the rules")
    rules.add_argument("--format", choices=["text", "json"], default="text")
    explain = sub.add_parser("explain", help="print a rule's documentation page")
    explain.add_argument("code")
    return parser


def _prepare(args: argparse.Namespace) -> tuple[list[Hook], Config]:
    """Validate the configuration against every hook, then keep the selected ones."""
    every_hook = _hooks_to_load(args)
    config = load_config(args.config, every_hook)
    if args.select:
        config.select = check_selectors(_split(args.select), every_hook, "--select")
    if args.ignore:
        config.ignore = [*config.ignore, *check_selectors(_split(args.ignore), every_hook, "--ignore")]
    if args.exclude:
        config.exclude = [*config.exclude, *args.exclude]
    if getattr(args, "strict_errors", False):
        config.strict_errors = True
    return every_hook, config


def _hooks_to_load(args: argparse.Namespace) -> list[Hook]:
    """Only the hooks a run needs: `mlgate-models` must not pay for importing every other
    hook. A configuration section of another hook still loads that hook, so the section is
    validated; rule codes in --ignore or in the file's select/ignore/severity load them all."""
    selected = _split(args.select)
    if not selected or not set(selected) <= set(HOOK_MODULES) or args.ignore:
        return load_hooks()
    names = dict.fromkeys(selected)
    path = Path(args.config) if args.config is not None else find_config_file(Path.cwd().resolve())
    if path is not None and path.is_file():
        keys = top_level_keys(path)
        if keys & {"select", "ignore", "severity"}:
            return load_hooks()
        names.update(dict.fromkeys(key for key in keys if key in HOOK_MODULES))
    return [load_hook(name) for name in names]


def _all_rules(hooks: list[Hook]) -> list[Rule]:
    return sorted((rule for hook in hooks for rule in hook.rules), key=lambda r: r.code)


def run_check(args: argparse.Namespace, paths: list[str], *, use_baseline: bool = True) -> tuple[Result, list[Rule], Severity]:
    """Scan `paths` as `mlgate check` would (an empty list scans nothing): the result, the
    rules of the hooks that ran, and the severity that fails the run."""
    from mlgate import engine, suppressions

    hooks, config = _prepare(args)
    baseline_path = getattr(args, "baseline", None) or config.baseline
    known = None
    if baseline_path and use_baseline:
        known = suppressions.read_baseline(baseline_path)
    session = _online_session(args)
    result = engine.scan(paths, hooks, config, known, online=session)
    if session is not None and getattr(args, "fix", False):
        result = _fix(result, paths, hooks, config, known, session)
    fail_on = getattr(args, "fail_on", None)
    return result, _all_rules(hooks), Severity.parse(fail_on) if fail_on else config.fail_on


def _online_session(args: argparse.Namespace) -> OnlineSession | None:
    """A session only when asked: an offline run never imports the network code."""
    if not (getattr(args, "online", False) or getattr(args, "fix", False)):
        return None
    from mlgate.online import OnlineSession

    return OnlineSession()


def _fix(result: Result, paths: list[str], hooks: list[Hook], config: Config, known: set[str] | None, session: OnlineSession) -> Result:
    """Apply the fixes, then scan again so the report shows what is left."""
    from mlgate import engine
    from mlgate.findings import ScanErrorEntry
    from mlgate.online.fix import fix

    changed, errors = fix(result.findings, hooks, session)
    if changed:
        print(f"mlgate: fixed {', '.join(changed)}", file=sys.stderr)
        result = engine.scan(paths, hooks, config, known, online=session)
        result.fixed = changed
    if errors:
        print(f"mlgate: no file rewritten: {len(errors)} fix(es) could not be made (see the errors)", file=sys.stderr)
    result.errors.extend(ScanErrorEntry(path, message) for path, message in errors)
    return result


def _check(args: argparse.Namespace, write_baseline: bool = False) -> int:
    result, rules, fail_on = run_check(args, args.paths or ["."], use_baseline=not write_baseline)
    if write_baseline:
        from mlgate import suppressions

        suppressions.write_baseline(args.output, result.findings)
        print(f"mlgate: wrote {len(result.findings)} finding(s) to {args.output}", file=sys.stderr)
        return EXIT_OK
    from mlgate.report import render

    report = render(args.format, result, rules)
    if args.output:
        Path(args.output).write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    return EXIT_FINDINGS if result.failed(fail_on) else EXIT_OK


def _rules(args: argparse.Namespace) -> int:
    rules = _all_rules(load_hooks())
    if args.format == "json":
        print(
            json.dumps(
                [
                    {"code": r.code, "name": r.name, "hook": r.hook, "severity": str(r.severity), "summary": r.summary, "fix": r.fix}
                    for r in rules
                ],
                indent=2,
            )
        )
        return EXIT_OK
    for rule in rules:
        print(f"{rule.code:<8} {str(rule.severity):<9} {rule.hook:<9} {rule.name:<34} {rule.summary}")
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    code = args.code.upper()
    if code not in {rule.code for rule in _all_rules(load_hooks())}:
        raise UsageError(f"mlgate explain: unknown rule code {args.code!r} (see `mlgate rules`)")
    page = rule_pages.page(code)
    if page is None:
        raise UsageError(f"mlgate explain: rule {code} has no documentation page")
    sys.stdout.write(page)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["fix"]:
        argv = ["check", "--fix", *argv[1:]]
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command == "check":
            return _check(args)
        if args.command == "baseline":
            return _check(args, write_baseline=True)
        if args.command == "rules":
            return _rules(args)
        if args.command == "explain":
            return _explain(args)
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:  # configuration and baseline errors too
        print(f"mlgate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # `mlgate rules | head`: the reader left. Point stdout at /dev/null so the interpreter's
        # final flush does not print a second traceback, and fail like a killed writer would.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FINDINGS


def hook_main(hook: str, argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    return main(["check", "--select", hook, *argv])


def main_pins(argv: list[str] | None = None) -> int:
    return hook_main("pins", argv)


def main_models(argv: list[str] | None = None) -> int:
    return hook_main("models", argv)


def main_hub(argv: list[str] | None = None) -> int:
    return hook_main("hub", argv)


def main_services(argv: list[str] | None = None) -> int:
    return hook_main("services", argv)
