"""`crowdcompute/busybox:local`: a tiny image built on this machine, for tests and the demo.

No registry is needed: the image is FROM scratch with a static busybox at /bin/busybox
and one symbolic link per applet (/bin/sh, /bin/nc, ...), all in the build context, so
the build runs no container and takes about a second. Idempotent: when the image is
present nothing is done. A static busybox is taken from the host (Debian's
busybox-static package puts it at /bin/busybox); when none is found and `install` is
true, `apt-get install -y busybox-static` is run (as root, or through `sudo -n`).

    python -m crowdcompute.worker.local_image     # or: bash scripts/build-test-image.sh
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

from ..client.errors import CrowdError

IMAGE = "crowdcompute/busybox:local"
CANDIDATES = ("/bin/busybox", "/usr/bin/busybox", "/usr/local/bin/busybox")
DOCKERFILE = b'FROM scratch\nCOPY rootfs/ /\nCMD ["/bin/sh"]\n'
PT_INTERP = 3


class ImageError(CrowdError, RuntimeError):
    pass


def is_static_elf(path: Path) -> bool:
    """An ELF executable with no program interpreter (so it runs FROM scratch)."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    if data[:4] != b"\x7fELF" or data[4] != 2:  # 64-bit only
        return False
    order = "<" if data[5] == 1 else ">"
    phoff, = struct.unpack_from(order + "Q", data, 0x20)
    phentsize, phnum = struct.unpack_from(order + "HH", data, 0x36)
    for i in range(phnum):
        p_type, = struct.unpack_from(order + "I", data, phoff + i * phentsize)
        if p_type == PT_INTERP:
            return False
    return True


def find_static_busybox() -> Path | None:
    for candidate in CANDIDATES:
        path = Path(candidate)
        if path.is_file() and is_static_elf(path):
            return path
    return None


def install_busybox_static() -> None:
    if not shutil.which("apt-get"):
        raise ImageError("no static busybox on this machine and no apt-get to install busybox-static")
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*prefix, "apt-get", "install", "-y", "-q", "busybox-static"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run([*prefix, "apt-get", "update", "-q"], env=env, capture_output=True)
        done = subprocess.run(install, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise ImageError(f"apt-get install busybox-static failed: {done.stderr.strip()[-500:]}")


def build_context(busybox: Path) -> bytes:
    applets = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True).stdout.split()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        def add(name: str, *, data: bytes | None = None, link: str | None = None, folder: bool = False, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.mode = mode
            if folder:
                info.type = tarfile.DIRTYPE
            elif link is not None:
                info.type, info.linkname = tarfile.SYMTYPE, link
            else:
                info.size = len(data or b"")
            tar.addfile(info, io.BytesIO(data) if data is not None else None)

        add("Dockerfile", data=DOCKERFILE)
        for folder in ("rootfs", "rootfs/bin", "rootfs/tmp", "rootfs/work"):
            add(folder, folder=True, mode=0o1777 if folder.endswith("tmp") else 0o755)
        add("rootfs/bin/busybox", data=busybox.read_bytes(), mode=0o755)
        for applet in sorted(set(applets) - {"busybox"}):
            add(f"rootfs/bin/{applet}", link="busybox", mode=0o777)
    return buffer.getvalue()


def ensure_image(api: Any = None, *, install: bool = True, image: str = IMAGE) -> str:
    """Build `image` unless present; returns its id."""
    import docker

    api = api or docker.APIClient(version="auto")
    try:
        return api.inspect_image(image)["Id"]
    except docker.errors.ImageNotFound:
        pass
    busybox = find_static_busybox()
    if busybox is None and install:
        install_busybox_static()
        busybox = find_static_busybox()
    if busybox is None:
        raise ImageError("no static busybox found (install Debian's busybox-static)")
    for chunk in api.build(
        fileobj=io.BytesIO(build_context(busybox)), custom_context=True, tag=image,
        rm=True, forcerm=True, decode=True, labels={"crowdcompute.image": "test"},
    ):
        if "error" in chunk:
            raise ImageError(f"building {image}: {chunk['error'].strip()}")
    return api.inspect_image(image)["Id"]


def main() -> int:
    try:
        print(f"{IMAGE} {ensure_image()}")
    except Exception as exc:  # noqa: BLE001 - one line for scripts
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
