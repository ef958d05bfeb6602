"""A fake hook for core tests: DEMO001 on every line containing BAD in *.txt files."""

from mlgate.files import SourceFile
from mlgate.findings import Rule, Severity
from mlgate.hook import Hook, Option, ScanContext, Scanner

BAD = Rule("DEMO001", "bad-line", "demo", Severity.HIGH, "a line says BAD", "remove BAD", owasp_ml="ML06", cwe=(829,))
MEH = Rule("DEMO002", "meh-line", "demo", Severity.LOW, "a line says MEH", "remove MEH", owasp_ml="ML06", cwe=(829,))


def scan(source: SourceFile, context: ScanContext):
    for number, line in enumerate(source.lines, start=1):
        for word, rule in (("BAD", BAD), ("MEH", MEH)):
            column = line.find(word)
            if column != -1 and word not in context.options["allow"]:
                yield rule.finding(source.path, number, column + 1, f"line says {word}")


HOOK = Hook(
    name="demo",
    description="test hook",
    rules=(BAD, MEH),
    scanners=(Scanner("txt", matches=lambda path: path.endswith(".txt"), scan=scan),),
    options=(Option("allow", [], "words not reported"), Option("mode", "a", "a choice", choices=("a", "b"))),
)
