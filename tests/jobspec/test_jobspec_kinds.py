"""The table of op kinds (client/jobspec/kinds.py): what the parser and the checks read."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from crowdcompute.client.jobspec import KINDS, ValidationError, parse
from crowdcompute.client.jobspec.kinds import has, quoted, wants_gpu

README = Path(__file__).resolve().parents[2] / "client" / "jobspec" / "README.md"


def definition(*ops):
    return parse({"version": "0.1", "type": "container", "ops": list(ops)})


def test_an_unknown_kind_in_a_file_is_refused_by_its_name():
    with pytest.raises(ValidationError) as info:
        definition({"id": "a", "type": "container/service", "args": {}})
    assert [str(p) for p in info.value.problems] == [
        "ops[0].type: expected \"container/run\" or \"container/create-volume\", got 'container/service'"
    ]


def test_what_a_kind_lacks_is_refused_by_the_kind_s_name():
    volume = {"id": "v", "type": "container/create-volume", "args": {"name": "d"}}
    with pytest.raises(ValidationError) as info:
        definition({**volume, "results": {"k": "x"}})
    assert [str(p) for p in info.value.problems] == [
        "ops[0].results: a container/create-volume op has no logs to extract results from"
    ]
    with pytest.raises(ValidationError) as info:
        parse({"version": "0.1", "type": "container", "ops": [volume],
               "meta": {"crowdcompute": {"ops": {"v": {"limits": {"cpus": 1}}}}}})
    assert [str(p) for p in info.value.problems] == [
        "meta.crowdcompute.ops.v: only container/run ops have outputs and limits"
    ]


def test_an_unknown_kind_built_in_process_has_nothing():
    """A definition made by hand may hold a kind `parse` would refuse: the checks read it as
    having no capability (the worker's executor then refuses it by name)."""
    parsed = definition({"id": "a", "type": "container/run", "args": {"image": "alpine", "gpu": True}})
    odd = replace(parsed, ops=(replace(parsed.ops[0], type="container/service"),))
    assert wants_gpu(parsed) and not wants_gpu(odd)
    assert not has(odd.ops[0], "gpu") and has(parsed.ops[0], "gpu")
    assert not has(odd.ops[0], "literals") and has(parsed.ops[0], "literals")  # none filled in


def test_every_kind_is_parsed_to_its_args_and_has_a_readme_row():
    text = README.read_text()
    for name, kind in KINDS.items():
        assert kind.name == name
        assert f"| `{name}`" in text or f"`{name}` `args" in text, f"README.md has no row for {name}"
    made = definition(
        {"id": "v", "type": "container/create-volume", "args": {"name": "d"}},
        {"id": "r", "type": "container/run", "args": {"image": "alpine"}, "execution": {"depends_on": ["v"]}},
    )
    assert [type(op.args) for op in made.ops] == [KINDS[op.type].args for op in made.ops]


def test_kind_names_in_messages():
    assert quoted(["a"]) == '"a"'
    assert quoted(["a", "b"]) == '"a" or "b"'
    assert quoted(["a", "b", "c"]) == '"a", "b" or "c"'
