"""`crowd verify`'s build side: which program of a source checkout a program id is (its
Anchor.toml), the build by that checkout's own scripts/build-programs.sh into a temporary
folder (the checkout's target/ is left alone), the commit it was built from, and the
toolchain that built it."""

from __future__ import annotations

import os
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..client.errors import CrowdError, InvalidInput

__all__ = ["Source", "BuildFailed", "find_source", "build_program", "library_name"]

BUILD_SCRIPT = Path("scripts") / "build-programs.sh"
RUSTC, CARGO = "/usr/bin/rustc", "/usr/bin/cargo"  # the ones scripts/build-programs.sh builds with


class BuildFailed(CrowdError, RuntimeError):
    """scripts/build-programs.sh exited non-zero."""


@dataclass(frozen=True)
class Source:
    """A checkout of crowdcompute: the folder that holds Anchor.toml and the build script."""

    root: Path
    commit: str | None = None  # git rev-parse HEAD; None outside git
    dirty: bool = False  # uncommitted changes, new files included
    programs: dict[str, set[str]] = field(default_factory=dict)  # Anchor.toml: name -> its ids over the clusters

    def program_for(self, program_id: str, name: str | None) -> str:
        """The cargo package to build: `name` (--program) if given, else the Anchor.toml
        program that has `program_id` on some cluster."""
        if name is not None:
            package = name.replace("_", "-")
            if not (self.root / "programs" / package / "Cargo.toml").is_file():
                raise InvalidInput(f"no program {name!r} in {self.root / 'programs'}")
            return package
        for candidate, ids in sorted(self.programs.items()):
            if program_id in ids:
                return candidate.replace("_", "-")
        raise InvalidInput(f"{program_id} is none of {self.root / 'Anchor.toml'}'s programs: name it with --program NAME")

    def toolchain(self) -> dict[str, str]:
        """What built it: rustc (with its commit), cargo, the LLVM rustc uses, sbpf-linker,
        and the release profile of programs/Cargo.toml."""
        rustc = dict(line.split(": ", 1) for line in _run([RUSTC, "-vV"]).splitlines() if ": " in line)
        linker = next((line.split()[1].rstrip(":") for line in _run([CARGO, "install", "--list"]).splitlines()
                       if line.startswith("sbpf-linker ")), "not installed")
        profile = tomllib.loads((self.root / "programs" / "Cargo.toml").read_text()).get("profile", {}).get("release", {})
        return {
            "rustc": f"{rustc.get('release', '?')} ({rustc.get('commit-hash', '?')[:9]})",
            "cargo": _run([CARGO, "--version"]).removeprefix("cargo ").split(" (")[0],
            "llvm": rustc.get("LLVM version", "?"),
            "sbpf-linker": linker.lstrip("v"),
            "target": "bpfel-unknown-none",
            "profile": "release: " + ", ".join(f"{key}={str(value).lower() if isinstance(value, bool) else value}"
                                               for key, value in profile.items()),
        }


def find_source(folder: str | None) -> Source:
    """The checkout at `folder` (--source), else the one this package runs from."""
    root = Path(folder).expanduser().resolve() if folder else Path(__file__).resolve().parents[1]
    if not (root / BUILD_SCRIPT).is_file() or not (root / "Anchor.toml").is_file():
        hint = "" if folder else ": give --source DIR (a crowdcompute checkout), or --so FILE"
        raise InvalidInput(f"no crowdcompute source at {root} (it has no {BUILD_SCRIPT} and Anchor.toml){hint}")
    anchor = tomllib.loads((root / "Anchor.toml").read_text())
    programs: dict[str, set[str]] = {}
    for cluster in anchor.get("programs", {}).values():
        for name, address in cluster.items():
            programs.setdefault(name, set()).add(address)
    commit, dirty = None, False
    try:
        commit = _run(["git", "-C", str(root), "rev-parse", "HEAD"])
        dirty = bool(_run(["git", "-C", str(root), "status", "--porcelain"]))
    except CrowdError:
        pass  # not a git checkout (an unpacked archive): no commit to name
    return Source(root, commit, dirty, programs)


def library_name(package: str) -> str:
    """The .so's name of a cargo package (cargo's library name: - becomes _)."""
    return package.replace("-", "_") + ".so"


def build_program(source: Source, package: str, folder: Path) -> Path:
    """Builds `package` with the checkout's build script into `folder`; returns the .so."""
    command = ["bash", str(source.root / BUILD_SCRIPT), "--out", str(folder / "deploy"),
               "--target-dir", str(folder / "target"), "--program", package]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        tail = " | ".join((done.stdout + done.stderr).strip().splitlines()[-3:])
        raise BuildFailed(f"{BUILD_SCRIPT} failed (exit {done.returncode}): {tail}")
    return folder / "deploy" / library_name(package)


def _run(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})
    except OSError as exc:
        raise CrowdError(f"{command[0]}: {exc.strerror}") from None
    if done.returncode != 0:
        raise CrowdError(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return done.stdout.strip()
