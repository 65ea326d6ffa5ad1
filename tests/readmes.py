"""The project's READMEs as the doc tests read them: their fenced python blocks, the
`crowd ...` commands they show, and the rows of their API tables."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# A block that cannot run standalone says so on its first line; the tests list each one.
NOT_RUN = re.compile(r"#\s*not run:\s*(.+)")


def readmes() -> list[Path]:
    """Every README.md of the clone that git tracks or would (not build/, .venv/, ...); with no
    git, every one outside those folders."""
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", "README.md", "*/README.md"],
                                cwd=REPO, check=True, capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        skipped = {".git", ".venv", "build", "dist", "target", "node_modules"}
        listed = [str(p.relative_to(REPO)) for p in REPO.rglob("README.md") if not skipped & set(p.relative_to(REPO).parts)]
    return sorted({REPO / name for name in listed if (REPO / name).is_file()})


@dataclass(frozen=True)
class Block:
    readme: str  # relative to the clone
    number: int  # the python blocks of one README, from 1
    line: int  # the fence's line
    code: str

    @property
    def name(self) -> str:
        return f"{self.readme}#{self.number}"

    @property
    def not_run(self) -> str | None:
        """Why this block is not run, when its first line says so."""
        first = self.code.lstrip().splitlines()[0] if self.code.strip() else ""
        found = NOT_RUN.match(first)
        return found.group(1).strip() if found else None


def python_blocks() -> list[Block]:
    blocks = []
    for path in readmes():
        number, code, start = 0, None, 0
        for line_no, line in enumerate(path.read_text().splitlines(), 1):
            if code is None and line.strip().startswith("```python"):
                code, start = [], line_no
            elif code is not None and line.strip() == "```":
                number += 1
                blocks.append(Block(str(path.relative_to(REPO)), number, start, "\n".join(code) + "\n"))
                code = None
            elif code is not None:
                code.append(line)
    return blocks


def crowd_commands() -> list[tuple[str, str]]:
    """(README, command) for each `crowd ...` the READMEs show in code: inline spans and
    the lines of shell blocks."""
    found = []
    for path in readmes():
        text = path.read_text()
        prose = re.sub(r"```.*?```", "", text, flags=re.S)
        commands = re.findall(r"`(crowd [^`]+)`", prose.replace("\n", " "))
        for block in re.findall(r"```(?:sh|bash|shell|console)?\n(.*?)```", text, flags=re.S):
            commands += [line.strip().removeprefix("$ ") for line in block.splitlines() if line.strip().removeprefix("$ ").startswith("crowd ")]
        commands += [line.strip() for line in text.splitlines() if line.startswith("    crowd ")]  # indented blocks
        found += [(str(path.relative_to(REPO)), " ".join(command.split())) for command in commands]
    return found


def table_rows(readme: Path, first_header: str) -> list[list[list[str]]]:
    """Each table whose first column is headed `first_header`: its rows, each the list of
    code spans in the first cell."""
    tables, rows = [], None
    for line in readme.read_text().splitlines():
        if not line.startswith("|"):
            rows = None
            continue
        cells = re.split(r"(?<!\\)\|", line)[1:-1]
        if rows is None:
            if cells and cells[0].strip() == first_header:
                rows = []
                tables.append(rows)
            else:
                rows = False
            continue
        if rows is False or set(cells[0].strip()) <= set("- "):
            continue
        rows.append(re.findall(r"`([^`]+)`", cells[0]))
    return tables
