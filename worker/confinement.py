"""What the node checks of the engine before it serves: every job must run confined.

The node sets each container's own confinement (containers.py) but takes the system-call
filter from the engine: Docker and Podman apply their default seccomp profile to every
container unless told otherwise. An engine started without seccomp (a kernel without it,
or `--seccomp-profile unconfined`) would run every job with the whole kernel interface,
so the node refuses to serve there, with the reason. AppArmor (or SELinux) is the host's
choice; when the kernel has AppArmor on, the engine must apply it too.
"""

from __future__ import annotations

from pathlib import Path

from .engine import EngineInfo

__all__ = ["confinement_problem"]

APPARMOR_ENABLED = Path("/sys/module/apparmor/parameters/enabled")


def confinement_problem(engine: EngineInfo, *, apparmor_enabled: Path = APPARMOR_ENABLED) -> str | None:
    """Why this engine would run jobs unconfined (one line), or None."""
    options = [dict(part.split("=", 1) for part in s.split(",") if "=" in part) for s in engine.security]
    seccomp = [o for o in options if o.get("name") == "seccomp"]
    if not seccomp:
        return ("the container engine applies no seccomp profile (its SecurityOptions name none): "
                "jobs would run with every system call; start it with seccomp (the default profile)")
    if any(o.get("profile", "default") == "unconfined" for o in seccomp):
        return ("the container engine's default seccomp profile is 'unconfined': jobs would run with every "
                "system call; remove --seccomp-profile=unconfined from its settings")
    if _enabled(apparmor_enabled) and not any(o.get("name") in ("apparmor", "selinux") for o in options):
        return "AppArmor is on in this kernel but the container engine does not apply it to containers"
    return None


def _enabled(flag: Path) -> bool:
    try:
        return flag.read_text().strip().upper().startswith("Y")
    except OSError:
        return False
