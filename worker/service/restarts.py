"""What a service op's restart policy says once its container ended or failed its health.

A service op runs until the job's stop or deadline; the container ending before that (an
exit, or health checks that failed so the node stopped it) is a failure or not by the
policy (model.RestartPolicy):

  "no"                       the op ends there (failed, unless it exited 0)
  "on-failure"               a fresh container on a non-zero exit or failed health, at most
                             `restart_tries` times (0: no cap of its own); an exit 0 ends the op
  "always" / "unless-stopped" a fresh container whatever the end

and, whatever the policy, never more than the node's cap (`max_restarts` within `window`
seconds); then the op fails: "restarted N times (<the bound>), still failing: <last detail>".

Each restart waits a bounded backoff first (`backoff * 2**k`, at most BACKOFF_CAP_S), so a
container that dies at once cannot make the node spin.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ...client.jobspec.model import RestartPolicy

__all__ = ["RestartBudget", "Decision", "MAX_RESTARTS", "RESTART_WINDOW_S", "BACKOFF_S", "BACKOFF_CAP_S"]

MAX_RESTARTS = 5  # the node's cap for always / unless-stopped ...
RESTART_WINDOW_S = 600.0  # ... within this many seconds
BACKOFF_S = 1.0  # before the first restart; doubled each time
BACKOFF_CAP_S = 30.0


@dataclass(frozen=True)
class Decision:
    restart: bool
    delay: float = 0.0  # seconds to wait before the fresh container
    error: str | None = None  # when the op ends: why it failed (None: it did not)


@dataclass
class RestartBudget:
    policy: RestartPolicy
    max_restarts: int = MAX_RESTARTS
    window: float = RESTART_WINDOW_S
    backoff: float = BACKOFF_S
    restarts: int = 0  # fresh containers started so far
    _recent: list[float] = field(default_factory=list)

    def after(self, exit_code: int | None, unhealthy: str | None, *, now: float | None = None) -> Decision:
        """The decision once a try ended: `exit_code` (None: no exit seen), `unhealthy`
        the failed check's detail when the node stopped it for its health."""
        now = time.time() if now is None else now
        failed = unhealthy is not None or exit_code != 0
        what = f"unhealthy: {unhealthy}" if unhealthy is not None else f"exited with {exit_code}"
        policy = self.policy.policy
        tries = self.policy.restart_tries
        if policy == "on-failure":
            if not failed:
                return Decision(False)
            if tries and self.restarts >= tries:
                return Decision(False, error=self._gave_up(what, f"restart_policy on-failure, {tries} restarts allowed"))
        elif policy not in ("always", "unless-stopped"):  # "no", and never restart what nothing asked to
            return Decision(False, error=f"{what} (restart_policy {policy})" if failed else None)
        self._recent = [t for t in self._recent if now - t < self.window]
        if len(self._recent) >= self.max_restarts:
            return Decision(False, error=self._gave_up(what, f"the node's cap: {self.max_restarts} within {self.window:g} s"))
        delay = min(BACKOFF_CAP_S, self.backoff * 2 ** min(len(self._recent), 16))
        self.restarts += 1
        self._recent.append(now)
        return Decision(True, delay)

    def _gave_up(self, what: str, bound: str) -> str:
        if self.restarts == 0:
            return f"{what} ({bound})"
        return f"restarted {self.restarts} times ({bound}), still failing: {what}"
