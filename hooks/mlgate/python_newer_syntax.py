"""Python 3.12's type-parameter syntax (PEP 695, and PEP 696's defaults) read on an older interpreter.

A project that requires Python 3.12 writes `type Alias = dict[str, int]`, `def load[T](path) -> T:`
and `class Registry[T]:`. The interpreter that runs it parses them; Python 3.10 and 3.11, which
mlgate also runs on, refuse the whole file, and a file that is not parsed is not read at all (a
loader behind a generic function would go unseen). None of this syntax runs anything the readers
look at (type parameters and alias values are annotations), so `without_type_parameters` rewrites
it into what the older grammar accepts, on the same lines:

- `type Alias[T] = value` becomes `Alias = value` (an assignment, as the alias binds the name);
- the brackets of a generic `def` or `class` become spaces (`def load   (path)`).

Only the syntax is changed, found by the interpreter's own tokenizer (3.10's reads these tokens),
so strings and comments are never touched. Brackets spanning lines keep their line breaks as
backslash continuations, so every other line keeps its number and columns.

Python 3.12 also lets an f-string's expressions hold what older grammars refuse there (PEP 701: a
backslash, `f"{'\\n'.join(lines)}"`, comments, any nesting). When a file still does not parse,
`without_fstring_expressions` reads each f-string as the plain string of the same characters (its
`f` prefix becomes a space): the expressions inside are not read, everything else is, on the same
lines and columns. A same-quote nesting (`f"{d["k"]}"`) that the older tokenizer splits still fails.
"""

from __future__ import annotations

import io
import tokenize

_STATEMENT_START = {tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING}


def without_type_parameters(text: str) -> str | None:
    """`text` with PEP 695 syntax rewritten for an older grammar; None when it has none (or
    cannot be tokenized, or its brackets cannot be blanked on the same lines)."""
    read = _tokens(text)
    if read is None:
        return None
    tokens = [token for token in read[0] if token.type != tokenize.COMMENT]
    line_starts = read[1]
    chars = list(text)
    changed = False
    previous_type = tokenize.NEWLINE
    for index, token in enumerate(tokens[:-2]):
        after, second = tokens[index + 1], tokens[index + 2]
        at_start = previous_type in _STATEMENT_START or tokens[index - 1].string == ";"
        previous_type = token.type
        if token.type != tokenize.NAME or after.type != tokenize.NAME:
            continue
        alias = token.string == "type" and at_start and second.string in ("=", "[")
        if not alias and (token.string not in ("def", "class") or second.string != "["):
            continue
        if alias:
            begin = line_starts[token.start[0]] + token.start[1]
            end = line_starts[after.end[0]] + after.end[1]
            chars[begin:end] = list(after.string.ljust(end - begin))  # the name where `type` was
        if second.string == "[" and not _blank_brackets(chars, tokens, index + 2, line_starts):
            return None
        changed = True
    return "".join(chars) if changed else None


def _blank_brackets(chars: list[str], tokens: list[tokenize.TokenInfo], opening: int, line_starts: list[int]) -> bool:
    depth = 0
    for position in range(opening, len(tokens)):  # by index: a slice per generic function would copy the rest each time
        token = tokens[position]
        depth += token.string in ("[", "(", "{")
        depth -= token.string in ("]", ")", "}")
        if depth == 0:
            break
    else:
        return False
    begin = line_starts[tokens[opening].start[0]] + tokens[opening].start[1]
    end = line_starts[token.end[0]] + token.end[1]
    for position in range(begin, end):
        if chars[position] == "\n":
            # the bracket's implicit continuation becomes an explicit one on the character before
            before = position - 1 - (chars[position - 1] == "\r")
            if before < begin or chars[before] in "\r\n":
                return False  # an empty line inside the brackets: no character to carry it
            chars[before] = "\\"
        elif chars[position] != "\r":
            chars[position] = " "
    return True


def without_fstring_expressions(text: str) -> str | None:
    """`text` with every f-string read as a plain string (`f"..."` -> ` "..."`, `rf"..."` -> ` r"..."`);
    None when it has none or cannot be tokenized."""
    read = _tokens(text)
    if read is None:
        return None
    tokens, line_starts = read
    chars = list(text)
    changed = False
    for token in tokens:
        if token.type != tokenize.STRING:
            continue
        prefix = token.string[: len(token.string) - len(token.string.lstrip("bBrRuUfF"))]
        if "f" not in prefix.lower():
            continue
        begin = line_starts[token.start[0]] + token.start[1]
        kept = prefix.replace("f", "").replace("F", "")
        chars[begin : begin + len(prefix)] = list(kept.rjust(len(prefix)))
        changed = True
    return "".join(chars) if changed else None


def _tokens(text: str) -> tuple[list[tokenize.TokenInfo], list[int]] | None:
    """The interpreter's tokens of `text`, and where each line starts (tokenize's rows are 1-based);
    None when it cannot be tokenized."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    line_starts = [0, 0]
    for line in io.StringIO(text):
        line_starts.append(line_starts[-1] + len(line))
    return tokens, line_starts
