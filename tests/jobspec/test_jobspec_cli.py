"""`crowd job validate`: exit codes, one line per problem, no traceback, YAML too."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from crowdcompute.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "jobs"


def crowd(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = main(list(argv))
    finally:
        sys.stdout, sys.stderr = old
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name, summary", [
    ("hello.json", "valid: 1 op in 1 group\n"),
    ("pipeline.yaml", "valid: 4 ops in 3 groups\n"),
    ("gpu-check.yaml", "valid: 1 op in 1 group\n"),
])
def test_our_examples_are_valid(name, summary):
    assert crowd("job", "validate", str(EXAMPLES / name)) == (0, summary, "")


def test_problems_one_per_line_exit_1(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("version: 0.1\ntype: container\nops:\n  - id: a\n    type: container/run\n    args: {cmd: [1]}\n")
    code, out, err = crowd("job", "validate", str(f))
    assert code == 1 and err == ""
    assert out.splitlines() == [
        'version: expected "0.1", got 0.1 (quote it in YAML)',
        "ops[0].args.image: required (or set global.image)",
        "ops[0].args.cmd[0]: expected a string, got a number",
    ]


def test_json_output(tmp_path):
    code, out, _ = crowd("job", "validate", str(EXAMPLES / "pipeline.yaml"), "--output", "json")
    assert code == 0
    assert json.loads(out) == {"valid": True, "ops": 4, "groups": [["scratch"], ["count", "sum"], ["report"]], "notes": []}
    f = tmp_path / "bad.json"
    f.write_text('{"version": "0.1", "type": "container", "ops": [{"id": "a", "type": "container/run", "args": {"image": "x", "resources": [{"type": "S3", "url": "s3://b/x", "target": "/d", "IAM": {}}]}}]}')
    code, out, _ = crowd("job", "validate", str(f), "--output", "json")
    assert code == 1
    (problem,) = json.loads(out)["problems"]
    assert problem["path"] == "ops[0].args.resources[0].IAM" and problem["message"].startswith("not supported:")


@pytest.mark.parametrize("content, fragment", [
    (None, "cannot read"),
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe\x00", "not UTF-8"),
    (b'{"version": "0.1", "version": "0.2"}', "key 'version' given twice"),
])
def test_unreadable_files_exit_2_with_one_line(tmp_path, content, fragment):
    f = tmp_path / "job.json"
    if content is not None:
        f.write_bytes(content)
    code, out, err = crowd("job", "validate", str(f))
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and fragment in err


def test_yaml_duplicate_keys_and_syntax_errors(tmp_path):
    dup = tmp_path / "dup.yml"
    dup.write_text("version: '0.1'\nversion: '0.1'\n")
    assert crowd("job", "validate", str(dup))[0] == 2
    broken = tmp_path / "broken.yaml"
    broken.write_text("ops: [\n")
    code, _, err = crowd("job", "validate", str(broken))
    assert code == 2 and err.startswith("error: ") and len(err.splitlines()) == 1


def test_a_file_without_extension_is_read_as_json_or_yaml(tmp_path):
    f = tmp_path / "job"
    f.write_text((EXAMPLES / "pipeline.yaml").read_text())
    assert crowd("job", "validate", str(f))[0] == 0


def test_the_installed_entry_point_never_prints_a_traceback(tmp_path):
    f = tmp_path / "odd.yaml"
    f.write_text("version: '0.1'\ntype: container\nops:\n  - id: a\n    type: container/run\n    args:\n      image: alpine\n      env: {WHEN: 2024-01-01}\n")
    run = subprocess.run([sys.executable, "-c", "import sys; from crowdcompute.cli import main; sys.exit(main())",
                          "job", "validate", str(f)], capture_output=True, text=True)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stdout == "ops[0].args.env.WHEN: expected a string, got a date (quote it in YAML)\n"


def test_importing_the_client_loads_neither_docker_nor_yaml():
    code = ("import sys, crowdcompute.client, crowdcompute.client.jobspec as j; j.parse; "
            "import crowdcompute.client.bundle; "
            "print(sorted(m for m in ('docker', 'pynvml', 'yaml') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def _deep_json(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("text", [
    _deep_json(50_000),  # JSON's decoder would raise RecursionError
    '{"version": "0.1", "x": ' + '{"a": ' * 70 + "1" + "}" * 70 + "}",  # decodable, still too deep
    "a:\n" + "".join(" " * i + "b:\n" for i in range(1, 1200)),  # YAML nested by indentation
])
def test_a_definition_nested_too_deeply_is_one_line_exit_2(tmp_path, text):
    f = tmp_path / "deep.yaml"
    f.write_text(text)
    code, out, err = crowd("job", "validate", str(f))
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"error: {f}: nested deeper than 64 levels"]


def test_yaml_aliases_that_expand_to_millions_of_values_are_refused(tmp_path):
    rows = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    rows += [f"{n}: &{n} [{', '.join(['*' + p] * 10)}]" for p, n in zip("abcdef", "bcdefg")]
    f = tmp_path / "laughs.yaml"
    f.write_text("\n".join(rows) + "\n")
    code, out, err = crowd("job", "validate", str(f))
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1 and "more than 100000 values" in err


def test_post_refuses_a_deep_definition_before_sending_anything(tmp_path):
    """Port 9 answers nothing: had post sent anything, the error would be the cluster's."""
    from solders.keypair import Keypair

    key = tmp_path / "id.json"
    key.write_text(json.dumps(list(bytes(Keypair()))))
    f = tmp_path / "deep.json"
    f.write_text(_deep_json(50_000))
    code, out, err = crowd("job", "post", str(f), "--market", "11111111111111111111111111111111",
                           "-u", "http://127.0.0.1:9", "-k", str(key))
    assert code != 0 and "Traceback" not in err
    assert err.splitlines() == [f"error: {f}: nested deeper than 64 levels"]
