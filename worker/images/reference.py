"""An image reference as the engine reads it: registry host, repository, tag or digest.

    ref = Reference.parse("127.0.0.1:5000/tools/busybox:1")
    ref.registry, ref.repository, ref.reference   # "127.0.0.1:5000", "tools/busybox", "1"

The rules are the engine's: the first path component is a registry when it holds a "." or
a ":" or is "localhost"; otherwise the image is on Docker Hub, where one-part names live
under "library/". The tag defaults to "latest"; a digest (`name@sha256:...`) wins over it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .problems import ImageProblem

__all__ = ["Reference", "InvalidReference", "DOCKER_HUB", "DOCKER_HUB_API"]

# The engine's grammar (distribution/reference). A job's image reaches the registry's URL
# (the manifest's path) and the engine: nothing outside it gets that far.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?"
_REGISTRY = re.compile(_DOMAIN)
_REPOSITORY = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
MAX_NAME = 255


class InvalidReference(ImageProblem):
    def __init__(self, image: str) -> None:
        shown = image if len(image) <= 200 else image[:197] + "..."
        super().__init__(f"image {shown!r} is not a valid image reference ([registry/]name[:tag][@digest])")

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"  # where Docker Hub's registry API answers


@dataclass(frozen=True)
class Reference:
    text: str  # as the job wrote it (messages name it so)
    name: str  # without tag or digest, as written: the engine's `fromImage`
    registry: str  # host[:port]
    repository: str  # path in the registry, "library/busybox" for Docker Hub's official ones
    tag: str | None
    digest: str | None

    @property
    def reference(self) -> str:
        """What the registry's manifest URL takes: the digest, else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @classmethod
    def parse(cls, text: str) -> Reference:
        """Raises InvalidReference for anything outside the engine's grammar."""
        name, _, digest = text.partition("@")
        colon = name.rfind(":")
        tag = None
        if colon > name.rfind("/"):
            name, tag = name[:colon], name[colon + 1:]
        first, slash, rest = name.partition("/")
        if slash and ("." in first or ":" in first or first == "localhost"):
            registry, repository = first, rest
        else:
            registry, repository = DOCKER_HUB, name
        if (len(name) > MAX_NAME or not _REGISTRY.fullmatch(registry) or not _REPOSITORY.fullmatch(repository)
                or (tag is not None and not _TAG.fullmatch(tag)) or ("@" in text and not _DIGEST.fullmatch(digest))):
            raise InvalidReference(text)
        if registry == DOCKER_HUB and "/" not in repository:
            repository = f"library/{repository}"
        return cls(text, name, registry, repository, tag or None, digest or None)
