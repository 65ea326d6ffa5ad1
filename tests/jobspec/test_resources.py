"""`args.resources`: Nosana's S3, HF and Ollama shapes parsed, every hostile value refused by path."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from crowdcompute.client.jobspec import ValidationError, parse
from crowdcompute.client.jobspec.loader import loads
from crowdcompute.client.jobspec.resources import (
    MAX_FILES,
    MAX_RESOURCES,
    OLLAMA_TARGET,
    HFResource,
    OllamaResource,
    S3Resource,
)


def job(*resources):
    return {"version": "0.1", "type": "container",
            "ops": [{"type": "container/run", "id": "a", "args": {"image": "alpine", "resources": list(resources)}}]}


def problems(*resources) -> list[str]:
    with pytest.raises(ValidationError) as info:
        parse(job(*resources))
    return [str(p) for p in info.value.problems]


def test_the_three_kinds_parse_with_nosanas_defaults():
    (op,) = parse(job(
        {"type": "S3", "url": "s3://models/tiny/", "files": ["a.bin", "sub/b.bin"], "target": "/data/"},
        {"type": "HF", "repo": "TinyLlama/TinyLlama-1.1B-Chat-v1.0", "target": "/hf"},
        {"type": "Ollama", "model": "tinyllama"},
    )).ops
    assert op.args.resources == (
        S3Resource("/data", url="s3://models/tiny", files=("a.bin", "sub/b.bin")),
        HFResource("/hf", repo="TinyLlama/TinyLlama-1.1B-Chat-v1.0", revision="main", files=None),
        OllamaResource(OLLAMA_TARGET, model="tinyllama"),
    )


@pytest.mark.parametrize("resource, message", [
    ({"type": "S3", "url": "ftp://host/x", "target": "/d"}, "resources[0].url: expected an http, https or s3 URL, got scheme 'ftp'"),
    ({"type": "S3", "url": "file:///etc", "target": "/d"}, "resources[0].url: expected an http, https or s3 URL"),
    ({"type": "S3", "url": "https://u:p@host/x", "target": "/d"}, "resources[0].url: expected scheme://host/prefix with no user"),
    ({"type": "S3", "url": "https://host/a/../b", "target": "/d"}, "resources[0].url: '..' is not allowed"),
    ({"type": "S3", "url": "s3://b/x"}, "resources[0].target: required"),
    ({"type": "S3", "url": "s3://b/x", "target": "/"}, "resources[0].target: a resource cannot be mounted over the container's root"),
    ({"type": "S3", "url": "s3://b/x", "target": "//"}, "resources[0].target: a resource cannot be mounted over the container's root"),
    ({"type": "S3", "url": "s3://b/x", "target": "data"}, "resources[0].target: expected an absolute path"),
    ({"type": "S3", "url": "s3://b/x", "target": "/data/../etc"}, "resources[0].target: '..' is not allowed"),
    ({"type": "S3", "url": "s3://b/x", "target": "/d", "files": ["../x"]}, "resources[0].files[0]: expected a relative path"),
    ({"type": "S3", "url": "s3://b/x", "target": "/d", "files": ["/etc/passwd"]}, "resources[0].files[0]: expected a relative path"),
    ({"type": "S3", "url": "s3://b/x", "target": "/d", "files": []}, "resources[0].files: expected at least one file"),
    ({"type": "S3", "url": "s3://b/x", "target": "/d", "files": ["a"] * 2}, "resources[0].files: lists a file twice"),
    ({"type": "S3", "url": "s3://b/x", "target": "/d", "files": [f"f{i}" for i in range(MAX_FILES + 1)]},
     f"resources[0].files: expected at most {MAX_FILES} files"),
    ({"type": "S3", "url": "s3://b/x", "target": "/d", "IAM": {"REGION": ""}}, "resources[0].IAM: not supported: credentials would be public"),
    ({"type": "S3", "url": "s3://b/x", "target": "/d", "allowWrite": "yes"}, "resources[0].allowWrite: expected a boolean"),
    ({"type": "S3", "buckets": [{"url": "s3://b"}], "target": "/d"}, "resources[0].buckets: not supported"),
    ({"type": "S3", "url": "s3://b/" + "x" * 600, "target": "/d"}, "resources[0].url: expected at most 512 characters"),
    ({"type": "HF", "repo": "a/b/c", "target": "/d"}, "resources[0].repo: expected a Hugging Face repo id"),
    ({"type": "HF", "repo": "a/b", "revision": "../main", "target": "/d"}, "resources[0].revision: expected a branch, tag or commit"),
    ({"type": "HF", "repo": "a/b", "target": "/d", "accessToken": "hf_x"}, "resources[0].accessToken: not supported: a token would be public"),
    ({"type": "HF", "repo": "a/b", "target": "/d", "files": "x"}, "resources[0].files: expected an array of file names"),
    ({"type": "Ollama", "model": "Llama3; rm -rf"}, "resources[0].model: expected an Ollama model"),
    ({"type": "Ollama", "model": "%%ops.x.results.y%%"}, "resources[0].model: %%ops.x.results.y%%: no op has id 'x'"),
    ({"type": "Ollama", "model": "m", "target": "/x\n"}, "resources[0].target: control characters are not allowed"),
    ({"type": "GCS", "url": "gs://x"}, 'resources[0].type: expected "S3", "HF" or "Ollama"'),
    ({"type": "HF", "repo": "a/b", "target": "/d", "model": "x"}, "resources[0].model: unknown field for a HF resource"),
    ("s3://b", "resources[0]: expected an object"),
])
def test_hostile_or_wrong_fields_are_refused_by_path(resource, message):
    found = problems(resource)
    assert any(line.startswith(f"ops[0].args.{message}") for line in found), found


def test_count_and_shared_targets_are_bounded():
    many = [{"type": "Ollama", "model": f"m{i}", "target": f"/m{i}"} for i in range(MAX_RESOURCES + 1)]
    assert problems(*many) == [f"ops[0].args.resources: expected at most {MAX_RESOURCES} resources, got {MAX_RESOURCES + 1}"]
    same = problems({"type": "Ollama", "model": "a"}, {"type": "Ollama", "model": "b"})
    assert same == [f"ops[0].args.resources[1].target: '{OLLAMA_TARGET}' is already the target of ops[0].args.resources[0]"]
    with pytest.raises(ValidationError, match="expected an array of resources"):
        parse(job()["ops"][0] and {**job(), "ops": [{"type": "container/run", "id": "a", "args": {"image": "x", "resources": {}}}]})


NOSANA_CLI = Path("/work/.mirror/nosana-ci+nosana-cli/repo")
EXAMPLES = ["huggingface-files.json", "huggingface.json", "ollama.json", "s3-base.json", "s3-bucket.json",
            "s3-files.json", "test-larger-file.json", "test-small-resource.json", "wan-comfyui.json"]


@pytest.mark.skipif(not NOSANA_CLI.is_dir(), reason="no snapshot of nosana-ci/nosana-cli on this machine")
@pytest.mark.parametrize("name", EXAMPLES)
def test_nosanas_resource_examples(name):
    """Nosana's own files (read from a local snapshot, never copied): every resource parses,
    except s3-bucket.json's credentials (`IAM`) and its separate `bucket`, which are refused."""
    path = f"job-examples/resource-test-files/{name}"
    show = subprocess.run(["git", "-C", str(NOSANA_CLI), "show", f"HEAD:{path}"], capture_output=True)
    if show.returncode:
        pytest.skip(f"{path} is not in this snapshot")
    try:
        parse(loads(show.stdout, name=path, fmt="json"))
        found: list[str] = []
    except ValidationError as exc:
        found = [p.path for p in exc.problems if ".resources" in p.path]
    expected = ["ops[0].args.resources[0].bucket", "ops[0].args.resources[0].IAM"] if name == "s3-bucket.json" else []
    assert sorted(found) == sorted(expected)


def test_the_bundles_resources_field_is_optional_and_checked():
    import json

    from crowdcompute.client.bundle import Bundle, BundleError, OpRecord, ResourceRecord

    plain = Bundle("job", "node", "bafydef", "succeeded", "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:01.000Z",
                   (OpRecord("a", 0),))
    assert "resources" not in json.loads(plain.to_bytes())  # a bundle without resources reads and hashes as before
    records = (ResourceRecord("HF", "hf://org/tiny@main", "0" * 40, 10254, False, 99),
               ResourceRecord("Ollama", "ollama://tiny", "sha256:" + "a" * 64, 892, True, None))
    with_resources = Bundle(*[getattr(plain, f) for f in ("job", "node", "definition", "status", "started_at", "ended_at", "ops")],
                            records)
    assert Bundle.from_bytes(with_resources.to_bytes()) == with_resources
    assert "resource HF hf://org/tiny@main: 10254 bytes" in with_resources.render() and "cached" in with_resources.render()
    obj = json.loads(with_resources.to_bytes())
    obj["resources"][0]["size"] = -1
    obj["resources"][1]["extra"] = 1
    bad = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    with pytest.raises(BundleError) as info:
        Bundle.from_bytes(bad)
    assert [str(p) for p in info.value.problems] == ["resources[0].size: expected an integer >= 0, got -1",
                                                      "resources[1].extra: unknown field"]


# ---- resources written with literals: checked as far as they can be when read, then filled
# in by the rules of written ones when their op starts (literals.resolve_args) -------------

def literal_job(*resources, results=("r", "t")):
    return {"version": "0.1", "type": "container", "ops": [
        {"type": "container/run", "id": "set", "args": {"image": "alpine", "cmd": "true"},
         "results": {k: f"(?<={k}: ).*" for k in results}, "execution": {"group": "pre"}},
        {"type": "container/run", "id": "use", "args": {"image": "alpine", "resources": list(resources)},
         "execution": {"group": "main"}}]}


def literal_problems(*resources) -> list[str]:
    with pytest.raises(ValidationError) as info:
        parse(literal_job(*resources))
    return [str(p) for p in info.value.problems]


def filled(resources, **results):
    from crowdcompute.client.jobspec import RunContext, resolve_args

    d = parse(literal_job(*resources))
    context = RunContext("job", "node", "poster", {"set": {k: [v] if isinstance(v, str) else v for k, v in results.items()}})
    return resolve_args(d, d.op("use"), context).resources


SPREAD = {"__spread__": "%%ops.set.results.r%%"}
WRITTEN = {"type": "S3", "url": "s3://b/x", "target": "/written"}


def test_literal_items_are_kept_for_the_ops_start_and_filled_by_the_same_rules():
    import json

    from crowdcompute.client.jobspec.resources import ResourceLiteral

    d = parse(literal_job(SPREAD, WRITTEN, {"type": "HF", "repo": "%%ops.set.results.t%%", "files": ["%%ops.set.results.r%%"],
                                            "target": "/m"}))
    args = d.op("use").args
    assert args.resources == (S3Resource("/written", url="s3://b/x"),)
    assert args.resource_literals[0] == ResourceLiteral(0, spread="%%ops.set.results.r%%")
    assert args.resource_literals[1].at == 2 and json.loads(args.resource_literals[1].item)["repo"] == "%%ops.set.results.t%%"
    got = filled([SPREAD, WRITTEN, {"type": "HF", "repo": "%%ops.set.results.t%%", "target": "/m", "allowWrite": True}],
                 r=json.dumps([{"type": "Ollama", "model": "tinyllama"}, {"type": "S3", "url": "https://h/p", "target": "/p"}]),
                 t="org/tiny")
    assert got == (S3Resource("/written", url="s3://b/x"), OllamaResource(OLLAMA_TARGET, model="tinyllama"),
                   S3Resource("/p", url="https://h/p"), HFResource("/m", repo="org/tiny", allow_write=True))
    names = filled([{"type": "HF", "repo": "o/n", "files": ["%%ops.set.results.r%%", "c.json"], "target": "/m"}],
                   r=["a.bin", "b/c.bin"])
    assert names == (HFResource("/m", repo="o/n", files=("a.bin", "b/c.bin", "c.json")),)


@pytest.mark.parametrize("resources, value, message", [
    ([SPREAD], '{"type": "S3", "url": "s3://b/x", "target": "/a/../etc"}', "'..' is not allowed"),
    ([SPREAD], '{"type": "S3", "url": "gopher://b/x", "target": "/d"}', "expected an http, https or s3 URL"),
    ([SPREAD], '{"type": "S3", "url": "s3://b/x", "target": "/d", "IAM": {}}', "IAM: not supported: credentials"),
    ([SPREAD], '{"type": "HF", "repo": "o/n", "target": "/d", "accessToken": "x"}', "accessToken: not supported"),
    ([SPREAD], '{"type": "S3", "url": "s3://b/x", "target": "/written"}', "'/written' is already the target"),
    ([SPREAD], '[' + ",".join(['{"type": "Ollama", "model": "m"}'] * 2) + ']', "is already the target"),
    ([SPREAD], "[" + ",".join('{"type": "S3", "url": "s3://b/x", "target": "/d%d"}' % i for i in range(MAX_RESOURCES)) + "]",
     f"more than {MAX_RESOURCES} resources"),
    ([SPREAD], '"s3://b/x"', "resources[0] %%ops.set.results.r%%[0]: expected an object"),
    ([SPREAD], "nope", "is not JSON"),
    ([{"type": "S3", "url": "%%ops.set.results.r%%", "target": "/d"}], "s3://b/x/%%ops.set.results.t%%",
     "a value filled in when the op starts cannot hold another literal"),
    ([{"type": "S3", "url": "s3://b/x", "target": "%%ops.set.results.r%%"}], "/", "cannot be mounted over the container's root"),
    ([{"type": "S3", "url": "s3://b/x", "files": ["%%ops.set.results.r%%"], "target": "/d"}], "../../etc/shadow",
     "expected a relative path"),
])
def test_a_hostile_value_fails_the_op_with_the_reason(resources, value, message):
    from crowdcompute.client.jobspec import LiteralError

    with pytest.raises(LiteralError, match=re.escape(message)):
        filled([*resources, WRITTEN], r=value, t="x")


@pytest.mark.parametrize("resource, message", [
    ({"__spread__": "%%ops.set.results.r%%", "type": "S3"}, "resources[0]: a __spread__ marker has no other keys"),
    ({"__spread__": "x %%ops.set.results.r%%"}, "resources[0].__spread__: expected exactly one literal"),
    ({"__pairs__": "%%ops.set.results.r%%"}, 'resources[0].__pairs__: resources take {"__spread__": literal}'),
    ({"__spread__": "%%ops.set.results.nope%%"}, "resources[0].__spread__: %%ops.set.results.nope%%: op 'set' declares no result"),
    ({"type": "%%ops.set.results.r%%", "url": "s3://b/x", "target": "/d"}, "resources[0].type: a literal may stand only in"),
    ({"type": "S3", "url": "ftp://b/x", "target": "%%ops.set.results.r%%"}, "resources[0].url: expected an http, https or s3 URL"),
    ({"type": "S3", "url": "%%ops.set.results.r%%", "target": "/d", "IAM": {}}, "resources[0].IAM: not supported"),
    ({"type": "S3", "url": "%%ops.set.results.r%%", "target": "/written"}, "'/written' is already the target"),
    ({"type": "HF", "repo": "%%ops.use.results.r%%", "target": "/d"}, "an op cannot use its own results"),
])
def test_the_written_part_of_a_literal_item_is_checked_when_read(resource, message):
    found = literal_problems(resource, WRITTEN)
    assert any(message in p for p in found), found


def test_a_list_read_as_it_is_takes_no_literals():
    from crowdcompute.client.jobspec.checks import Checks
    from crowdcompute.client.jobspec.resources import parse_resources

    c = Checks()
    assert parse_resources(c, "prefetch", [SPREAD, {"type": "Ollama", "model": "%%ops.a.results.b%%"}]) == ()
    assert [p.path for p in c.problems.errors] == ["prefetch[0]", "prefetch[1].model"]
