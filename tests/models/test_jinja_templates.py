"""MOD009: Jinja templates parsed and judged, never rendered (jinja_templates, jinja_values).

Every positive is a `chat_template.jinja` scanned by the real engine; the finding's offset is
the byte of the token that spells the first construct (`marker`, its first occurrence).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scanhits import hits

from mlgate.findings import Severity
from mlgate.models import jinja_templates
from mlgate.models.jinja_values import Budget

REAL_TEMPLATES = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "chat_templates").glob("*.jinja"))

# (template, marker: the text at the expected offset, a label the message names)
EVASIONS = {
    "dunder attribute": [
        ("{{ ().__class__.__base__.__subclasses__() }}", "__class__", "__class__"),
        ("{{ ()['__class__'] }}", "'__class__'", "__class__"),
        ('{{ ()["\\x5f\\x5fclass\\x5f\\x5f"] }}', '"\\x5f', "__class__"),
        ("{{ ()['\\u005f\\u005fclass\\u005f\\u005f'] }}", "'\\u005f", "__class__"),
        ("{{ ()['\\N{LOW LINE}\\N{LOW LINE}class__'] }}", "'\\N", "__class__"),
        ("{{ ()['\\137\\137class__'] }}", "'\\137", "__class__"),
        ("{{ ()\n  .\n  __class__ }}", "__class__", "__class__"),
        ("{% do ().__class__ %}", "__class__", "__class__"),
        ("{% generation %}{{ ().__class__ }}{% endgeneration %}", "__class__", "__class__"),
    ],
    "concatenation": [
        ("{{ ()['__cla' ~ 'ss__'] }}", "'__cla'", "__class__ (computed)"),
        ("{{ ()['__cla' + 'ss__'] }}", "'__cla'", "__class__ (computed)"),
        ("{{ ()['_' '_class__'] }}", "'_' '", "__class__"),
        ("{{ ()[('_' * 2) ~ 'class' ~ ('_' * 2)] }}", "'_' *", "__class__ (computed)"),
        ("{% set a = 'cla' %}{% set b = 'ss' %}{{ ()['__' ~ a ~ b ~ '__'] }}", "'__' ~ a", "__class__ (computed)"),
        ("{{ ()['_'.center(2, '_') ~ 'class__'] }}", "'_'.center", "__class__ (computed)"),
    ],
    "formatting": [
        ("{{ ()['%c%cclass%c%c'|format(95, 95, 95, 95)] }}", "'%c", "__class__ (computed)"),
        ("{{ ()['%s%sclass%s%s'|format('_', '_', '_', '_')] }}", "'%s", "__class__ (computed)"),
        ("{{ ()['%c' % 95 ~ '_class__'] }}", "'%c'", "__class__ (computed)"),
        ("{{ ()['{0}{0}class{0}{0}'.format('_')] }}", "'{0}", "__class__ (computed)"),
        ("{{ ()['__{}__'.format('class')] }}", "'__{}", "__class__ (computed)"),
        ("{% set ns = namespace(c=95) %}{{ ()[('%c' % ns.c) * 2 ~ 'class__'] }}", "'%c' % ns", "computed attribute name"),
    ],
    "filters building names": [
        ("{{ ()[['_', '_', 'class', '_', '_']|join] }}", "'_', '_', 'class'", "__class__ (computed)"),
        ("{{ ()[('_', '_', 'cl', 'ass__')|join('')] }}", "'_', '_', 'cl'", "__class__ (computed)"),
        ("{{ ()['__ssalc__'|reverse] }}", "'__ssalc__'", "__class__ (computed)"),
        ("{{ ()['__CLASS__'|lower] }}", "'__CLASS__'", "__class__ (computed)"),
        ("{{ ()['xxclassxx'|replace('x', '_')] }}", "'xxclassxx'", "__class__ (computed)"),
        ("{{ ()['a_b_c_l_a_s_s_'[1::2] ~ 'class__'] }}", "'a_b", "_______class__ (computed)"),
        ("{{ ()[dict(__class__=1)|first] }}", "dict(", "__class__ (computed)"),
        ("{{ ()['class'.center(9, '_')] }}", "'class'", "__class__ (computed)"),
        ("{{ ()[(lipsum|string)[17] * 2 ~ 'class__'] }}", "lipsum", "computed attribute name"),
        ("{{ ()[(['x']|reverse|string)[5] * 2 ~ 'class__'] }}", "'x']", "computed attribute name"),  # '<list_reverseiterator ...'
    ],
    "variables and flow": [
        ("{% set k = '__class__' %}{{ ()[k] }}", "k] }}", "__class__ (computed)"),
        ("{% set k %}__class__{% endset %}{{ ()[k] }}", "k] }}", "__class__ (computed)"),
        ("{% set k | trim %} __class__ {% endset %}{{ ()[k] }}", "k] }}", "__class__ (computed)"),
        ("{% if x %}{% set k = 'role' %}{% else %}{% set k = '__class__' %}{% endif %}{{ ()[k] }}", "k] }}", "__class__ (computed)"),
        ("{% for k in ['__class__'] %}{{ ()[k] }}{% endfor %}", "k] }}", "__class__ (computed)"),
        ("{% for u in '_' %}{{ ()[u ~ u ~ 'class' ~ u ~ u] }}{% endfor %}", "u ~ u ~ 'class'", "__class__ (computed)"),
        ("{% for a, b in [('__cla', 'ss__')] %}{{ ()[a ~ b] }}{% endfor %}", "a ~ b", "__class__ (computed)"),
        ("{% with k = '__class__' %}{{ ()[k] }}{% endwith %}", "k] }}", "__class__ (computed)"),
        ("{% set d = {'a': '__class__'} %}{{ ()[d.a] }}", "d.a", "__class__ (computed)"),
        ("{% set d = {'a': '__class__'} %}{{ ()[d[x]] }}", "d[x]", "__class__ (computed)"),
        ("{{ ()[{'a': '__class__'}.get('a')] }}", "'a'", "__class__ (computed)"),
        ("{% set ns = namespace(k='__cla') %}{% set ns.k = ns.k ~ 'ss__' %}{{ ()[ns.k] }}", "ns.k] }}", "computed attribute name"),
        (
            "{% set ns = namespace(s='') %}{% for c in ['_', '_', 'c', 'l', 'a', 's', 's', '_', '_'] %}{% set ns.s = ns.s ~ c %}{% endfor %}{{ ()[ns.s] }}",
            "ns.s] }}",
            "computed attribute name",
        ),
        ("{% set parts = [] %}{% set _ = parts.append('__class__') %}{{ ()[parts|first] }}", "parts|first", "computed attribute name"),
        ("{{ ()[cycler('__cla', 'ss__').next() ~ 'ss__'] }}", "cycler(", "__class__ (computed)"),
        ("{% for x in [1] %}{{ ()[loop.cycle('__class__')] }}{% endfor %}", "loop.cycle", "__class__ (computed)"),
        (
            "{% macro f(o, k) %}{{ o[k] }}{% endmacro %}"
            + "".join(f"{{{{ f(m, '{key}') }}}}" for key in ("a", "b", "c", "d", "e", "f", "__class__")),
            "k] }}",
            "__class__ (computed)",
        ),
    ],
    "macros and call blocks": [
        ("{% macro m(o, k) %}{{ o[k] }}{% endmacro %}{{ m((), '__class__') }}", "k] }}", "__class__ (computed)"),
        ("{% macro m(o, k='__class__') %}{{ o[k] }}{% endmacro %}{{ m(()) }}", "k] }}", "__class__ (computed)"),
        ("{% macro m(o, k) %}{{ o[k] }}{% endmacro %}{{ m((), k='__class__') }}", "k] }}", "__class__ (computed)"),
        ("{% macro name() %}__class__{% endmacro %}{{ ()[name()] }}", "name()] }}", "__class__ (computed)"),
        ("{% macro m(o) %}{{ o[caller()] }}{% endmacro %}{% call m(()) %}__class__{% endcall %}", "caller()", "__class__ (computed)"),
        (
            "{% macro m(o) %}{{ caller(o, '__class__') }}{% endmacro %}{% call(o, k) m(()) %}{{ o[k] }}{% endcall %}",
            "k] }}",
            "__class__ (computed)",
        ),
        ("{% macro m() %}{{ ()[varargs[0]] }}{% endmacro %}{{ m('__class__') }}", "varargs", "computed attribute name"),
    ],
    "attribute filters": [
        ("{{ ()|attr('__class__') }}", "attr(", "__class__"),
        ("{{ ()|attr('\\x5f\\x5fclass\\x5f\\x5f') }}", "attr(", "__class__"),
        ("{{ ()|attr('__cla' ~ 'ss__') }}", "attr(", "__class__ (computed)"),
        ("{{ [()]|map(attribute='__class__')|list }}", "map(", "__class__"),
        ("{{ [()]|map(attribute='x.__class__.__base__')|list }}", "map(", "__class__"),
        ("{{ [()]|map('attr', '__class__')|list }}", "map(", "__class__"),
        ("{{ [()]|selectattr('__class__')|list }}", "selectattr", "__class__"),
        ("{{ [()]|rejectattr('__class__')|list }}", "rejectattr", "__class__"),
        ("{{ [()]|sort(attribute='__class__') }}", "sort", "__class__"),
        ("{{ [()]|sort(false, false, '__class__') }}", "sort", "__class__"),
        ("{{ [()]|groupby('__class__') }}", "groupby", "__class__"),
        ("{{ [()]|sum(attribute='__class__') }}", "sum", "__class__"),
        ("{{ [()]|unique(attribute='__class__') }}", "unique", "__class__"),
        ("{{ [()]|max(attribute='__class__') }}", "max", "__class__"),
        ("{{ [()]|join(',', attribute='__class__') }}", "join", "__class__"),
        ("{{ [()]|map('at' ~ 'tr', '__class__')|list }}", "map(", "__class__"),
        (
            "{% set ns = namespace(f='') %}{% for c in 'attr' %}{% set ns.f = ns.f ~ c %}{% endfor %}{{ [()]|map(ns.f, '__class__')|list }}",
            "map(",
            "computed filter name",
        ),
    ],
    "format strings": [
        ("{{ '{0.__class__}'.format(()) }}", "'{0.", "__class__ in a format string"),
        ("{{ '{0:{1.__globals__}}'.format((), cycler) }}", "'{0:", "__globals__ in a format string"),
        ("{{ '{x.__class__}'.format_map(d) }}", "'{x.", "__class__ in a format string"),
        ("{% set f = '{0.__cla' ~ 'ss__}' %}{{ f.format(()) }}", "f.format", "__class__ in a format string"),
    ],
    "jinja globals": [
        ("{{ cycler.__init__.__globals__.os.popen('id').read() }}", "cycler", "attribute of cycler"),
        ("{{ joiner.x }}", "joiner", "attribute of joiner"),
        ("{{ lipsum['__globals__'] }}", "lipsum", "attribute of lipsum"),
        ("{{ namespace.__init__ }}", "namespace", "attribute of namespace"),
        ("{% set n = namespace %}{{ n.x }}", "n.x", "attribute of namespace"),
        ("{{ range|attr('x') }}", "range", "attribute of range"),
    ],
    "interpreter internals": [
        ("{{ x.mro() }}", "mro", "mro"),
        ("{{ x.gi_frame.f_back.f_globals }}", "gi_frame", "gi_frame"),
        ("{{ x.func_globals }}", "func_globals", "func_globals"),
        ("{{ x._module }}", "_module", "_module"),
        ("{{ self._TemplateReference__context }}", "_Template", "_TemplateReference__context"),
        ("{{ x[__builtins__] }}", "__builtins__", "__builtins__"),
        ("{% set ns = namespace() %}{% set ns.__class__ = 1 %}", "ns.__class__", "__class__"),
    ],
    "calls": [
        ("{{ x.popen('id').read() }}", "popen", "popen()"),
        ("{{ x['system']('id') }}", "'system'", "system()"),
        ("{{ (x|attr('popen'))('id') }}", "attr(", "popen()"),
        ("{{ eval('1') }}", "eval", "eval()"),
        ("{{ x.import_module('os') }}", "import_module", "import_module()"),
    ],
    "chat-template only": [
        ("{{ request.application }}", "request", "attribute of request"),
        ("{% for k in config.items() %}{% endfor %}", "config", "attribute of config"),
        ("{{ url_for['x'] }}", "url_for", "attribute of url_for"),
        ("{{ x.os.system }}", "os", "os"),
    ],
}
CASES = [
    pytest.param(template, marker, label, id=f"{kind}-{number}")
    for kind, cases in EVASIONS.items()
    for number, (template, marker, label) in enumerate(cases)
]


@pytest.mark.parametrize(("template", "marker", "label"), CASES)
def test_evasions_are_judged_at_their_token(scan_tree, template, marker, label):
    scan = scan_tree({"chat_template.jinja": template}, select="models")
    assert hits(scan) == [("MOD009", "chat_template.jinja", None, template.encode().index(marker.encode()))]
    [message] = scan.messages("MOD009")
    assert message.startswith("chat_template.jinja uses Jinja constructs that reach Python internals: ")
    assert label in message.split(": ", 1)[1].split(", ")
    assert scan.findings[0].severity is Severity.CRITICAL


@pytest.mark.parametrize(
    "template",
    [
        "{% include 'other.jinja' %}",
        "{% import 'macros.jinja' as m %}{{ m.x() }}",
        "{% extends 'base.jinja' %}",
        "{% from 'm.jinja' import x %}",
    ],
)
def test_other_templates_loaded_by_a_chat_template_are_high(scan_tree, template):
    scan = scan_tree({"chat_template.jinja": template}, select="models")
    keyword = template.split()[1]
    assert hits(scan) == [("MOD009", "chat_template.jinja", None, template.index(keyword))]
    assert scan.findings[0].severity is Severity.HIGH
    assert scan.messages("MOD009") == [
        f"chat_template.jinja loads other templates, which the scan cannot see: {keyword} of another template"
    ]


@pytest.mark.parametrize("path", REAL_TEMPLATES, ids=lambda path: path.name)
def test_real_chat_templates_are_not_flagged(path):
    """Published templates (tests/fixtures/chat_templates, see its README): namespace() loop
    state, tojson, raise_exception, strftime_now, counters, recursive macros, {% generation %}."""
    assert jinja_templates.judge(path.read_text(encoding="utf-8"), chat=True) is None


def test_there_are_enough_real_templates():
    assert len(REAL_TEMPLATES) >= 10


@pytest.mark.parametrize(
    "template",
    [
        "{% set ns = namespace(found=false, index=0) %}{% for m in messages %}{% set ns.index = ns.index + 1 %}{% endfor %}{{ messages[ns.index - 1].content }}",
        "{% for key in tool.parameters.properties %}{{ tool.parameters.properties[key].type }}{% endfor %}",
        "{% set types = {'string': 'str'} %}{{ types[param.type] }}{{ messages[loop.index0 - 1] if loop else '' }}",
        "{{ raise_exception('roles must alternate') }}{{ strftime_now('%d %b %Y') }}{{ tools|tojson(indent=4) }}",
        "{{ message['content'].split('</think>')[-1].lstrip('\\n') }}{{ 'role: {}'.format(message.role) }}",
        "{% set c = cycler('odd', 'even') %}{% for m in messages %}{{ c.next() }}{{ loop.cycle('a', 'b') }}{% endfor %}",
        "{{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|join('\\n') }}",
        "plain text about __class__ and __init__ {# a comment about __globals__ #}",
        "{% raw %}{{ ().__class__ }}{% endraw %}",
        # a macro called with many constant keys (Jamba's is_param_set): the key is one of them
        "{% set ns = namespace(set=false) %}{% macro is_set(param, field=none) %}{% if field is not none %}"
        "{% set param = param[field] %}{% endif %}{% set ns.set = param is defined %}{% endmacro %}"
        + "".join(
            f"{{% set _ = is_set(message, field='{key}') %}}"
            for key in ("type", "function", "title", "name", "tool_calls", "citations", "role")
        ),
        "{% set __seen__ = [] %}{% for m in messages %}{{ __seen__|length }}{% endfor %}",
    ],
)
def test_idioms_of_real_templates_are_not_flagged(template):
    assert jinja_templates.judge(template, chat=True) is None


@pytest.mark.parametrize(
    "template",
    [
        "{{ request.args.get('q') }}{{ url_for('index') }}{{ config.DEBUG }}{% extends 'base.html' %}{% include 'nav.html' %}",
        "{{ hostvars[inventory_hostname]['ansible_' ~ iface]['ipv4']['address'] }}",
        "${{ matrix.os }} ${{ format('{0}', github.event.pull_request.title) }}",
        # BentoML's Dockerfile templates: dunder variables of their own and of the renderer's context
        "{% set __enable_buildkit__ = bento__enable_buildkit | default(False) -%}{% if __enable_buildkit__ %}# syntax = docker/dockerfile:1{% endif %}"
        "{{ __pip_cache__ }} {{ __bento_envs__ | join(' ') }}",
    ],
)
def test_web_and_config_templates_outside_chat_places_keep_their_globals(template):
    """Flask's `request`/`config`, includes and module-like names are what such templates use."""
    assert jinja_templates.judge(template, chat=False) is None


def test_unparseable_chat_template_names_internals_high_and_is_otherwise_quiet(scan_tree):
    payload = "{% for x in y %}{{ ().__class__.__base__ }}"  # no endfor: every server refuses it
    scan = scan_tree(
        {"a/chat_template.jinja": payload, "b/chat_template.jinja": "{% for x in y %}{{ x }}", "c/t.j2": payload}, select="models"
    )
    assert hits(scan) == [("MOD009", "a/chat_template.jinja", None, payload.index("__class__"))]
    assert scan.findings[0].severity is Severity.HIGH
    assert scan.messages("MOD009")[0].startswith("chat_template.jinja does not parse as Jinja (")
    assert scan.messages("MOD009")[0].endswith("), so servers refuse it, but names Python internals: __class__, __base__")


@pytest.mark.parametrize(
    "template",
    [
        "{{ " + "9" * 5000 + " }}",  # Jinja's lexer raises ValueError, not a syntax error
        "{{ " + "(" * 3000 + "x" + ")" * 3000 + " }}",
        "{% if a %}" * 400,
        "{{ '\\N{NO SUCH NAME}' }}",
    ],
)
def test_hostile_templates_end_in_a_verdict_not_a_crash(template):
    assert jinja_templates.judge(template, chat=True) is None


def test_folding_is_bounded_by_its_budget():
    """A template whose folding outgrows its budget is reported (high), at a known cost."""
    template = "{% set v = 'a' ~ 'b' %}" * 1000
    budget = Budget(2_000)
    verdict = jinja_templates.judge(template, chat=True, budget=budget)
    assert verdict == jinja_templates.Verdict(
        "is too complex to judge", (jinja_templates.Construct(0, "over the folding limit", Severity.HIGH),)
    )
    assert budget.left == -1  # stopped at the first unit past the budget


def test_oversized_template_is_not_parsed(monkeypatch):
    calls = []
    monkeypatch.setattr(jinja_templates, "parse", lambda template: calls.append(template))
    template = "{{ x }}" * (jinja_templates.MAX_TEMPLATE // 7 + 1)
    assert jinja_templates.judge(template, chat=False) is None
    assert (
        jinja_templates.judge(template, chat=True).constructs[0].label == f"{len(template)} characters, over {jinja_templates.MAX_TEMPLATE}"
    )
    assert calls == []


@pytest.mark.parametrize(
    ("template", "atom_count"),
    [("{{ x['a' * 20000] }}", 1), ("{{ x[('ab' * 4000)|replace('a', 'aaaaaaaa')] }}", 1), ("{{ x['%99999s'|format(1)] }}", 1)],
)
def test_folded_strings_stay_within_their_caps(template, atom_count):
    """A string the folding would make huge is a computed value, never built."""
    verdict = jinja_templates.judge(template, chat=True, budget=Budget(50))
    assert [construct.label for construct in verdict.constructs] == ["computed attribute name"] * atom_count


def test_formatting_a_folded_iterator_is_a_computed_value():
    """format(iterator, spec) has no constant text (an object's address): opaque, not dropped."""
    from mlgate.models import jinja_values

    iterator = jinja_values.Special("iterator", (jinja_values.atomize("a"),))
    formatted = jinja_values.apply(format, [jinja_values.of(iterator), jinja_values.of(jinja_values.atomize(""))], jinja_values.Budget(100))
    assert formatted == jinja_values.of(jinja_values.OPAQUE)


def test_a_template_repeated_across_files_is_judged_once_and_reported_in_each(scan_tree, monkeypatch):
    """lm-eval task files repeat one `doc_to_text`: its verdict is kept for the run (short texts),
    each file still gets its own finding at its own offset; a long text is judged every time."""
    jinja_templates._judged.cache_clear()
    judged: list[int] = []
    real_judge = jinja_templates.judge
    monkeypatch.setattr(jinja_templates, "judge", lambda template, **kw: judged.append(len(template)) or real_judge(template, **kw))
    template = "{{ ''.__class__.__mro__ }}"
    long = "{{ x.__class__ }}" + "{# pad #}" * (jinja_templates._REMEMBERED_TEMPLATE // 9)
    first, second = f'task: a\ndoc_to_text: "{template}"\n', f'task: b\nother: 1\ndoc_to_text: "{template}"\n'
    files = {"a.yaml": first, "b.yaml": second, "c.yaml": f"t: '{long}'\n", "d.yaml": f"t: '{long}'\n"}
    scan = scan_tree(files, select="models")
    assert hits(scan) == [
        ("MOD009", "a.yaml", None, first.index("__class__")),
        ("MOD009", "b.yaml", None, second.index("__class__")),
        ("MOD009", "c.yaml", None, files["c.yaml"].index("__class__")),
        ("MOD009", "d.yaml", None, files["d.yaml"].index("__class__")),
    ]
    assert judged == [len(template), len(long), len(long)]
