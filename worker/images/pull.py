"""One pull on the engine: its JSON progress streamed on a thread of its own, logged at a
bounded rate, watched for size, and cancellable (the pull's timeout, the job's stop).

    pulling = Pull(engine, ref, max_size=20 << 30)
    await pulling.run(timeout=600, stop=event)     # raises an ImageProblem, or returns

Cancelling closes the connection to the engine, which ends the engine's pull too (it pulls
for the request that asked). The engine sends each layer's size as it starts downloading
it ("Downloading", progressDetail.total): past `max_size` in all, the pull is cancelled
then, before the rest arrives. No registry credentials are sent (no X-Registry-Auth): the
node pulls public images only, so a job cannot borrow its operator's logins.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from typing import Any

import docker.errors

from ..engine import Engine, _short
from .problems import ImageMissing, ImageProblem, ImageTooLarge, PullStopped, PullTimedOut, RegistryUnreachable, human
from .reference import Reference

__all__ = ["Pull", "PROGRESS_S", "classify"]

log = logging.getLogger("crowdcompute.worker.images")

PROGRESS_S = 5.0  # at most one progress line per pull this often (the first and last always)

# What the engine says when an image is not there, and when its registry is not reachable
# (Docker's and Podman's words); anything else is reported as the engine said it.
MISSING = ("manifest unknown", "not found", "does not exist", "pull access denied", "name unknown",
           "repository name must", "invalid reference format")
UNREACHABLE = ("connection refused", "no such host", "i/o timeout", "dial tcp", "tls handshake timeout",
               "server gave http response", "network is unreachable", "no route to host", "connection reset",
               "eof", "timeout exceeded", "context deadline exceeded")


def classify(image: str, message: str) -> ImageProblem:
    """The engine's message about a failed pull as one of the endings a bundle names."""
    text = " ".join(message.split())
    lower = text.lower()
    if any(m in lower for m in UNREACHABLE):
        return RegistryUnreachable(image, text)
    if any(m in lower for m in MISSING):
        return ImageMissing(image, text)
    return ImageProblem(f"pull of {image} failed: {text}")


class Pull:
    def __init__(self, engine: Engine, ref: Reference, *, max_size: int | None, progress_s: float = PROGRESS_S) -> None:
        self.engine, self.ref, self.max_size, self.progress_s = engine, ref, max_size, progress_s
        self._response: Any = None
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self.problem: ImageProblem | None = None  # found by the reading thread (too large, the engine's error)
        self.layers: dict[str, list[int]] = {}  # layer id -> [bytes done, bytes in all]
        self._last_line = 0.0

    async def run(self, *, timeout: float, stop: asyncio.Event | None = None, said_timeout: float | None = None) -> None:
        """The pull, to its end; `timeout` seconds at most (`said_timeout` is the figure the
        message gives, the node's whole pull timeout, when part of it went on the manifest)."""
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[None] = loop.create_future()

        def settle(error: BaseException | None) -> None:
            def set_it() -> None:
                if not finished.done():
                    finished.set_exception(error) if error else finished.set_result(None)
            try:
                loop.call_soon_threadsafe(set_it)
            except RuntimeError:  # the loop is closed: nobody waits
                pass

        def read() -> None:
            try:
                self._read()
                settle(self.problem)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting coroutine
                settle(exc)

        started = time.monotonic()
        log.info("image=%s event=pull-start", self.ref.text)
        threading.Thread(target=read, name=f"crowd-pull-{self.ref.repository[-20:]}", daemon=True).start()
        waits: set[asyncio.Future[Any]] = {finished}
        stopper = asyncio.ensure_future(stop.wait()) if stop is not None else None
        if stopper is not None:
            waits.add(stopper)
        try:
            await asyncio.wait(waits, timeout=max(0.0, timeout), return_when=asyncio.FIRST_COMPLETED)
        finally:
            if stopper is not None:
                stopper.cancel()
        if not finished.done():
            self.cancel()
            finished.add_done_callback(lambda f: f.exception())  # its error is the cancel's own: seen, dropped
            if stop is not None and stop.is_set():
                log.info("image=%s event=pull-stopped", self.ref.text)
                raise PullStopped(self.ref.text)
            log.info("image=%s event=pull-timed-out after=%.1fs", self.ref.text, time.monotonic() - started)
            raise PullTimedOut(self.ref.text, said_timeout if said_timeout is not None else timeout)
        try:
            finished.result()
        except ImageProblem:
            raise
        except docker.errors.APIError as exc:
            raise classify(self.ref.text, str(exc.explanation or exc)) from None
        except Exception as exc:  # noqa: BLE001 - the engine's connection broke: say so
            raise ImageProblem(f"pull of {self.ref.text} failed: the container engine: {_short(exc)}") from None
        log.info("image=%s event=pulled seconds=%.1f %s", self.ref.text, time.monotonic() - started, self._totals())

    def cancel(self) -> None:
        """Ends the pull: the connection to the engine is shut (that wakes the reading thread)."""
        with self._lock:
            self._cancelled.set()
            response = self._response
        if response is not None:
            _shut(response)

    # -- the reading thread -----------------------------------------------------------------

    def _read(self) -> None:
        api = self.engine.api
        params = {"fromImage": self.ref.name, "tag": self.ref.digest or self.ref.tag or "latest"}
        # docker-py's pull() hides the response, which cancelling needs: the same request, made
        # here (its _post/_url/_stream_helper are what pull() itself calls).
        response = api._post(api._url("/images/create"), params=params, stream=True, timeout=None)
        with self._lock:
            self._response = response
            cancelled = self._cancelled.is_set()
        if cancelled:
            _shut(response)
            return
        try:
            api._raise_for_status(response)
            for event in api._stream_helper(response, decode=True):
                if self._cancelled.is_set():
                    return
                if not isinstance(event, dict):
                    continue
                if event.get("error"):
                    self.problem = classify(self.ref.text, str(event.get("error")))
                    return
                self._progress(event)
                if self.problem is not None:
                    self.cancel()
                    return
        finally:
            response.close()

    def _progress(self, event: dict[str, Any]) -> None:
        layer, status = event.get("id"), str(event.get("status") or "")
        detail = event.get("progressDetail") or {}
        if layer and status == "Pulling fs layer":
            self.layers.setdefault(layer, [0, 0])
        elif layer and status == "Downloading" and isinstance(detail, dict):
            done = self.layers.setdefault(layer, [0, 0])
            done[0] = int(detail.get("current") or 0)
            done[1] = max(done[1], int(detail.get("total") or 0))
            total = sum(t for _, t in self.layers.values())
            if self.max_size is not None and total > self.max_size:
                self.problem = ImageTooLarge(self.ref.text, total, self.max_size)
                log.info("image=%s event=pull-refused layers_bytes=%d max=%d", self.ref.text, total, self.max_size)
                return
        elif layer and status in ("Download complete", "Pull complete", "Already exists"):
            done = self.layers.setdefault(layer, [0, 0])
            done[0] = done[1]
        now = time.monotonic()
        if now - self._last_line >= self.progress_s:
            self._last_line = now
            log.info("image=%s event=pull-progress %s status=%r", self.ref.text, self._totals(), status[:80])

    def _totals(self) -> str:
        done = sum(d for d, _ in self.layers.values())
        total = sum(t for _, t in self.layers.values())
        return f"layers={len(self.layers)} downloaded={human(done)} of={human(total) if total else '?'}"


def _shut(response: Any) -> None:
    """Shut the response's socket down: a thread blocked reading it wakes at once (closing
    the file alone does not wake it)."""
    try:
        sock = response.raw._fp.fp.raw._sock  # http.client's socket file -> the socket (unix or TCP)
        sock.shutdown(socket.SHUT_RDWR)
    except Exception:  # noqa: BLE001 - already closed, or another transport: close it instead
        try:
            response.close()
        except Exception:  # noqa: BLE001
            pass
