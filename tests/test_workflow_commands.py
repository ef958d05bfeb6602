"""What the Actions runner makes of every line mlgate prints: exactly the intended commands.

`runner_command` reads a line the way actions/runner does (src/Runner.Common/ActionCommand.cs,
src/Runner.Worker/Handlers/OutputManager.cs and ActionCommandManager.cs at commit
258d6c857db3519913f7deb6004b60172f8043ae):

- the step's output is split into lines by .NET's StreamReader.ReadLine (`\\r\\n`, `\\r`, `\\n`);
- a line is tried as `::name props::data` (TryParseV2: leading white space trimmed by .NET's
  TrimStart, i.e. char.IsWhiteSpace; properties split at `,`, each at its first `=`; property
  values and data unescaped) and, failing that, as the legacy `##[name props]data` found
  anywhere in the line (TryParse: properties split at `;`);
- which names count is a set the runner extends at run time (`::stop-commands::TOKEN`
  registers TOKEN), so here any non-empty name counts: a line is safe only if it parses as
  no command at all.

The checks then render findings and errors whose paths and messages are crafted to inject
commands, and assert that the runner would see exactly mlgate's annotations, with the
intended levels, titles and locations, and nothing else.
"""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlgate.findings import Result, ScanErrorEntry, assign_fingerprints
from mlgate.models.rules import DANGEROUS_CALL as MOD001
from mlgate.pins.rules import ACTION_NOT_PINNED as PIN020
from mlgate.pins.rules import UNPINNED as PIN001
from mlgate.plugins import load_hooks
from mlgate.report import github, markdown, plain, render
from mlgate.report.text import grouped

ALL_RULES = sorted((rule for hook in load_hooks() for rule in hook.rules), key=lambda rule: rule.code)

# char.IsWhiteSpace (.NET): the Unicode space, line and paragraph separators, and U+0009-U+000D, U+0085.
DOTNET_WHITESPACE = "".join(
    char for char in map(chr, range(0x10000)) if unicodedata.category(char) in ("Zs", "Zl", "Zp") or char in "\t\n\v\f\r\x85"
)


@dataclass(frozen=True)
class RunnerCommand:
    name: str
    properties: dict
    data: str
    legacy: bool


def _unescape(text: str, mappings: list[tuple[str, str]]) -> str:
    for escaped, unescaped in mappings:  # in the runner's order
        text = text.replace(escaped, unescaped)
    return text


_DATA = [("%0D", "\r"), ("%0A", "\n"), ("%25", "%")]
_PROPERTY = [("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")]
_LEGACY = [("%3B", ";"), ("%0D", "\r"), ("%0A", "\n"), ("%5D", "]"), ("%25", "%")]


def _properties(text: str, separator: str, mappings: list[tuple[str, str]]) -> dict:
    found = {}
    for pair in filter(None, text.split(separator)):
        parts = [part for part in pair.split("=", 1) if part]
        if len(parts) == 2:
            found[parts[0].lower()] = _unescape(parts[1], mappings)
    return found


def runner_command(line: str) -> RunnerCommand | None:
    """The command the runner reads in one line of output, or None."""
    if not line or ("##[" not in line and "::" not in line):
        return None  # OutputManager.OnDataReceived does not even try
    message = line.lstrip(DOTNET_WHITESPACE)
    if message.startswith("::"):
        end = message.find("::", 2)
        if end >= 0:
            info = message[2:end]
            name = info.split(" ", 1)[0]
            if name:
                given = info.split(" ", 1)[1].strip() if " " in info else ""
                return RunnerCommand(name, _properties(given, ",", _PROPERTY), _unescape(message[end + 2 :], _DATA), False)
    start = line.find("##[")
    if start >= 0:
        close = line.find("]", start)
        if close >= 0:
            info = line[start + 3 : close]
            name = info.split(" ", 1)[0]
            if name:
                given = info.split(" ", 1)[1] if " " in info else ""
                return RunnerCommand(name, _properties(given, ";", _LEGACY), _unescape(line[close + 1 :], _LEGACY), True)
    return None


def runner_lines(output: str) -> list[str]:
    """StreamReader.ReadLine over the whole output."""
    lines = re.split(r"\r\n|\r|\n", output)
    return lines[:-1] if lines and lines[-1] == "" else lines


def runner_commands(output: str) -> list[tuple[int, RunnerCommand]]:
    return [(number, command) for number, line in enumerate(runner_lines(output)) if (command := runner_command(line))]


# ---- the emulation itself, against the runner's own unit-test examples -----------------


def test_the_emulation_reads_the_runners_own_examples():
    # From actions/runner src/Test/L0/Worker/ActionCommandL0.cs and ActionCommandManagerL0.cs.
    assert runner_command("##[do-something k1=v1;]msg") == RunnerCommand("do-something", {"k1": "v1"}, "msg", True)
    assert runner_command("##[do-something k1=%3B=%0D=%0A=%5D;]%3B-%0D-%0A-%5D") == RunnerCommand(
        "do-something", {"k1": ";=\r=\n=]"}, ";-\r-\n-]", True
    )
    assert runner_command("   ::do-something k1=v1::msg") == RunnerCommand("do-something", {"k1": "v1"}, "msg", False)
    assert runner_command("::do-something k1=%3A=%2C=%0D=%0A=%25::%3A-%2C-%0D-%0A-%25") == RunnerCommand(
        "do-something", {"k1": ":=,=\r=\n=%"}, "%3A-%2C-\r-\n-%", False
    )
    assert runner_command("text before ##[add-mask]secret") == RunnerCommand("add-mask", {}, "secret", True)
    assert runner_command("\u3000::stop-commands::token") == RunnerCommand("stop-commands", {}, "token", False)
    assert runner_command("mlgate: ::error::x") is None  # `::` counts only at the start
    assert runner_lines("a\r::error::b\r\nc\n") == ["a", "::error::b", "c"]


# ---- mlgate's output ----------------------------------------------------------------------

HOSTILE = [
    "::error file=x.py::fake",
    "##[add-mask]secret",
    "x ##[set-output name=pwned]1",
    "a\r::stop-commands::token",
    "b\n::warning::fake\r\n##[error]fake",
    "\u3000::notice::fake",
    "\u00a0\u2028::debug::x",
    "%0A::error::x %25 %3A",
    "c,line=9::title=x,file=y",
    "##[##[[]]]",
    "\x1b[8mhidden\x1b[0m",
    "evil\u202egnp.exe",
    "bytes\udcff\udc80",
    "]##;##[group]g",
]


def result_of(findings: list, errors: list[ScanErrorEntry]) -> Result:
    findings = assign_fingerprints([dataclasses.replace(finding, context=finding.message) for finding in findings])
    return Result(scanned_files=1, findings=findings, errors=errors)


def hostile_result() -> tuple[Result, int]:
    """Findings and errors whose paths, members and messages are all crafted; more of each
    level than GitHub annotates, so plain log lines are printed too."""
    findings = []
    for number, text in enumerate(HOSTILE):
        findings.append(PIN020.finding(f"{text}/{number}.yml", number + 1, 2, f"high {text}"))
        findings.append(PIN001.finding(f"requirements-{text}.txt", number + 1, 1, f"medium {text}"))
        findings.append(MOD001.finding(f"m{number}{text}.bin", None, None, f"critical {text}", member=text, offset=number))
    errors = [ScanErrorEntry(f"{text}.toml", f"cannot parse {text}") for text in HOSTILE]
    return result_of(findings, errors), len(errors)


def test_crafted_paths_and_messages_give_exactly_the_intended_annotations():
    result, error_count = hostile_result()
    output = github.render(result, ALL_RULES)
    lines = runner_lines(output)
    commands = runner_commands(output)
    shown, hidden = github.split_annotated(result)

    # One printed line per annotation, error entry and hidden finding, plus the count line.
    assert len(lines) == error_count + len(shown) + len(hidden) + 1
    expected = [("error", "mlgate: file not scanned")] * github.ANNOTATIONS_PER_LEVEL
    expected += [(github.LEVELS[f.severity], f"mlgate {f.rule.code} {f.rule.name} [{f.severity}]") for f in shown]
    assert [(command.name, command.properties["title"]) for _, command in commands] == expected
    assert all(not command.legacy for _, command in commands)
    # Errors past the cap (after the first 10), findings past the cap and the count line are
    # plain text to the runner.
    cap = github.ANNOTATIONS_PER_LEVEL
    assert [number for number, _ in commands] == [*range(cap), *range(error_count, error_count + len(shown))]
    # Locations survive: line and column exactly, and the file as written when it has nothing to neutralise.
    annotated = [command for _, command in commands][github.ANNOTATIONS_PER_LEVEL :]
    for finding, command in zip(shown, annotated, strict=True):
        assert (command.properties.get("line"), command.properties.get("col")) == (
            None if finding.line is None else str(finding.line),
            None if finding.column is None else str(finding.column),
        )
        if plain.visible(finding.path) == finding.path and "##[" not in finding.path:
            assert command.properties["file"] == finding.path
        assert command.data.startswith(finding.message.split("\n")[0].split("\r")[0].split("##[")[0][:6])
    assert "##[" not in output
    assert "\x1b" not in output and "\u202e" not in output and "\u2028" not in output


def test_hidden_characters_are_shown_percent_encoded():
    assert plain.log_line("a\x1b[8mb\u202ec\udcffd\u2028e\tf") == "a%1B[8mb%E2%80%AEc%FFd%E2%80%A8e\tf"
    assert plain.log_line("100% ##[x] ###[y]") == "100%25 #%23[x] ##%23[y]"
    assert plain.log_line("::error::x") == "%3A:error::x"
    assert plain.log_line(" \u3000::warning::x") == " \u3000%3A:warning::x"
    assert plain.log_line("mlgate: a::b") == "mlgate: a::b"  # `::` is harmless past the start


# Pieces an attacker would combine: the two command syntaxes, their separators and escapes,
# the runner's line breaks and white space, and characters that hide text.
_PIECES = st.sampled_from(
    [
        "::",
        ":",
        "##[",
        "#",
        "[",
        "]",
        "%",
        "%0A",
        "%25",
        "%3A",
        ",",
        "=",
        ";",
        " ",
        "\t",
        "\r",
        "\n",
        "\r\n",
        "\u3000",
        "\u00a0",
        "\u2028",
        "\x85",
        "\x1b",
        "\u202e",
        "\udcff",
        "error",
        "add-mask",
        "stop-commands",
        "a",
    ]
)
_CRAFTED = st.lists(_PIECES, max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(path=_CRAFTED, message=_CRAFTED, member=_CRAFTED)
def test_no_crafted_text_makes_another_command(path, message, member):
    findings = [PIN001.finding(path or "p", 3, 4, message), MOD001.finding(path or "p", None, None, message, member=member, offset=5)]
    findings += [PIN001.finding(f"{path}{n}", n + 1, 1, message) for n in range(11)]  # past the cap: plain lines
    result = result_of(findings, [ScanErrorEntry(path, message)] * 9)
    output = github.render(result, ALL_RULES)
    commands = runner_commands(output)
    assert [(command.name, command.properties.get("title")) for _, command in commands] == (
        [("error", "mlgate: file not scanned")] * 9
        + [("error", "mlgate MOD001 pickle-dangerous-call [critical]")]
        + [("warning", "mlgate PIN001 unpinned-requirement [medium]")] * 10
    )
    assert len(runner_lines(output)) == 9 + 1 + 10 + 2 + 1  # and the 2 findings past the cap, the count: plain
    assert runner_command(plain.log_line(path + message)) is None
    properties = commands[10][1].properties
    assert (properties["line"], properties["col"]) == ("3", "4")


@pytest.mark.parametrize("format_name", ["text", "json", "sarif"])
def test_the_other_reports_in_a_ci_log_make_no_command(format_name):
    # pre-commit (and any CI step running `mlgate check`) prints the report into the job log.
    result, _ = hostile_result()
    output = render(format_name, result, ALL_RULES)
    assert runner_commands(output) == []
    output.encode("utf-8")  # writable: the undecodable bytes of a file name are escaped, not kept as surrogates
    if format_name == "text":
        # one line each, whatever the names hold: an entry per rule and target (its first line, its
        # further occurrences, its fix), a blank line, a count per rule, the errors, the summary
        entries = grouped(result.findings)
        rules = {finding.rule.code for finding in result.findings}
        expected = sum(3 if len(entry) > 1 else 2 for entry in entries) + 1 + len(rules) + len(result.errors) + 1
        assert len(runner_lines(output)) == expected
    else:
        document = json.loads(output)  # and the JSON still says exactly what was found
        paths = (
            [f["path"] for f in document["findings"]]
            if format_name == "json"
            else [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in document["runs"][0]["results"]]
        )
        if format_name == "json":
            assert paths == [f.path for f in result.findings]


def test_what_the_action_prints_about_its_inputs_is_plain_text(tmp_path, monkeypatch, capsys):
    from mlgate import github_action

    monkeypatch.chdir(tmp_path)
    for name in ("SELECT", "IGNORE", "CHANGED_FILES_ONLY", "FAIL_ON", "CONFIG", "SARIF", "BASELINE"):
        monkeypatch.setenv(f"MLGATE_{name}", "")
    monkeypatch.setenv("MLGATE_PATHS", "missing ##[add-mask]x\n\u3000::error::y")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "push")
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert github_action.main() == 2  # a path that does not exist stops the scan: a usage error
    output = capsys.readouterr().out
    commands = runner_commands(output)
    assert [(command.name, command.properties, command.data) for _, command in commands] == [
        ("error", {}, "mlgate: missing #%23[add-mask]x: no such file or directory"),
    ]
    assert runner_lines(output)[0] == "mlgate: scanning missing #%23[add-mask]x ::error::y"


def test_a_crafted_file_in_a_scanned_tree_makes_only_its_own_annotation(tmp_path, monkeypatch, capsys):
    from mlgate import github_action

    name = "requirements-##[add-mask]x::error::y\r::warning::z.txt"
    (tmp_path / name).write_text("numpy\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for key in ("SELECT", "IGNORE", "CHANGED_FILES_ONLY", "FAIL_ON", "CONFIG", "SARIF", "BASELINE", "PATHS"):
        monkeypatch.setenv(f"MLGATE_{key}", "pins" if key == "SELECT" else "")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "push")
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert github_action.main() == 1
    output = capsys.readouterr().out
    assert [(command.name, command.properties) for _, command in runner_commands(output)] == [
        (
            "warning",
            {
                "file": "requirements-#%23[add-mask]x::error::y\r::warning::z.txt",
                "line": "1",
                "col": "1",
                "title": "mlgate PIN001 unpinned-requirement [medium]",
            },
        ),
    ]
    assert runner_lines(output)[0] == "mlgate: scanning ."


# ---- the Markdown summary: GFM table cells and code spans ---------------------------------


def gfm_cells(row: str) -> list[str]:
    """The cells of a table row as cmark-gfm's table extension splits them, pipes then unescaped.

    Its scanner (ext_scanners.re) matches a cell as the longest run of
    `(escaped_char | [^|\r\n])+`, where escaped_char is a backslash and ASCII punctuation: since
    a backslash alone is a character too, a cell ends exactly at a pipe without a backslash
    before it. unescape_pipes then turns each backslash-pipe into a pipe."""
    assert row.startswith("|") and row.endswith("|") and not row.endswith("\\|")
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", row[1:-1])]


def cell_text(cell: str) -> str | None:
    """The text of a cell that is empty or exactly one CommonMark code span, else None."""
    if not cell:
        return ""
    opening = re.match(r"`+", cell)
    if opening is None:
        return None
    fence = len(opening.group())
    closing = next((run for run in re.finditer(r"`+", cell[fence:]) if len(run.group()) == fence), None)
    if closing is None or fence + closing.end() != len(cell):
        return None  # no closing run of the same length, or text after it
    inner = cell[fence : fence + closing.start()]
    if inner.startswith(" ") and inner.endswith(" ") and inner.strip(" "):
        inner = inner[1:-1]
    return inner


@pytest.mark.parametrize(
    "text",
    [
        "a|b",
        "a\\|b",
        "a\\\\|b|",
        "`x`",
        "``",
        "` leading",
        "trailing `",
        "x ``` y ` z",
        "<img src=x onerror=alert(1)>",
        "http://evil.example/x www.evil.example a@b.example",
        "@octocat #12 owner/repo#3 deadbeefcafe",
        "*b* _i_ ~~s~~ [l](u) ![i](u)",
        "&amp; &#64; \\* \\",
        "  spaced  ",
        "",
    ],
)
def test_a_summary_cell_is_one_code_span_holding_the_text(text):
    finding = PIN001.finding(text or "p", 1, 1, text)
    rendered = markdown.render(result_of([finding], [ScanErrorEntry(text, text)]), ALL_RULES)
    row = next(line for line in rendered.splitlines() if line.startswith("| medium |"))
    cells = gfm_cells(row)
    assert len(cells) == 4
    assert cell_text(cells[2]) == " ".join(f"{text or 'p'}:1:1".split())
    assert cell_text(cells[3]) == " ".join(text.split())
    lines = rendered.splitlines()
    error_row = lines[lines.index("| path | error |") + 2]
    assert [cell_text(cell) for cell in gfm_cells(error_row)] == [" ".join(text.split())] * 2
