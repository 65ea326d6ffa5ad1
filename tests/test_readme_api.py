"""What the READMEs name exists as written: the names their imports and client/README.md's
error paragraph list, the signatures its API tables give, the `crowd` commands they show.
Their python blocks run against a localnet in tests/sdk/test_readme_blocks.py."""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import re
import subprocess
import sys

import pytest

from tests.readmes import REPO, crowd_commands, python_blocks, readmes, table_rows

IMPORT = re.compile(r"^\s*from\s+(crowdcompute[\w.]*)\s+import\s+([\w, ]+)", re.M)


def test_every_python_block_compiles():
    assert python_blocks(), "no python blocks found"
    for block in python_blocks():
        try:
            compile(block.code, block.name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        except SyntaxError as bad:
            pytest.fail(f"{block.name} (line {block.line}): {bad}")


def test_every_imported_name_resolves():
    """Every `from crowdcompute... import ...` of a README, in a block or in the prose."""
    missing, checked = [], 0
    for path in readmes():
        for module, names in IMPORT.findall(path.read_text()):
            for name in filter(None, (n.strip() for n in names.split(","))):
                checked += 1
                try:
                    getattr(importlib.import_module(module), name)
                except (ImportError, AttributeError) as exc:
                    missing.append(f"{path.relative_to(REPO)}: from {module} import {name} ({exc})")
    assert checked and not missing, missing


def test_the_errors_the_client_readme_lists_import_from_the_client():
    import crowdcompute.client as client

    text = (REPO / "client" / "README.md").read_text()
    paragraph = text[text.index("Errors (`errors.py`)"):].split("\n\n")[0]
    names = {name for name in re.findall(r"`([A-Z]\w+)", paragraph)}
    assert {"TransactionExpired", "CrowdError", "Transient", "WaitTimeout"} <= names
    missing = sorted(name for name in names if not hasattr(client, name))
    assert not missing, f"client/README.md lists, crowdcompute.client lacks: {missing}"


def _check_call(owner: type, span: str, problems: list[str]) -> None:
    """`name`, or `name(a, b=, c= or d=, E(...))` against owner.name's signature: each named
    parameter exists, bare ones at their position, `x=` ones accepted by keyword."""
    found = re.fullmatch(r"(\w+)(?:\((.*)\))?", span.strip())
    if found is None:
        problems.append(f"{owner.__name__}: cannot read {span!r}")
        return
    name, args = found.groups()
    method = getattr(owner, name, None)
    if method is None:
        problems.append(f"{owner.__name__} has no {name} (the table names {span!r})")
        return
    if args is None:
        return
    if isinstance(method, property):
        problems.append(f"{owner.__name__}.{name} is a property; the table calls it: {span!r}")
        return
    params = list(inspect.signature(method).parameters.values())[1:]  # after self
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    by_name = {p.name: p for p in params}
    takes_any_keyword = any(p.kind == p.VAR_KEYWORD for p in params)
    for position, item in enumerate(a.strip() for a in args.split(",") if a.strip()):
        for alternative in re.split(r"\s+or\s+|\s*\\?\|\s*", item):
            if re.fullmatch(r"[A-Z]\w*\(.*\)", alternative):  # a value, MarketSettings(...)
                if position >= len(positional):
                    problems.append(f"{owner.__name__}.{name}: no positional parameter {position + 1} for {alternative!r}")
                continue
            keyword = re.fullmatch(r"(\w+)=.*", alternative)
            if keyword:
                param = by_name.get(keyword.group(1))
                if param is None and not takes_any_keyword or param is not None and param.kind == param.POSITIONAL_ONLY:
                    problems.append(f"{owner.__name__}.{name} takes no keyword {keyword.group(1)!r} (the table: {span!r})")
            elif position >= len(positional) or positional[position].name != alternative:
                actual = positional[position].name if position < len(positional) else None
                problems.append(f"{owner.__name__}.{name}: parameter {position + 1} is {actual!r}, the table says {alternative!r}")


def test_the_client_readme_api_tables_match_the_signatures():
    from crowdcompute.client.crowd import CrowdClient
    from crowdcompute.client.staking.stakes import Stakes
    client_table, stakes_table = table_rows(REPO / "client" / "README.md", "call")
    problems: list[str] = []
    for owner, table in ((CrowdClient, client_table), (Stakes, stakes_table)):
        for spans in table:
            bare = [s for s in spans if re.fullmatch(r"\w+", s)]
            for span in spans:
                if span.endswith(".*"):  # `stakes.*`: the table below
                    assert hasattr(owner, span[:-2]), span
                elif span.startswith("("):  # `unstake`, `withdraw` (each `(config)`)
                    for name in bare:
                        _check_call(owner, name + span, problems)
                else:
                    _check_call(owner, span, problems)
    assert not problems, "\n".join(problems)


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _check_command(parser: argparse.ArgumentParser, words: list[str], shown: str, problems: list[str]) -> None:
    """Walks the words down the parser: subcommands (`a|b` or `a/b` for several), options
    that the parser at that level knows; other words are values."""
    for i, word in enumerate(words):
        word = word.strip("[]")
        if word in ("--", "...") or not word:
            return
        if word.startswith("-"):
            option = word.split("=")[0]
            known = _localnet_options() if parser.prog == "crowd localnet" else parser._option_string_actions
            if option not in known:
                problems.append(f"{shown!r}: {parser.prog} has no option {option}")
            continue
        commands = _subcommands(parser)
        if not commands:
            continue  # a value
        alternatives = re.split(r"[|/]", word)
        unknown = [a for a in alternatives if a not in commands]
        if unknown:
            problems.append(f"{shown!r}: {parser.prog} has no command {', '.join(unknown)}")
            return
        for alternative in alternatives:
            _check_command(commands[alternative], words[i + 1:], shown, problems)
        return


def _localnet_options() -> set[str]:
    """`crowd localnet`'s options: the localnet's own parser (python -m crowdcompute.localnet)
    and its storage companion's."""
    import contextlib
    import io

    from crowdcompute.cli.localnet_storage import StorageCompanion
    from crowdcompute.localnet.__main__ import parse_args

    shown = io.StringIO()
    with contextlib.redirect_stdout(shown), pytest.raises(SystemExit):
        parse_args(["--help"], prog="crowd localnet", companions=[StorageCompanion()])
    return set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", shown.getvalue()))


def test_the_localnet_readme_names_its_options():
    """localnet/README.md's usage block and every option its code spans name (its prose also
    names agave's, which are not ours)."""
    text = (REPO / "localnet" / "README.md").read_text()
    code = re.findall(r"```.*?```", text, flags=re.S) + re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    # a span that runs one of scripts/ names that script's options, checked against its --help
    scripts = [span for span in code if re.search(r"scripts/\w+\.py", span)]
    for span in scripts:
        script = re.search(r"scripts/\w+\.py", span).group(0)
        shown = subprocess.run([sys.executable, str(REPO / script), "--help"], capture_output=True, text=True, check=True).stdout
        assert set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", span)) <= set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", shown)), span
    named = set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", " ".join(span for span in code if span not in scripts)))
    assert {"--rpc-port", "--fund-tokens", "--storage-port", "--storage-dir"} <= named
    assert named - _localnet_options() == set()


def test_every_crowd_command_shown_parses():
    from crowdcompute.cli.main import build_parser

    commands = crowd_commands()
    assert len(commands) > 20
    problems: list[str] = []
    for readme, command in commands:
        _check_command(build_parser(), command.split()[1:], f"{readme}: {command}", problems)
    assert not problems, "\n".join(problems)


def test_the_command_check_finds_a_wrong_command():
    from crowdcompute.cli.main import build_parser

    problems: list[str] = []
    for command in ("crowd job post FILE --markt M", "crowd job fetch JOB", "crowd node start|halt", "crowd localnet --rest"):
        _check_command(build_parser(), command.split()[1:], command, problems)
    assert len(problems) == 4, problems
