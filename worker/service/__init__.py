"""Service jobs' runtime: ops that expose ports run until the job ends, their endpoints in
the node's table (worker/endpoints.py) checked for health and restarted by their policy.

  health_checks.py  one bounded check of a target (http, websocket, tcp)
  watch.py          an op's endpoints: targets, startup and continuous checks, history
  restarts.py       what the restart policy says after a container ended or failed health
  egress.py         the refusal of a job that needs egress on a node that does not allow it

The executor (worker/executor.py) drives them; see worker/README.md, "Service jobs".
"""

from .health_checks import check_port, run_check, tcp_check
from .restarts import Decision, RestartBudget
from .watch import HealthSettings, ServiceWatch

__all__ = ["check_port", "run_check", "tcp_check", "Decision", "RestartBudget", "HealthSettings", "ServiceWatch"]
