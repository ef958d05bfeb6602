"""Command line: `mlgate check|baseline|scan|rules|explain` and the per-hook scripts.

Exit status: 0 nothing at or above --fail-on, 1 findings (or errors that fail the run: see
"Errors" in docs/configuration.md), 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate import __version__, rule_pages
from mlgate.config import Config, check_selectors, config_for_paths, load_config, top_level_keys
from mlgate.errors import UsageError
from mlgate.findings import Result, Rule, Severity
from mlgate.hook import Hook
from mlgate.plugins import HOOK_MODULES, load_hook, load_hooks

if TYPE_CHECKING:
    from mlgate.excludes import Exclude
    from mlgate.online import OnlineSession

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
SEVERITIES = [str(s) for s in Severity]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would exit(2) itself; keep control here
        raise UsageError(message)  # `main` prints who speaks: `mlgate: error: MESSAGE`


def _split(values: list[str] | None) -> list[str]:
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def build_parser(hook_script: str | None = None) -> argparse.ArgumentParser:
    """The `mlgate` parser; for a per-hook script (`mlgate-pins`), its `check` command is that
    script: its usage, errors and `--version` say the script's name."""
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

    check = sub.add_parser("check", help="scan files and directories", prog=hook_script)
    scan_options(check)
    _report_options(check, hook_script)
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
        "--show-unused-ignores", action="store_true", help="list the `mlgate: ignore[...]` comments that hid nothing (path and line)"
    )
    check.add_argument(
        "--online", action="store_true", help="also run the checks that use the network (OSV advisories, what tags and images point to now)"
    )
    check.add_argument("--fix", action="store_true", help="rewrite movable references to what they resolve to now (implies --online)")
    check.add_argument(
        "--online-deadline",
        type=_deadline_seconds,
        metavar="SECONDS",
        help="with --online or --fix: time for all the lookups; those unanswered then are errors (default: 30; 0: no limit)",
    )
    check.add_argument(
        "--jobs",
        type=_job_count,
        metavar="N",
        help="processes to split an offline run of many files among (default: one per processor for `mlgate check`, "
        "1 for the per-hook scripts, which pre-commit already runs side by side)",
    )
    check.add_argument(
        "--show-settings",
        action="store_true",
        help="print the configuration file in force for PATHs and every effective setting, then exit",
    )
    sub.add_parser("fix", help="same as `check --fix`: pin actions, pre-commit repos and images in place", add_help=False)

    baseline = sub.add_parser("baseline", help="write a baseline of the current findings")
    scan_options(baseline)
    baseline.add_argument("--output", metavar="FILE", default=".mlgate-baseline.json")

    scan = sub.add_parser("scan", help="check one hub repository by id, online: hf://owner/repo[@revision]")
    scan.add_argument("target", metavar="hf://OWNER/REPO[@REVISION]", help="also hf://datasets/owner/repo, hf://spaces/owner/repo")
    scan.add_argument("--select", action="append", metavar="HOOKS_OR_CODES", help="only these hooks or rule codes (comma separated)")
    scan.add_argument("--ignore", action="append", metavar="HOOKS_OR_CODES", help="skip these hooks or rule codes")
    scan.add_argument("--config", metavar="FILE", help="configuration file (default: nearest .mlgate.yaml or pyproject.toml)")
    _report_options(scan, None)
    scan.add_argument("--format", choices=list(FORMATS), default="text")
    scan.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")
    scan.add_argument("--fail-on", choices=SEVERITIES, help="lowest severity that fails the run (default: low)")
    scan.add_argument(
        "--online-deadline", type=_deadline_seconds, metavar="SECONDS", help="time for all the lookups (default: 30; 0: no limit)"
    )
    scan.set_defaults(exclude=None)

    rules = sub.add_parser("rules", help="list the rules")
    rules.add_argument("--format", choices=["text", "json"], default="text")
    explain = sub.add_parser("explain", help="print a rule's documentation page")
    explain.add_argument("code")
    return parser


def _report_options(check: argparse.ArgumentParser, hook_script: str | None) -> None:
    """How `check` reports (the text report's options, and the exit status), and for a per-hook
    script its `--version` and name."""
    from mlgate.report.text import COLOURS

    if hook_script is not None:
        check.add_argument("--version", action="version", version=f"%(prog)s (mlgate {__version__})")
    check.set_defaults(hook_script=hook_script)
    check.add_argument(
        "-q", "--quiet", action="store_true", help="print only the summary line, and nothing when there is nothing to report"
    )
    check.add_argument("--statistics", action="store_true", help="print the number of findings per rule instead of the findings")
    check.add_argument(
        "--exit-zero", action="store_true", help="exit 0 even when findings or errors would fail the run (usage errors still exit 2)"
    )
    check.add_argument(
        "--color",
        choices=COLOURS,
        default="auto",
        help="colour the text report: auto (default) on a terminal unless NO_COLOR is set, or when FORCE_COLOR is",
    )


def _prepare(args: argparse.Namespace, paths: list[str]) -> tuple[list[Hook], Config]:
    """Validate the configuration of a run over `paths` against every hook, then keep the selected ones."""
    every_hook = _hooks_to_load(args, paths)
    config = load_config(args.config, every_hook, paths=paths)
    if args.select:
        config.select = check_selectors(_split(args.select), every_hook, "--select")
    if args.ignore:
        config.ignore = [*config.ignore, *check_selectors(_split(args.ignore), every_hook, "--ignore")]
    if args.exclude:
        config.exclude = [*config.exclude, *_command_line_excludes(args.exclude)]
    if getattr(args, "strict_errors", False):
        config.strict_errors = True
    if getattr(args, "show_unused_ignores", False):
        config.report_unused_ignores = True
    if getattr(args, "online_deadline", None) is not None:
        config.online_deadline = args.online_deadline
    return every_hook, config


def _command_line_excludes(patterns: list[str]) -> list[Exclude]:
    """--exclude patterns: relative to the current directory, as paths typed beside them are."""
    from mlgate.excludes import COMMAND_LINE, Exclude

    return [Exclude(pattern, Path(os.getcwd()), COMMAND_LINE) for pattern in patterns]


def _hooks_to_load(args: argparse.Namespace, paths: list[str]) -> list[Hook]:
    """Only the hooks a run needs: `mlgate-models` must not pay for importing every other
    hook. A configuration section of another hook still loads that hook, so the section is
    validated; rule codes in --ignore or in the file's select/ignore/severity load them all."""
    selected = _split(args.select)
    if not selected or not set(selected) <= set(HOOK_MODULES) or args.ignore:
        return load_hooks()
    names = dict.fromkeys(selected)
    path = Path(args.config) if args.config is not None else config_for_paths(paths)
    if path is not None and path.is_file():
        keys = top_level_keys(path)
        if keys & {"select", "ignore", "severity"}:
            return load_hooks()
        names.update(dict.fromkeys(key for key in keys if key in HOOK_MODULES))
    return [load_hook(name) for name in names]


def _all_rules(hooks: list[Hook]) -> list[Rule]:
    return sorted((rule for hook in hooks for rule in hook.rules), key=lambda r: r.code)


def _fewer_collections() -> None:
    """Set the garbage collector for one scan in this process: the modules, rules and tables loaded
    so far live until the end and are frozen out of every collection, and a young collection waits
    for 20,000 allocations instead of 700. A scan allocates millions of syntax-tree nodes that
    reference counting frees (they hold no cycles); the default thresholds walked the run's live
    objects hundreds of times (peft: 652 collections, 0.29 s; with these 72 collections, 0.11 s)."""
    import gc

    if not gc.get_freeze_count():  # once a process (a test session runs many checks)
        gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def run_check(args: argparse.Namespace, paths: list[str], *, use_baseline: bool = True) -> tuple[Result, list[Rule], Severity]:
    """Scan `paths` as `mlgate check` would (an empty list scans nothing): the result, the
    rules of the hooks that ran, and the severity that fails the run."""
    from mlgate import engine, suppressions

    hooks, config = _prepare(args, paths)
    baseline_path = getattr(args, "baseline", None) or config.baseline
    known = None
    if baseline_path and use_baseline:
        known = suppressions.read_baseline(baseline_path)
    session = _online_session(args, config)
    _fewer_collections()
    result = engine.scan(paths, hooks, config, known, online=session, jobs=_jobs(args))
    if session is not None and getattr(args, "fix", False):
        result = _fix(result, paths, hooks, config, known, session)
    fail_on = getattr(args, "fail_on", None)
    return result, _all_rules(hooks), Severity.parse(fail_on) if fail_on else config.fail_on


def _job_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes, 1 or more: {text!r}")
    return count


def _jobs(args: argparse.Namespace) -> int:
    """The processes a run may use: `--jobs`, else one per processor, but one for a per-hook
    script (pre-commit splits the files among as many of them as there are processors)."""
    from mlgate.file_scans import default_jobs

    jobs: int | None = getattr(args, "jobs", None)
    if jobs is not None:
        return jobs
    return 1 if getattr(args, "hook_script", None) else default_jobs()


def _deadline_seconds(text: str) -> float:
    from mlgate.config import ConfigError, online_deadline

    try:
        return online_deadline(text, "--online-deadline")
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--online-deadline: ")) from None


def _online_session(args: argparse.Namespace, config: Config) -> OnlineSession | None:
    """A session only when asked: an offline run never imports the network code."""
    if not (getattr(args, "online", False) or getattr(args, "fix", False)):
        return None
    from mlgate.online import OnlineSession, Settings

    settings = Settings.from_env()
    settings.deadline = config.online_deadline  # --online-deadline, else the configuration's
    return OnlineSession(settings, progress=sys.stderr)


def _fix(result: Result, paths: list[str], hooks: list[Hook], config: Config, known: set[str] | None, session: OnlineSession) -> Result:
    """Apply the fixes, then scan again so the report shows what is left."""
    from mlgate import engine
    from mlgate.findings import ScanErrorEntry
    from mlgate.online.fix import fix

    outcome = fix(result.findings, hooks, session)
    if outcome.changed:
        print(f"mlgate: fixed {', '.join(outcome.changed)}", file=sys.stderr)
        result = engine.scan(paths, hooks, config, known, online=session)
        result.fixed = outcome.changed
    if outcome.unfixable:
        print(f"mlgate: no file rewritten: {outcome.unfixable} fix(es) could not be made (see the errors)", file=sys.stderr)
    result.errors.extend(ScanErrorEntry(path, message) for path, message in outcome.errors)
    return result


def _check(args: argparse.Namespace, write_baseline: bool = False) -> int:
    if getattr(args, "show_settings", False):
        return _show_settings(args, args.paths or ["."])
    _check_output_location(args.output)
    result, rules, fail_on = run_check(args, args.paths or ["."], use_baseline=not write_baseline)
    for warning in result.warnings:
        print(f"mlgate: warning: {warning}", file=sys.stderr)
    if write_baseline:
        from mlgate import suppressions

        with _writing(args.output):
            suppressions.write_baseline(args.output, result.findings)
        print(f"mlgate: wrote {len(result.findings)} finding(s) to {args.output}", file=sys.stderr)
        return EXIT_OK
    report = _report(args, result, rules)
    if args.output:
        with _writing(args.output):
            Path(args.output).write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    return EXIT_FINDINGS if result.failed(fail_on) and not args.exit_zero else EXIT_OK


def _scan(args: argparse.Namespace) -> int:
    """`mlgate scan hf://owner/repo[@revision]`: what one hub repository holds, always online,
    from the hooks that can check a repository by id (`Hook.repository_scan`) and the remote
    scans of the selected hooks; its findings are at `hf://owner/repo@<sha>[/<file>]`."""
    import dataclasses

    from mlgate.engine import prepare_online
    from mlgate.findings import ScanErrorEntry, assign_fingerprints
    from mlgate.online import OnlineError, OnlineSession, Settings
    from mlgate.online.hub_api import parse_hf_uri

    try:
        repository = parse_hf_uri(args.target)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _check_output_location(args.output)
    hooks, config = _prepare(args, [])
    settings = Settings.from_env()
    settings.deadline = config.online_deadline
    session = OnlineSession(settings, progress=sys.stderr)
    prepare_online(session, hooks, config)
    session.deadline.start()
    result = Result(scanned_files=1)
    findings = []
    for module in (module for hook in load_hooks() if (module := hook.repository_scan_module()) is not None):
        try:
            findings.extend(module.scan_repository(session, repository))
        except OnlineError as exc:
            result.errors.append(ScanErrorEntry(repository.uri, str(exc)))
    session.thread_done()
    result.errors.extend(ScanErrorEntry(path, message) for path, message in session.errors)
    result.findings = sorted(assign_fingerprints([dataclasses.replace(f, context=f.message) for f in findings]), key=lambda f: f.sort_key)
    report = _report(args, result, _all_rules(hooks))
    if args.output:
        with _writing(args.output):
            Path(args.output).write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    fail_on = Severity.parse(args.fail_on) if args.fail_on else config.fail_on
    return EXIT_FINDINGS if result.failed(fail_on) and not args.exit_zero else EXIT_OK


def _report(args: argparse.Namespace, result: Result, rules: list[Rule]) -> str:
    """The report in the format asked for; the text report with its options: colour, quiet,
    statistics, and for a per-hook script its name in the summary, and no summary at all on a
    clean run unless a person is watching (pre-commit prints `Passed` itself, and a passing
    batch's `0 findings` would sit beside another batch's findings)."""
    from mlgate.report import render, text

    if args.format != "text":
        return render(args.format, result, rules)
    stream = None if args.output else sys.stdout
    options = text.TextOptions(
        colour=text.use_colour(args.color, stream),
        quiet=args.quiet,
        statistics=args.statistics,
        label=args.hook_script or "mlgate",
        silent_when_clean=args.hook_script is not None and not (stream is not None and stream.isatty()),
    )
    return text.render(result, rules, options)


def _check_output_location(output: str | None) -> None:
    """Refuse an --output that cannot be written before scanning, not after: its folder must
    exist (it is not created: a typo would scatter reports), and it must not be a folder."""
    if not output:
        return
    folder = os.path.dirname(output) or "."
    if not os.path.isdir(folder):
        raise UsageError(f"--output {output}: folder {folder} does not exist")
    if os.path.isdir(output):
        raise UsageError(f"--output {output}: is a folder")


@contextlib.contextmanager
def _writing(output: str) -> Iterator[None]:
    """Writing the report or baseline: an error (permission, a full disk) is one usage line."""
    try:
        yield
    except OSError as exc:
        raise UsageError(f"--output {output}: cannot write: {exc.strerror or exc}") from None


def _show_settings(args: argparse.Namespace, paths: list[str]) -> int:
    """`check --show-settings`: the configuration file in force for `paths` and every effective
    value, command-line options applied, printed as YAML in the shape of `.mlgate.yaml`."""
    from mlgate.config import CORE_KEYS, options_for
    from mlgate.excludes import COMMAND_LINE
    from mlgate.files import display_path

    every_hook, config = _prepare(args, paths)
    overrides = {"fail-on": args.fail_on, "baseline": args.baseline}
    print(f"# configuration file: {config.path or 'none (the defaults)'}")
    print(f"# for: {' '.join(paths)}")
    for key in CORE_KEYS:
        if key == "exclude":
            print("exclude:" if config.exclude else "exclude: []")
            for exclude in config.exclude:
                origin = "--exclude, " if exclude.origin == COMMAND_LINE else ""
                print(f"  - {json.dumps(exclude.pattern)}  # {origin}relative to {display_path(exclude.base)}")
        else:
            value = overrides.get(key) or getattr(config, key.replace("-", "_"))
            print(f"{key}: {_setting(value)}" + ("  # every hook" if key == "select" and not value else ""))
    for hook in every_hook:
        if hook.options:
            print(f"{hook.name}:")
            for name, value in options_for(hook, config).items():
                print(f"  {name}: {_setting(value)}")
    return EXIT_OK


def _setting(value: object) -> str:
    """A value as YAML flow (JSON is), severities by name."""

    def plain(item: object) -> object:
        if isinstance(item, Severity):
            return str(item)
        if isinstance(item, dict):
            return {key: plain(inner) for key, inner in item.items()}
        if isinstance(item, (list, tuple)):
            return [plain(inner) for inner in item]
        return item

    return json.dumps(plain(value), default=str)


def _rules(args: argparse.Namespace) -> int:
    rules = _all_rules(load_hooks())
    if args.format == "json":
        print(json.dumps([rule.to_dict() for rule in rules], indent=2))
        return EXIT_OK
    for rule in rules:
        cwe = ",".join(f"CWE-{number}" for number in rule.cwe)
        print(f"{rule.code:<8} {str(rule.severity):<9} {rule.hook:<9} {rule.owasp_ml:<5} {cwe:<17} {rule.name:<34} {rule.summary}")
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    code = args.code.upper()
    if code not in {rule.code for rule in _all_rules(load_hooks())}:
        raise UsageError(f"unknown rule code {args.code!r} (see `mlgate rules`)")
    page = rule_pages.page(code)
    if page is None:
        raise UsageError(f"rule {code} has no documentation page")
    sys.stdout.write(page)
    return EXIT_OK


def main(argv: list[str] | None = None, *, hook_script: str | None = None) -> int:
    """`mlgate ARGS`; with `hook_script` (`mlgate-pins`), `check` run as that script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["fix"]:
        argv = ["check", "--fix", *argv[1:]]
    try:
        parser = build_parser(hook_script)
        args = parser.parse_args(argv)
        if args.command == "check":
            return _check(args)
        if args.command == "baseline":
            return _check(args, write_baseline=True)
        if args.command == "scan":
            return _scan(args)
        if args.command == "rules":
            return _rules(args)
        if args.command == "explain":
            return _explain(args)
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:  # configuration and baseline errors too
        print(f"{hook_script or 'mlgate'}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # `mlgate rules | head`: the reader left. Point stdout at /dev/null so the interpreter's
        # final flush does not print a second traceback, and fail like a killed writer would.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FINDINGS


def hook_main(hook: str, argv: list[str] | None = None) -> int:
    """`mlgate-HOOK ARGS`: `mlgate check --select HOOK ARGS` under the script's own name."""
    argv = list(sys.argv[1:] if argv is None else argv)
    return main(["check", "--select", hook, *argv], hook_script=f"mlgate-{hook}")


def main_pins(argv: list[str] | None = None) -> int:
    return hook_main("pins", argv)


def main_models(argv: list[str] | None = None) -> int:
    return hook_main("models", argv)


def main_hub(argv: list[str] | None = None) -> int:
    return hook_main("hub", argv)


def main_services(argv: list[str] | None = None) -> int:
    return hook_main("services", argv)
