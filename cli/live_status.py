"""The live status line of `crowd job post --wait`: queued -> running on node X -> done, with
the elapsed time and the cost so far (price x running time, or what was paid). On stderr,
so stdout keeps only the result; nothing in --output json mode. When stderr is not a
terminal (a log file, a CI job) each change is printed as a line of its own instead."""

from __future__ import annotations

import time
from typing import Any

from rich.live import Live
from rich.text import Text

from .common import Output


class LiveStatus:
    def __init__(self, out: Output, job: str) -> None:
        self.out = out
        self.job = job
        self.started = time.monotonic()
        self.view: Any = None
        self.history: list[str] = []
        self.endpoint_lines: list[str] = []  # a service's endpoints (job_live.EndpointWatch)
        self.endpoint_problem: str | None = None
        self.lines = not out.json and not out.err_console.is_terminal
        self.live = None if out.json or self.lines else Live(Text(""), console=out.err_console, refresh_per_second=4, transient=False,
                                               get_renderable=self._render)

    def __enter__(self) -> LiveStatus:
        if self.live is not None:
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)

    def update(self, view: Any) -> None:
        """Called by CrowdClient.wait_for on every status change."""
        self.view = view
        status = view.status if view is not None else "closed"
        if view is not None and status == "running" and view.node is not None:
            status = f"running on node {view.node}"
        self.history.append(status)
        if self.lines:
            self.out.err_console.print(self._render(), soft_wrap=True)

    def endpoints(self, lines: list[str], problem: str | None) -> None:
        """Called by EndpointWatch when a service's endpoints (or their health) change."""
        self.endpoint_lines, self.endpoint_problem = lines, problem
        if self.lines:
            self.out.err_console.print(self._render(), soft_wrap=True)

    def _render(self) -> Text:
        elapsed = int(time.monotonic() - self.started)
        steps = " -> ".join(self.history) or "posting"
        text = f"job {self.job}: {steps}  [{elapsed // 60}:{elapsed % 60:02d}, cost {self._cost()}]"
        for line in self.endpoint_lines:
            text += f"\n  endpoint {line}"
        if self.endpoint_problem:
            text += f"\n  endpoints: {self.endpoint_problem}"
        return Text(text)

    def _cost(self) -> int:
        view = self.view
        if view is None:
            return 0
        job = view.job
        if job.paid or not job.is_open:
            return job.paid
        entry = job.entry(view.market) if view.market is not None else None
        if entry is not None and entry.state == "Running":
            return job.price_per_second * min(job.timeout, max(0, int(time.time()) - entry.since))
        return 0
