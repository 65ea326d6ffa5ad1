"""Run-time parts the worker calls: the plan, results extraction, literals."""

from __future__ import annotations

import pytest

from crowdcompute.client.jobspec import (
    LiteralError,
    ResultRule,
    RunContext,
    ValidationError,
    extract_results,
    parse,
    plan,
    resolve_args,
    vram_satisfies,
)
from crowdcompute.client.jobspec.results import translate


def op(op_id, group=None, deps=(), **args):
    execution = {}
    if group:
        execution["group"] = group
    if deps:
        execution["depends_on"] = list(deps)
    out = {"type": "container/run", "id": op_id, "args": {"image": "alpine", **args}}
    if execution:
        out["execution"] = execution
    return out


def job(*ops, **top):
    return {"version": "0.1", "type": "container", "ops": list(ops), **top}


# ---- plan ----------------------------------------------------------------------------
def test_groups_run_in_order_of_first_appearance_with_ops_in_parallel():
    d = parse(job(op("a", "x"), op("b", "y"), op("c", "x"), op("d")))
    assert [(s.group, [o.id for o in s.ops]) for s in plan(d)] == [("x", ["a", "c"]), ("y", ["b"]), ("d", ["d"])]


def test_ready_honours_depends_on_within_a_stage():
    d = parse(job(op("a", "g"), op("b", "g", ["a"]), op("c", "g", ["a", "b"]), op("d", "g")))
    (stage,) = plan(d)
    assert [o.id for o in stage.ready(set())] == ["a", "d"]
    assert [o.id for o in stage.ready({"a"})] == ["b", "d"]
    assert [o.id for o in stage.ready({"a", "b", "d"})] == ["c"]
    assert stage.ready({"a", "b", "c", "d"}) == []


def test_a_dependency_cycle_is_named():
    with pytest.raises(ValidationError) as info:
        parse(job(op("a", "g", ["c"]), op("b", "g", ["a"]), op("c", "g", ["b"])))
    assert [str(p) for p in info.value.problems] == ["ops[0].execution.depends_on: dependency cycle: a -> c -> b -> a"]


def test_depending_on_a_later_group_is_refused_an_earlier_one_accepted():
    with pytest.raises(ValidationError) as info:
        parse(job(op("a", "first", ["b"]), op("b", "second")))
    assert str(info.value) == (
        "ops[0].execution.depends_on[0]: 'b' is in a later group ('second'), which starts only after this one has ended"
    )
    assert len(parse(job(op("a", "first"), op("b", "second", ["a"]))).ops) == 2


# ---- results -------------------------------------------------------------------------
def test_results_take_each_lines_first_match_and_its_groups_as_nosana_does():
    rules = [
        ResultRule("gpu", translate(r"Device (?<n>[0-9]): (.*)")),
        ResultRule("err", "Device [0-9].*", ("stderr",)),
        ResultRule("none", "Missing"),
    ]
    stdout = "Device 0: A Device 9: B\nnothing\nDevice 1: C\n"
    stderr = "Device 2: D\n"
    assert extract_results(rules, stdout, stderr) == {
        "gpu": ["Device 0: A Device 9: B", "0", "A Device 9: B", "Device 1: C", "1", "C", "Device 2: D", "2", "D"],
        "err": ["Device 2: D"],
        "none": [],
    }


@pytest.mark.parametrize(
    "js, python",
    [
        (r"(?<year>\d{4})-\k<year>", r"(?P<year>\d{4})-(?P=year)"),
        (r"(?<=cmd: ).*", r"(?<=cmd: ).*"),  # lookbehind is not a named group
        (r"\(?<x>", r"\(?<x>"),  # escaped parenthesis
        ("*", "/*"),  # Nosana rewrites a lone "*"
    ],
)
def test_javascript_regex_translation(js, python):
    assert translate(js) == python


def test_digit_classes_stay_ascii_as_in_javascript():
    assert extract_results([ResultRule("n", r"\d+")], "٣ 42\n", "") == {"n": ["42"]}


def test_catastrophic_backtracking_takes_linear_time():
    """`^(a+)+$` over 51 characters holds Python's `re` for minutes; RE2 answers at once,
    even over a 64 KiB line (the worker's line cap)."""
    import time

    rule = ResultRule("x", "^(a+)+$")
    started = time.process_time()
    assert extract_results([rule], "a" * 50 + "!\n" + "a" * 65_535 + "!\n", "") == {"x": []}
    assert extract_results([rule], "aaa\n", "") == {"x": ["aaa", "aaa"]}
    assert time.process_time() - started < 1.0


@pytest.mark.parametrize("regex, line, values", [
    ("(?<=sum=)[0-9]+", "total sum=42 ok", ["42"]),  # Nosana's idiom: a plain-text lookbehind first
    ("[0-9]+(?=ms)", "took 12ms", ["12"]),  # a plain-text lookahead last
    ("(?<=a.b: )(x)(y)?(?=!)".replace(".", "\\."), "a.b: x!", ["x", "x"]),  # both, groups kept
    ("(?<=x)(a|b)", "xb", ["b", "b"]),
])
def test_plain_text_lookaround_gives_what_javascript_gives(regex, line, values):
    import re

    assert extract_results([ResultRule("k", regex)], line + "\n", "") == {"k": values}
    m = re.search(regex, line, re.ASCII)  # the backtracking engine's answer, for comparison
    assert [m.group(0), *[g for g in m.groups() if g is not None]] == values


@pytest.mark.parametrize("regex", [r"(a)\1", r"(?<=\d)x", "x(?<=y)", "(?!a)b", "(?<=x)a|b"])
def test_backreferences_and_other_lookaround_are_refused_with_the_reason(regex):
    with pytest.raises(ValidationError) as info:
        parse(job({**op("a"), "results": {"k": regex}}))
    assert "invalid regular expression" in str(info.value) and "RE2, in linear time" in str(info.value)


def test_results_per_op_and_regex_length_are_bounded():
    with pytest.raises(ValidationError) as info:
        parse(job({**op("a"), "results": {f"k{i}": "x" for i in range(33)}}))
    assert str(info.value) == "ops[0].results: 33 results: at most 32 per op (each is matched against every line)"
    with pytest.raises(ValidationError) as info:
        parse(job({**op("a"), "results": {"k": "x" * 1001}}))
    assert str(info.value) == "ops[0].results.k: longer than 1000 characters"


# ---- literals --------------------------------------------------------------------------
PIPELINE = job(
    {**op("produce", "one", cmd="echo"), "results": {"words": "w=(.*)"}},
    op("use", "two",
       cmd=["run", "%%ops.produce.results.words%%", "--title=%%ops.produce.results.words%%"],
       env={"HOST": "%%globals.host%%", "JOB": "%%global.job%%", "PEER": "%%ops.produce.host%%",
            "MODEL": "%%global.variables.MODEL%%", "__spread__": "%%ops.produce.results.words%%"},
       image="registry.local/%%global.variables.MODEL%%"),
    **{"global": {"variables": {"MODEL": "tiny"}}},
)


def test_literals_are_filled_in_as_nosana_shapes_them():
    d = parse(PIPELINE)
    ctx = RunContext(job="JobAddr", node="NodeAddr", poster="Poster",
                     results={"produce": {"words": ['{"EXTRA": 1, "B": true}']}})
    args = resolve_args(d, d.op("use"), ctx)
    assert args.image == "registry.local/tiny"
    assert args.cmd == ("run", '{"EXTRA": 1, "B": true}', '--title={"EXTRA": 1, "B": true}')
    assert args.env_dict() == {"HOST": "NodeAddr", "JOB": "JobAddr", "PEER": "produce", "MODEL": "tiny",
                               "EXTRA": "1", "B": "true"}


def test_a_list_result_splices_into_argv_and_joins_in_strings():
    d = parse(job({**op("p", "1"), "results": {"k": "(a)(b)?"}}, op("u", "2", cmd=["x", "%%ops.p.results.k%%", "y=%%ops.p.results.k%%"])))
    ctx = RunContext("j", "n", "p", {"p": {"k": ["a", "a"]}})
    assert resolve_args(d, d.op("u"), ctx).cmd == ("x", "a", "a", "y=a a")
    nothing = RunContext("j", "n", "p", {"p": {"k": []}})
    assert resolve_args(d, d.op("u"), nothing).cmd == ("x", "y=")


def test_literals_stop_at_a_megabyte_of_values_per_op():
    """A result of 1,000 x 100 bytes named 20 times would be 2 MB of argv: refused, never built."""
    d = parse(job({**op("p", "1"), "results": {"k": "(.*)"}}, op("u", "2", cmd=["x", *["%%ops.p.results.k%%"] * 20])))
    big = RunContext("j", "n", "p", {"p": {"k": ["v" * 100] * 1000}})
    with pytest.raises(LiteralError, match="fill in more than 1048576 bytes"):
        resolve_args(d, d.op("u"), big)
    fits = RunContext("j", "n", "p", {"p": {"k": ["v" * 100] * 400}})
    assert len(resolve_args(d, d.op("u"), fits).cmd) == 1 + 20 * 400


def test_results_of_an_op_that_did_not_run_cannot_be_filled_in():
    d = parse(PIPELINE)
    with pytest.raises(LiteralError, match="op 'produce' has no results"):
        resolve_args(d, d.op("use"), RunContext("j", "n", "p", {}))


def test_spread_of_something_not_an_object_is_an_error_at_run_time():
    d = parse(PIPELINE)
    with pytest.raises(LiteralError, match="not a JSON object"):
        resolve_args(d, d.op("use"), RunContext("j", "n", "p", {"produce": {"words": ["[1]"]}}))


@pytest.mark.parametrize(
    "literal, message",
    [
        ("%%globals.frps_address%%", "%%globals.frps_address%%: not supported: there is no tunnel server"),
        ("%%ops.p.deployment_endpoint%%", "%%ops.p.deployment_endpoint%%: not supported: there are no deployments"),
        ("%%ops.p.endpoint.8080%%", "%%ops.p.endpoint.8080%%: op 'p' does not expose port 8080 (exposes: none)"),
        ("%%ops.p.endpoint.0%%", "%%ops.p.endpoint.0%%: expected %%ops.ID.endpoint.PORT%% with one port"),
        ("%%ops.p.endpoint.80-81%%", "%%ops.p.endpoint.80-81%%: expected %%ops.ID.endpoint.PORT%% with one port"),
        ("%%globals.nope%%", "%%globals.nope%%: unknown literal"),
        ("%%ops.p.results.other%%", "%%ops.p.results.other%%: op 'p' declares no result 'other' (has: k)"),
        ("%%ops.u.results.k%%", "%%ops.u.results.k%%: an op cannot use its own results"),
    ],
)
def test_literal_problems(literal, message):
    obj = job({**op("p", "1"), "results": {"k": "k"}}, {**op("u", "2", cmd=["echo", literal]), "results": {"k": "k"}})
    with pytest.raises(ValidationError) as info:
        parse(obj)
    (problem,) = info.value.problems
    assert problem.path == "ops[1].args.cmd[1]" and problem.message.startswith(message)


def test_same_group_results_need_depends_on():
    base = [{**op("p", "g"), "results": {"k": "k"}}]
    with pytest.raises(ValidationError):
        parse(job(*base, op("u", "g", cmd=["%%ops.p.results.k%%"])))
    assert parse(job(*base, op("u", "g", ["p"], cmd=["%%ops.p.results.k%%"])))


def test_vram_counts_gb_as_cards_are_sold():
    card_24gb = 24564 * 2**20  # what a "24 GB" card reports
    assert vram_satisfies(24, card_24gb) and not vram_satisfies(25, card_24gb) and vram_satisfies(None, 0)
