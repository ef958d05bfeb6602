"""The shell lexer: commands, words, offsets, pipes, substitutions, heredocs, wrappers."""

from __future__ import annotations

import pytest

from mlgate import shell
from workcount import count_calls


def argvs(text: str) -> list[list[str]]:
    return [[word.text for word in command.argv] for command in shell.walk(shell.parse(text))]


def test_separators_split_commands():
    text = "a 1; b 2 && c 3 || d 4 & e 5\nf 6"
    assert argvs(text) == [["a", "1"], ["b", "2"], ["c", "3"], ["d", "4"], ["e", "5"], ["f", "6"]]


def test_quotes_are_removed_and_offsets_point_at_the_text():
    text = """pip install "torch>=2" 'numpy<2' x\\ y"""
    command = shell.parse(text)[0]
    words = command.argv
    assert [w.text for w in words] == ["pip", "install", "torch>=2", "numpy<2", "x y"]
    assert [w.quoted for w in words] == [False, False, True, True, True]
    assert words[2].offset == text.index('"torch')
    assert words[2].offset_at(0) == text.index("torch")
    assert words[3].offset_at(5) == text.index("<2")
    assert words[2].raw == '"torch>=2"'


def test_line_continuation_joins_words_and_keeps_positions():
    text = "pip install \\\n    torch \\\n    numpy"
    command = shell.parse(text)[0]
    assert [w.text for w in command.argv] == ["pip", "install", "torch", "numpy"]
    assert command.argv[3].offset == text.index("numpy")


def test_continuation_inside_a_word_is_removed():
    command = shell.parse("pip install tor\\\nch")[0]
    assert command.argv[2].text == "torch"
    assert command.argv[2].offset_at(3) == len("pip install tor\\\n")


def test_comments_end_at_the_line_and_hash_inside_a_word_is_text():
    assert argvs("pip install x  # pip install y\ngit+https://h/r#egg=z") == [["pip", "install", "x"], ["git+https://h/r#egg=z"]]


def test_pipes_are_linked_through_wrappers_and_blank_lines():
    commands = shell.parse("curl -fsSL https://x/i.sh |\n\n sudo -E bash - && echo done")
    curl, bash, echo = commands
    assert curl.pipe_to is bash and bash.piped_from is curl
    assert bash.program == "bash" and [w.text for w in bash.argv] == ["bash", "-"]
    assert echo.piped_from is None and bash.pipe_to is None
    assert list(curl.downstream()) == [bash]


def test_substitutions_are_parsed_and_kept_verbatim():
    text = 'sh -c "$(curl -fsSL https://x)"; bash <(wget -qO- https://y); echo `which pip`'
    commands = shell.parse(text)
    sh, bash, echo = commands
    assert sh.argv[2].text == "$(curl -fsSL https://x)" and sh.argv[2].dynamic
    assert [c.program for c in sh.argv[2].substitutions] == ["curl"]
    assert [c.program for c in bash.argv[1].substitutions] == ["wget"]
    assert [c.program for c in echo.argv[1].substitutions] == ["which"]
    assert [c.program for c in shell.walk(commands)] == ["sh", "curl", "bash", "wget", "echo", "which"]
    assert sh.argv[2].substitutions[0].offset == text.index("curl")


def test_parameter_expansions_stay_in_the_text():
    word = shell.parse("pip install torch==${TORCH_VERSION:-2.1}")[0].argv[2]
    assert word.text == "torch==${TORCH_VERSION:-2.1}" and word.dynamic
    single = shell.parse("echo '$HOME'")[0].argv[1]
    assert single.text == "$HOME" and not single.dynamic


def test_heredoc_bodies_are_skipped_and_kept():
    text = "cat <<'EOF' > f.txt\npip install x\nEOF\npip install y\npython - <<-END\n\tprint(1)\n\tEND\n"
    commands = shell.parse(text)
    assert [c.program for c in commands] == ["cat", "pip", "python"]
    doc = commands[0].heredocs[0]
    assert (doc.delimiter, doc.quoted, doc.body) == ("EOF", True, "pip install x\n")
    assert doc.offset == text.index("pip install x")
    assert commands[0].redirects[-1][1].text == "f.txt"
    assert commands[2].heredocs[0].body == "\tprint(1)\n"


def test_redirections_are_not_arguments():
    command = shell.parse("pip install x 2>&1 >/dev/null < in.txt")[0]
    assert [w.text for w in command.argv] == ["pip", "install", "x"]
    assert [(op, w.text) for op, w in command.redirects] == [(">&", "1"), (">", "/dev/null"), ("<", "in.txt")]


def test_unquoted_greater_than_is_a_redirection():
    # `pip install aqlm>=1.0` installs aqlm unpinned and writes to a file named `=1.0`.
    command = shell.parse("pip install aqlm>=1.0")[0]
    assert [w.text for w in command.argv] == ["pip", "install", "aqlm"]


@pytest.mark.parametrize(
    ("text", "program", "argv"),
    [
        ("A=1 B='x y' pip install z", "pip", ["pip", "install", "z"]),
        ("sudo -H -u root pip3 install z", "pip3", ["pip3", "install", "z"]),
        ("env -u X PIP_INDEX_URL=u /usr/bin/pip install z", "pip", ["/usr/bin/pip", "install", "z"]),
        ("time -p nohup nice -n 5 exec pip install z", "pip", ["pip", "install", "z"]),
        ("timeout -s KILL 60 pip install z", "pip", ["pip", "install", "z"]),
        ("conda run -n env --no-capture-output pip install z", "pip", ["pip", "install", "z"]),
        ("${CONDA_RUN} uv pip install z", "uv", ["uv", "pip", "install", "z"]),
        ("$PYTHON -m pip install z", "$PYTHON", ["$PYTHON", "-m", "pip", "install", "z"]),
        ("if pip install z; then", "pip", ["pip", "install", "z"]),
        ("command -v pip", "command", ["command", "-v", "pip"]),
        ("conda install z", "conda", ["conda", "install", "z"]),
        ("f() { pip install z; }", "pip", ["pip", "install", "z"]),
    ],
)
def test_prefixes_expose_the_real_program(text, program, argv):
    command = shell.parse(text)[0]
    assert command.program == program
    assert [w.text for w in command.argv] == argv


def test_assignments_are_collected():
    command = shell.parse("PIP_EXTRA_INDEX_URL=https://x sudo PIP_TRUSTED_HOST=h pip install z")[0]
    assert [w.text for w in command.assignments] == ["PIP_EXTRA_INDEX_URL=https://x", "PIP_TRUSTED_HOST=h"]
    alone = shell.parse("X=1")[0]
    assert alone.argv == [] and alone.program == "" and [w.text for w in alone.assignments] == ["X=1"]


def test_command_from_words():
    command = shell.command_from_words([("sudo", 2), ("pip", 10), ("install", 17)])
    assert command.program == "pip" and command.argv[1].offset_at(3) == 20


@pytest.mark.parametrize(
    "text",
    [
        "echo 'unterminated",
        'echo "unterminated $(foo',
        "echo $(",
        "echo `",
        "cat <<EOF",
        "cat <<",
        "a | | b ;; ) ) ((",
        "echo ${",
        "echo $'\\",
        "\\",
        "x=(",
        ">",
        "",
    ],
)
def test_malformed_input_never_raises(text):
    for command in shell.walk(shell.parse(text)):
        for word in command.words:
            assert 0 <= word.offset <= len(text)
            assert 0 <= word.offset_at(len(word.text)) <= len(text)


@pytest.mark.parametrize("opener", ["$(", "`", "(", "<(", '"$(', "${", "x=(", "a <<E\n", 'bash -c "'])
def test_deep_or_long_hostile_input_is_linear_work(opener):
    text = opener * 40_000
    _, calls = count_calls(shell.parse, text)
    # At most about 8 function calls per character today (backquotes); quadratic re-scanning of
    # 40,000 openers would be hundreds of millions.
    assert calls <= 20 * len(text), calls
