"""The node's images: the one a job names is used when the engine has it, else pulled
(when the node pulls), within the node's maximum image size and its image cache's budget.

    cache = ImageCache(engine, budget_bytes, state_dir / "images.json", pull=True, pull_timeout=600, max_size=20 << 30)
    config = await cache.ensure("127.0.0.1:5000/tools:1", stop=job_stop, until=job_stop_at)  # or raises ImageProblem
    await cache.make_room(needed)   # least recently used pulled images removed until `needed` fits

A pull, in order: the registry's manifest is read (the image exists; its layers' sizes) and
an image over the maximum is refused before any download; room is made in the cache; the
engine pulls, its progress logged, cancelled past the maximum or the timeout (pull.py);
the pulled image's own size is checked again (removed when over). The whole is bounded by
`pull_timeout` and by `until` (the job's own deadline), and ends at once on `stop`.

The cache holds only images this node pulled (record.py), within `budget` bytes as the
engine reports their sizes (shared layers counted in each image: the figure errs high).
Room is made by removing the least recently used first (a job starting with one uses it),
never one that a container uses (running or not), none used in the last `pin_s` seconds (a
job between its check and its container's creation), and never the one being pulled.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import docker.errors

from ..engine import Engine, _short
from ..source_policy import SourcePolicy
from .problems import ImageProblem, ImageTooLarge, NoRoom, PullStopped, PullTimedOut, human
from .pull import Pull
from .record import Entry, Record
from .reference import Reference
from .registry import manifest_size

__all__ = ["ImageCache", "PIN_S", "MAX_IMAGE_SIZE", "IMAGE_CACHE_BUDGET", "PULL_TIMEOUT_S"]

log = logging.getLogger("crowdcompute.worker.images")

MAX_IMAGE_SIZE = 20 << 30  # the node's --max-image-size default
IMAGE_CACHE_BUDGET = 100 << 30  # the node's --image-cache default
PULL_TIMEOUT_S = 600.0  # the node's --pull-timeout default
PIN_S = 120.0  # an image used this recently is kept (its job may not have made its container yet)

ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm",
                 "ppc64le": "ppc64le", "s390x": "s390x"}


class ImageCache:
    def __init__(self, engine: Engine, budget_bytes: int, state_file: Path, *, pull: bool = True,
                 pull_timeout: float = PULL_TIMEOUT_S, max_size: int | None = MAX_IMAGE_SIZE, pin_s: float = PIN_S,
                 policy: SourcePolicy | None = None) -> None:
        """`policy`: which registries a job may name (source_policy.py; default public only)."""
        self.engine = engine
        self.policy = policy or SourcePolicy()
        self.budget = budget_bytes
        self.pull = pull
        self.pull_timeout = pull_timeout
        self.max_size = max_size
        self.pin_s = pin_s
        self.record = Record(Path(state_file), budget_bytes)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)  # one pull per image at a time
        self._pulling: set[str] = set()
        self._registry_config: dict[str, Any] | None = None
        if pull:
            self._save()  # the budget, for `crowd node status`, before the first pull

    # -- a job's image ----------------------------------------------------------------------

    async def ensure(self, image: str, *, stop: asyncio.Event | None = None, until: float | None = None) -> dict[str, Any]:
        """The image's config (its `Config`), pulled first when missing and the node pulls.
        `until`: unix time by which the pull must end (the job's own deadline)."""
        found = await self._inspect(image)
        if found is None and not self.pull:
            raise ImageProblem(f"image {image!r} is not on this node (this node does not pull images)")
        if found is None:
            async with self._locks[image]:  # a second job with the same image waits, then finds it
                found = await self._inspect(image)
                if found is None:
                    found = await self._pull(image, stop, until)
        self._touch(image)
        return found.get("Config") or {}

    async def _inspect(self, image: str) -> dict[str, Any] | None:
        try:
            return await self.engine.call(lambda api: api.inspect_image(image), what="inspect image")
        except docker.errors.NotFound:
            return None
        except docker.errors.APIError as exc:  # an invalid reference, the engine's refusal
            raise ImageProblem(f"image {image!r}: {_short(exc.explanation or exc)}") from None

    def _touch(self, image: str) -> None:
        entry = self.record.images.get(image)
        if entry is not None:  # only the cache's own images have a use to record
            entry.last_used = time.time()
            self._save()

    async def _pull(self, image: str, stop: asyncio.Event | None, until: float | None) -> dict[str, Any]:
        timeout, why = self.pull_timeout, ""
        if until is not None and until - time.time() < timeout:
            timeout, why = max(0.0, until - time.time()), "the job's deadline"
        loop = asyncio.get_running_loop()
        ends = loop.time() + timeout
        ref = Reference.parse(image)
        self._pulling.add(image)
        try:
            size = await _bounded(self._registry_size(ref, timeout), image, timeout, why or "its registry did not answer", stop)
            if size is not None:
                self._check_size(image, size)
                log.info("image=%s event=manifest layers_bytes=%d", image, size)
            await self._room_for(image, size or 0)
            try:
                await Pull(self.engine, ref, max_size=self.max_size).run(timeout=ends - loop.time(), stop=stop,
                                                                         said_timeout=timeout)
            except ImageProblem:
                # Cancelled (too large, timed out, stopped): the engine may still have finished
                # it; the image is not the cache's, so it must not stay outside its budget.
                await self._remove_quietly(image)
                raise
            found = await self._inspect(image)
            if found is None:
                raise ImageProblem(f"pull of {image} ended but the engine does not have it")
            pulled = int(found.get("Size") or 0)
            if self.max_size is not None and pulled > self.max_size:  # unpacked: the disk it really takes
                await self._remove(image)
                raise ImageTooLarge(image, pulled, self.max_size)
            now = time.time()
            self.record.images[image] = Entry(str(found.get("Id")), pulled, now, now)
            self._save()
        finally:
            self._pulling.discard(image)
        if self.record.held > self.budget:  # the unpacked size can exceed the manifest's
            await self.make_room(0)
        return found

    def _check_size(self, image: str, size: int) -> None:
        if self.max_size is not None and size > self.max_size:
            raise ImageTooLarge(image, size, self.max_size)
        if size > self.budget:
            raise ImageTooLarge(image, size, self.budget, "image cache")

    async def _room_for(self, image: str, needed: int) -> None:
        short = await self.make_room(needed)
        if short > 0:
            raise NoRoom(image, needed, self.budget, self.record.held)

    async def _registry_size(self, ref: Reference, timeout: float) -> int | None:
        config = await self._engine_registry_config()
        return await _on_own_thread(
            lambda: manifest_size(ref, insecure=_insecure(ref.registry, config), platform=config["platform"], timeout=timeout,
                                  policy=self.policy),
        )

    async def _engine_registry_config(self) -> dict[str, Any]:
        """Which registries the engine reaches over plain HTTP, and its platform (read once)."""
        if self._registry_config is None:
            info = await self.engine.call(lambda api: api.info(), what="info")
            registry = info.get("RegistryConfig") or {}
            arch = str(info.get("Architecture") or "x86_64")
            self._registry_config = {
                "cidrs": [str(c) for c in registry.get("InsecureRegistryCIDRs") or []],
                "insecure": {name for name, idx in (registry.get("IndexConfigs") or {}).items() if not (idx or {}).get("Secure", True)},
                "platform": (str(info.get("OSType") or "linux"), ARCHITECTURES.get(arch, arch)),
            }
        return self._registry_config

    # -- the budget -------------------------------------------------------------------------

    async def make_room(self, needed: int) -> int:
        """Removes least recently used images of the cache until `needed` more bytes fit in
        its budget; returns how many bytes still do not fit (0: they do)."""
        await self._forget_gone()
        over = self.record.held + needed - self.budget
        if over <= 0:
            return 0
        used = await self._used_ids()
        now = time.time()
        for image, entry in sorted(self.record.images.items(), key=lambda kv: kv[1].last_used):
            if over <= 0:
                break
            if image in self._pulling or entry.id in used or now - entry.last_used < self.pin_s:
                continue
            if await self._remove(image):
                over -= entry.size
                log.info("image=%s event=evicted size=%s last_used=%s held=%s budget=%s", image, human(entry.size),
                         time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(entry.last_used)), human(self.record.held),
                         human(self.budget))
        return max(0, over)

    async def _used_ids(self) -> set[str]:
        """Image ids of every container on the engine, running or not (any node's, any job's)."""
        rows = await self.engine.call(lambda api: api.containers(all=True), what="list containers")
        return {str(row.get("ImageID")) for row in rows if row.get("ImageID")}

    async def _remove(self, image: str) -> bool:
        """Removes the cache's tag of `image` (the engine deletes the layers no image needs
        any more); False when the engine refuses because a container uses it."""
        try:
            await self.engine.call(lambda api: api.remove_image(image), what=f"remove image {image}", control=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if exc.status_code == 409:  # a container made since the listing uses it
                return False
            raise ImageProblem(f"removing image {image} from the cache failed: {_short(exc.explanation or exc)}") from None
        self.record.images.pop(image, None)
        self._save()
        return True

    async def _remove_quietly(self, image: str) -> None:
        try:
            await self.engine.call(lambda api: api.remove_image(image), what=f"remove image {image}", control=True)
        except Exception:  # noqa: BLE001 - not there (the usual case), or in use: nothing to undo
            pass

    async def _forget_gone(self) -> None:
        """Drops records of images no longer on the engine (the operator removed them)."""
        if not self.record.images:
            return
        rows = await self.engine.call(lambda api: api.images(), what="list images")
        present = {tag for row in rows for tag in (row.get("RepoTags") or []) + (row.get("RepoDigests") or [])}
        ids = {row.get("Id") for row in rows}
        gone = [image for image, entry in self.record.images.items()
                if image not in present and _with_latest(image) not in present and entry.id not in ids]
        for image in gone:
            del self.record.images[image]
        if gone:
            self._save()

    def _save(self) -> None:
        try:
            self.record.save()
        except OSError as exc:  # the cache still works; its record catches up at the next write
            log.warning("image cache: writing %s failed: %s", self.record.path, exc)


def _on_own_thread(fn: Any) -> asyncio.Future[Any]:
    """`fn()` on a daemon thread of its own: a registry that never answers holds that thread
    until its request's timeout, never the loop's default pool (which asyncio.run, and so a
    node's exit, waits for) nor the job (it is answered at once on a stop)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if not future.done():
            future.set_exception(error) if error is not None else future.set_result(result)

    def run() -> None:
        try:
            result, error = fn(), None
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting coroutine
            result, error = None, exc
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:  # the loop is closed: nobody waits
            pass

    threading.Thread(target=run, name="crowd-manifest", daemon=True).start()
    future.add_done_callback(lambda f: f.cancelled() or f.exception())  # an abandoned one's error: seen, dropped
    return future


async def _bounded(work: Any, image: str, timeout: float, why: str, stop: asyncio.Event | None) -> Any:
    """`work`'s result, or PullTimedOut after `timeout`, or PullStopped on `stop` (the
    thread behind `work` ends by its own timeout, the same figure)."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait()) if stop is not None else None
    try:
        await asyncio.wait({task} | ({stopper} if stopper else set()), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if stopper is not None:
            stopper.cancel()
    if not task.done():
        task.cancel()
        if stop is not None and stop.is_set():
            raise PullStopped(image)
        raise PullTimedOut(image, timeout, why)
    try:
        return task.result()
    except TimeoutError:  # the registry's own request timed out (the same figure)
        raise PullTimedOut(image, timeout, why) from None


def _with_latest(image: str) -> str:
    ref = Reference.parse(image)
    return image if ref.tag or ref.digest else f"{image}:latest"


def _insecure(registry: str, config: dict[str, Any]) -> bool:
    """Whether the engine reaches `registry` over plain HTTP: loopback (the engine allows it
    always), its insecure CIDRs, or an index marked not secure."""
    if registry in config["insecure"]:
        return True
    host = registry.rsplit(":", 1)[0].strip("[]") if registry.count(":") == 1 or registry.startswith("[") else registry
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: the engine resolves it; this node asks over HTTPS only
    if address.is_loopback:
        return True
    return any(address in ipaddress.ip_network(c, strict=False) for c in config["cidrs"])
