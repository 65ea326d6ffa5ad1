"""Why a job's image cannot be had on this node: one class per ending, each message the
line the job's bundle carries (the executor fails the op with it; nothing of the op runs)."""

from __future__ import annotations

from ...client.errors import CrowdError
from ...common.sizes import human_size

__all__ = ["human", "ImageProblem", "ImageMissing", "ImageTooLarge", "RegistryUnreachable", "PullTimedOut", "PullStopped", "NoRoom"]


human = human_size  # bytes for a person (common/sizes.py): 1.5 GiB, 12.0 MiB, 800 bytes


class ImageProblem(CrowdError):
    """The image is not here and cannot be pulled; str() is the reason for the bundle."""


class ImageMissing(ImageProblem):
    def __init__(self, image: str, detail: str = "") -> None:
        super().__init__(f"image {image} does not exist in its registry" + (f" ({detail})" if detail else ""))


class ImageTooLarge(ImageProblem):
    def __init__(self, image: str, size: int, limit: int, what: str = "maximum") -> None:
        # `what`: "maximum" (--max-image-size) or "image cache" (--image-cache: it could never fit)
        super().__init__(f"image {image} is {size} bytes, over this node's {what} of {limit} bytes "
                         f"({human(size)} > {human(limit)})")
        self.size, self.limit = size, limit


class RegistryUnreachable(ImageProblem):
    def __init__(self, image: str, detail: str) -> None:
        super().__init__(f"registry of {image} unreachable: {detail}")


class PullTimedOut(ImageProblem):
    def __init__(self, image: str, seconds: float, why: str = "") -> None:
        super().__init__(f"pull of {image} timed out after {seconds:g} s" + (f" ({why})" if why else ""))


class PullStopped(ImageProblem):
    def __init__(self, image: str) -> None:
        super().__init__(f"pull of {image} stopped: the job was stopped")


class NoRoom(ImageProblem):
    def __init__(self, image: str, needed: int, budget: int, held: int) -> None:
        super().__init__(f"no room for image {image} ({human(needed)}) in this node's image cache of {human(budget)}: "
                         f"images in use by running jobs hold {human(held)}")
