"""Fences each job's network off from the host: firewall rules the node adds and removes.

A job's network is `internal` (the engine forwards nothing out of it), but a packet sent
to one of the host's own addresses (the network's gateway, the default bridge's address,
the host's LAN address) is not forwarded: it is input to the host, and reaches any service
listening there. So each job network gets a bridge named here (`bridge_name`, set when
the network is made) and, before the network exists, rules keyed on that name:

  CROWDCOMPUTE-INPUT    (jumped to first from INPUT)        -i <bridge> -m conntrack --ctstate
                                                             ESTABLISHED,RELATED -j ACCEPT
                                                            -i <bridge> -j DROP
                        every address of the host, whatever it is, from the job's ops; only
                        the replies to connections the host itself opened come back (the
                        node's health checks and front door reach a service in the job;
                        the job cannot open anything to the host)
  CROWDCOMPUTE-FORWARD  (jumped to first from DOCKER-USER,  -i <bridge> ! -o <bridge> -j DROP
                        Docker's chain for its users' rules) -o <bridge> ! -i <bridge> -j DROP
                        nothing routed out of the job's network or into it (private ranges,
                        other job networks, the internet), even if the engine's own rules change

the same with ip6tables when it is there. A job that may reach the internet (its definition
asks for egress and the node allows it: its network is then not internal) has instead

  CROWDCOMPUTE-FORWARD  -i <bridge> ! -o <bridge> -d <range> -j DROP   for each PRIVATE range
                        (RFC 1918, loopback, link-local, CGNAT, multicast, ...: other jobs,
                        the LAN, cloud metadata), anything else out goes on to the engine's
                        rules (which route and masquerade it)
                        -o <bridge> ! -i <bridge> -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
                        -o <bridge> ! -i <bridge> -j DROP   (only replies come in)

and the same INPUT rules: the host's own addresses, public ones too, stay out of reach. Ops of one job still reach each other (traffic
inside one bridge is switched, not routed) and the engine's DNS (inside the container's
own network namespace). Each rule carries a comment "crowdcompute job=J node=N", so a
node restarted after a crash finds and removes the rules of jobs it no longer holds.
Removed only once the job's network is gone.

The host needs: iptables (Debian's package; nft or legacy backend, the engine's), the node
running as root on the engine's host (CAP_NET_ADMIN, and the bridge visible in its network
namespace). `check()` says what is missing; the node refuses to serve without it.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import shutil
from pathlib import Path

from ..client.errors import CrowdError

__all__ = ["HostFence", "bridge_name", "FenceError", "BRIDGE_OPTION"]

CHAIN_INPUT = "CROWDCOMPUTE-INPUT"
CHAIN_FORWARD = "CROWDCOMPUTE-FORWARD"
BRIDGE_OPTION = "com.docker.network.bridge.name"
COMMAND_TIMEOUT_S = 15.0
# Never reached from a job with egress (the host's own addresses are INPUT's, dropped).
PRIVATE_V4 = ("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
              "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4")
PRIVATE_V6 = ("::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "fc00::/7", "fe80::/10", "ff00::/8")
_COMMENT = re.compile(r'--comment "?crowdcompute job=(\S+) node=([^"\s]+)"?')


class FenceError(CrowdError, RuntimeError):
    """The rules could not be set or removed; the message says why (one line)."""


def bridge_name(job: str) -> str:
    """The job network's bridge: 15 characters at most (Linux's interface name limit)."""
    return "ccj" + hashlib.sha256(job.encode()).hexdigest()[:12]


def _tool(name: str) -> str | None:
    return shutil.which(name) or next((str(p) for p in (Path("/usr/sbin") / name, Path("/sbin") / name) if p.exists()), None)


class HostFence:
    def __init__(self) -> None:
        self._tools = [t for t in (_tool("iptables"), _tool("ip6tables")) if t]
        self._ready = False
        self._lock = asyncio.Lock()
        self._added: dict[str, dict[str, list[str]]] = {}  # job -> tool -> its rules, as this fence added them

    # -- the node's start ------------------------------------------------------------
    async def check(self) -> str | None:
        """Why job networks cannot be fenced on this host (None: the chains are in place)."""
        if not self._tools or "iptables" not in Path(self._tools[0]).name:
            return "iptables is not installed: job networks could reach this host (apt-get install iptables)"
        try:
            await self._install()
        except FenceError as exc:
            return f"cannot install firewall rules for job networks: {exc}"
        return None

    async def _install(self) -> None:
        async with self._lock:
            if self._ready:
                return
            for tool in self._tools:
                v6 = "ip6tables" in Path(tool).name
                for chain in (CHAIN_INPUT, CHAIN_FORWARD):
                    await self._run(tool, "-N", chain, ok_if="exists")
                await self._hook(tool, "INPUT", CHAIN_INPUT, required=not v6)
                # DOCKER-USER comes first in FORWARD and the engine never rewrites it;
                # where it is missing (ip6tables without the engine's IPv6), FORWARD itself.
                forward = "DOCKER-USER" if await self._has_chain(tool, "DOCKER-USER") else "FORWARD"
                await self._hook(tool, forward, CHAIN_FORWARD, required=not v6)
            self._ready = True

    async def _hook(self, tool: str, chain: str, target: str, *, required: bool) -> None:
        try:
            if await self._run(tool, "-C", chain, "-j", target, ok_if="bad rule", check=True):
                return
            await self._run(tool, "-I", chain, "1", "-j", target)
        except FenceError:
            if required:
                raise  # IPv6 may be off on this host: then there is nothing to fence there

    async def _has_chain(self, tool: str, chain: str) -> bool:
        try:
            return bool(await self._run(tool, "-S", chain))
        except FenceError:  # "No chain" (legacy) or "incompatible" (nft) when there is none
            return False

    # -- per job ---------------------------------------------------------------------
    # On a job's path, so batched: each tool's rules change in one `iptables-restore
    # --noflush` (all or none), the tools side by side. Each iptables process costs a few
    # milliseconds; one by one, the 24 a job took were about 0.13 s of its turnaround.

    async def fence(self, job: str, node: str, *, egress: bool = False) -> None:
        """The job's rules, before its network exists (so there is no moment without them).
        An earlier try's rules (a crash) are removed first: never twice. `egress`: the job's
        network routes out, to public addresses only."""
        await self._install()
        await self.unfence(job)
        rules = {tool: job_rules(job, node, egress=egress, v6="ip6tables" in Path(tool).name) for tool in self._tools}
        await asyncio.gather(*(self._restore(tool, [f"-A {rule}" for rule in rules[tool]]) for tool in self._tools))
        self._added[job] = rules

    async def unfence(self, job: str) -> None:
        """Removes every rule of `job` (call once its network is gone). Rules this fence
        added are deleted as written, without listing; should that fail (someone changed
        the chains), or for rules it did not add (a crash), the chains are listed."""
        rules = self._added.pop(job, None)
        if rules is not None:
            try:
                await asyncio.gather(*(self._restore(tool, [f"-D {rule}" for rule in rules[tool]]) for tool in self._tools))
                return
            except FenceError:
                pass  # some are gone already: the listing below removes what is left
        await asyncio.gather(*(self._unfence_listed(tool, job) for tool in self._tools))

    async def _unfence_listed(self, tool: str, job: str) -> None:
        listed = await asyncio.gather(*(self._rules(tool, chain) for chain in (CHAIN_INPUT, CHAIN_FORWARD)))
        for rule in (rule for rules in listed for rule in rules):
            found = _COMMENT.search(rule)
            if found and found.group(1) == job:
                await self._run(tool, *_delete_args(rule), ok_if="bad rule")

    async def _restore(self, tool: str, lines: list[str]) -> None:
        """`lines` (-A/-D rules of the filter table) applied by one iptables-restore run,
        atomically, leaving every other rule as it is."""
        script = "*filter\n" + "".join(f"{line}\n" for line in lines) + "COMMIT\n"
        await self._run(_restore_tool(tool), "--noflush", stdin=script.encode())

    async def fenced_jobs(self, node: str | None) -> set[str]:
        """Jobs with rules here: `node`'s only, or every node's when None."""
        jobs: set[str] = set()
        for tool in self._tools:
            for chain in (CHAIN_INPUT, CHAIN_FORWARD):
                for rule in await self._rules(tool, chain):
                    found = _COMMENT.search(rule)
                    if found and (node is None or found.group(2) == node):
                        jobs.add(found.group(1))
        return jobs

    @staticmethod
    def visible(job: str) -> bool:
        """Whether the job's bridge is an interface of this network namespace (the rules
        can only act on it there: an engine on another host or namespace is not fenced)."""
        return Path("/sys/class/net", bridge_name(job)).exists()

    # -- iptables --------------------------------------------------------------------
    async def _rules(self, tool: str, chain: str) -> list[str]:
        try:
            out = await self._run(tool, "-S", chain, output=True)
        except FenceError:
            return []  # no chain: no rules
        return [line for line in str(out).splitlines() if line.startswith("-A ")]

    async def _run(self, tool: str, *args: str, ok_if: str = "", check: bool = False, output: bool = False,
                   stdin: bytes | None = None) -> bool | str:
        """Runs `tool -w ... args` (with `stdin`, if given); True (or the output) on success.
        A failure whose message contains `ok_if` is False (`check`) or success; any other
        raises FenceError."""
        process = await asyncio.create_subprocess_exec(
            tool, "-w", "10", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(stdin), COMMAND_TIMEOUT_S)
        except asyncio.TimeoutError:
            process.kill()
            raise FenceError(f"{Path(tool).name} {' '.join(args)}: no answer in {COMMAND_TIMEOUT_S:g} s") from None
        if process.returncode == 0:
            return out.decode() if output else True
        message = " ".join(err.decode(errors="replace").split())
        if ok_if and ok_if in message.lower():  # "Chain already exists", "Bad rule (does a matching rule exist...)"
            return False if check else True
        raise FenceError(f"{Path(tool).name} {' '.join(args)}: {message or f'exit {process.returncode}'}")


def job_rules(job: str, node: str, *, egress: bool = False, v6: bool = False) -> list[str]:
    """The job's rules as iptables-restore lines without the -A (see the module's text)."""
    comment = f'-m comment --comment "crowdcompute job={job} node={node}"'
    bridge = bridge_name(job)
    replies = "-m conntrack --ctstate ESTABLISHED,RELATED"
    rules = [
        # before the DROP: replies to the host's own connections (health checks, front door)
        f"{CHAIN_INPUT} -i {bridge} {replies} {comment} -j ACCEPT",
        f"{CHAIN_INPUT} -i {bridge} {comment} -j DROP",
    ]
    if not egress:
        return rules + [
            f"{CHAIN_FORWARD} -i {bridge} ! -o {bridge} {comment} -j DROP",
            f"{CHAIN_FORWARD} -o {bridge} ! -i {bridge} {comment} -j DROP",
        ]
    ranges = PRIVATE_V6 if v6 else PRIVATE_V4
    return rules + [f"{CHAIN_FORWARD} -i {bridge} ! -o {bridge} -d {net} {comment} -j DROP" for net in ranges] + [
        f"{CHAIN_FORWARD} -o {bridge} ! -i {bridge} {replies} {comment} -j RETURN",
        f"{CHAIN_FORWARD} -o {bridge} ! -i {bridge} {comment} -j DROP",
    ]


def _restore_tool(tool: str) -> str:
    """iptables-restore beside iptables (ip6tables-restore beside ip6tables): one package."""
    path = Path(tool)
    return str(path.with_name(path.name + "-restore"))


def _delete_args(rule: str) -> list[str]:
    """`-A CHAIN ...` as printed by -S, as the arguments of its deletion (`-D CHAIN ...`)."""
    import shlex

    parts = shlex.split(rule)
    return ["-D", *parts[1:]]
