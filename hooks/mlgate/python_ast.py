"""Parse scanned Python into an AST, never letting the parser talk about it.

`ast.parse` warns about what it reads (`invalid escape sequence`, a SyntaxWarning on Python
3.12 and later, a DeprecationWarning before), and the default warning handler prints the
warning with the offending source line to stderr. In the GitHub Action, stderr is the job log,
which the runner reads for workflow commands: scanned code must never reach it. So every parse
of scanned code goes through here, with warnings silenced for its duration.
"""

from __future__ import annotations

import ast
import warnings


def parse(source: str | bytes, filename: str = "<unknown>") -> ast.Module:
    """`ast.parse(source)` without any warning; raises what ast.parse raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source, filename=filename)
