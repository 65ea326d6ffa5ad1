"""`crowd job validate|post|get|logs|list|cancel|extend|end|clean|why`: job definitions and
the poster's commands.

`validate` checks a definition offline (job_validate.py). The others take the cluster
options of common.py; every failure is one line and a non-zero exit, found before anything
is sent.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .common import Output, add_chain_options, client_from_args
from .job_live import EndpointWatch, follow_logs, register_live
from .job_validate import validate
from .verbs import add_noun, add_verb, on_chain

__all__ = ["register", "split_inline_command", "how_it_ended"]


def register(commands: Any) -> None:
    verbs = add_noun(commands, "job", help="job definitions and jobs: validate, post, get, logs, endpoints, stats, list, why, cancel, "
                                           "extend, end, clean")
    validate = add_verb(verbs, "validate", _validate,
                        help="check a job definition (Nosana's format, JSON or YAML) and list every problem")
    validate.add_argument("file", metavar="FILE", help="job definition: .json, .yaml or .yml")
    validate.add_argument("--output", choices=("text", "json"), default="text", help="output format")

    post = add_verb(verbs, "post", on_chain(_post), help="post a job (a definition file, or inline: --image IMG -- CMD...)",
                    usage="crowd job post [FILE | --image IMG [--gpu] | --digest CID] --market M [options] [-- CMD ARGS...]",
                    description="Post a job: the definition is validated, stored, and its digest posted with a deposit "
                                "of price x timeout. Inline: crowd job post --image IMG [--gpu] --market M -- CMD ARGS...")
    post.add_argument("file", nargs="?", metavar="FILE", help="job definition (Nosana's format, JSON or YAML)")
    post.add_argument("--market", "-m", required=True, help="market address")
    post.add_argument("--timeout", default="10m", help="longest run the deposit pays for: 90s, 10m, 1h (default 10m)")
    post.add_argument("--max-price", type=int, default=None, help="most per second you accept (default: the market's price now)")
    post.add_argument("--max-fee-bps", type=int, default=None,
                      help="most network fee you accept, in basis points of the deposit (default: the market's fee now)")
    post.add_argument("--image", help="inline job: container image")
    post.add_argument("--gpu", action="store_true", help="inline job: needs a GPU")
    post.add_argument("--digest", help="post an already stored definition by CID or 64-hex digest (nothing is stored)")
    post.add_argument("--wait", action="store_true", help="wait until it is done, with a live status line")
    post.add_argument("--wait-timeout", default="1h", help="how long --wait waits (default 1h)")
    post.add_argument("--download", metavar="DIR", help="wait, then fetch and verify the result bundle into DIR and print the logs")
    post.set_defaults(cmd=[])  # main() splits off what follows `--` (argparse's REMAINDER would eat options after FILE)
    add_chain_options(post, storage=True)

    for name, body, text in (("get", _get, "show a job"), ("why", _why, "why a job is not running yet"),
                             ("cancel", _cancel, "cancel a queued job (full refund)"),
                             ("end", _end, "stop a running job (the node is paid for the time so far)"),
                             ("clean", _clean, "close a settled job past its retention (rent back to its payer)")):
        verb = add_verb(verbs, name, on_chain(body), help=text)
        verb.add_argument("job", metavar="JOB", help="job address")
        add_chain_options(verb)

    logs = add_verb(verbs, "logs", on_chain(_logs),
                    help="print a settled job's logs from its result bundle (verified), or follow a running job's from its node")
    logs.add_argument("job", metavar="JOB")
    logs.add_argument("--download", metavar="DIR", help="also write the bundle and its output files into DIR")
    logs.add_argument("--follow", "-f", action="store_true",
                      help="a running job's lines as its node writes them, until it ends (signed: the poster only)")
    logs.add_argument("--op", default=None, help="with --follow: one op's lines only")
    logs.add_argument("--from-now", action="store_true", help="with --follow: skip the lines written so far")
    add_chain_options(logs, storage=True)
    register_live(verbs)

    extend = add_verb(verbs, "extend", on_chain(_extend), help="add time to a queued or running job (paid at the job's price)")
    extend.add_argument("job", metavar="JOB")
    extend.add_argument("--by", required=True, help="extra time: 90s, 10m, 1h")
    add_chain_options(extend)

    listing = add_verb(verbs, "list", on_chain(_list), help="list jobs by market, state, poster or node")
    listing.add_argument("--market", "-m")
    listing.add_argument("--state", choices=("queued", "running", "done", "ended", "failed"))
    listing.add_argument("--poster")
    listing.add_argument("--mine", action="store_true", help="jobs the wallet posted")
    listing.add_argument("--node")
    add_chain_options(listing)


def split_inline_command(argv: list[str]) -> tuple[list[str], list[str]]:
    """`crowd job post ... -- CMD ARGS...`: the options, and the inline job's command."""
    if argv[:2] == ["job", "post"] and "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1:]
    return argv, []


def _validate(args: argparse.Namespace) -> int:
    return validate(args.file, args.output, sys.stdout, sys.stderr)


# -- post ------------------------------------------------------------------------------
async def _post(args: argparse.Namespace, out: Output) -> int:
    from ..client.durations import parse_duration

    timeout = parse_duration(args.timeout)
    wait_timeout = parse_duration(args.wait_timeout)
    definition, digest = _definition_or_digest(args)
    async with client_from_args(args) as crowd:
        posted = await crowd.post(args.market, timeout=timeout, definition=definition, digest=digest, max_price_per_second=args.max_price,
                                  max_fee_bps=args.max_fee_bps)
        result: dict[str, Any] = {"job": str(posted.job), "signature": str(posted.signature), "definition": _cid_or_hex(posted.digest),
                                  "deposit": posted.deposit, "fee": posted.fee, "market": args.market}
        paid = f"deposit {posted.deposit}" + (f", network fee {posted.fee}" if posted.fee else "")
        if not (args.wait or args.download):
            result["status"] = (await crowd.view(posted.job)).status
            out.emit(result, f"posted job {posted.job} ({paid}, definition {result['definition']}): {result['status']}")
            return 0
        out.status(f"posted job {posted.job} ({paid})")
        service = definition is not None and definition.is_service
        view = await _wait_live(crowd, posted.job, out, wait_timeout, service=service)
        result.update(view.to_json() if view else {"status": "closed"})
        result["job"] = str(posted.job)
        code = 0 if view is not None and view.status == "done" else 1
        if args.download and view is not None and view.status == "done":
            bundle_info = await _download(crowd, view.job, Path(args.download), out)
            result["bundle"] = bundle_info
        if code:
            result["error"] = how_it_ended(str(posted.job), view)
        out.emit(result, lambda c: _print_job_line(c, result))
        if code:
            out.error_line(result["error"])
        return code


def how_it_ended(job: str, view: Any) -> str:
    """One line for a waited-for job that settled without a result (`view` None: closed)."""
    if view is None:
        return f"job {job} was closed before it ran to the end (cancelled: the deposit was refunded)"
    j = view.job
    if view.status == "ended":
        return f"job {job} was ended by its poster before it finished (node {j.node} paid {j.paid}, the rest refunded)"
    if view.status == "failed":
        return (f"job {job} failed: it timed out and was reclaimed {j.attempts} time{'s' * (j.attempts != 1)} "
                f"without a result (no node was paid, the deposit was refunded)")
    return f"job {job} ended {view.status}, not done"


def _definition_or_digest(args: argparse.Namespace) -> tuple[Any, bytes | None]:
    """The parsed definition, or a digest given directly; input errors before any RPC."""
    from ..client.errors import InvalidInput

    cmd = list(args.cmd or [])
    given = [bool(args.file), bool(args.image), bool(args.digest)]
    if sum(given) != 1:
        raise InvalidInput("give one of: a definition FILE, --image IMG -- CMD..., or --digest CID")
    if args.digest:
        return None, _parse_digest(args.digest)
    if args.image:
        from .inline_job import inline_definition

        return _parse(inline_definition(args.image, cmd, gpu=args.gpu)), None
    if cmd:
        raise InvalidInput("a command after -- needs --image (a FILE carries its own commands)")
    path = Path(args.file)
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    from ..client.jobspec import load

    return _validated(lambda: load(path)), None


def _parse(obj: dict) -> Any:
    from ..client.jobspec import parse

    return _validated(lambda: parse(obj))


def _validated(make: Any) -> Any:
    from ..client.errors import InvalidInput
    from ..client.jobspec import LoadError, ValidationError

    try:
        return make()
    except LoadError as exc:
        raise InvalidInput(str(exc)) from None
    except ValidationError as exc:
        problems = "; ".join(str(p) for p in exc.problems)
        raise InvalidInput(f"invalid job definition: {problems}") from None


def _parse_digest(text: str) -> bytes:
    from ..client.errors import InvalidInput

    text = text.strip()
    if len(text) == 64:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        from ..client.storage import Cid

        return Cid.parse(text).digest
    except (ImportError, ValueError):
        raise InvalidInput(f"not a CID or a 64-hex digest: {text!r}") from None


def _cid_or_hex(digest: bytes) -> str:
    try:
        from ..client.storage import Cid

        return str(Cid(bytes(digest)))
    except ImportError:
        return bytes(digest).hex()


async def _wait_live(crowd: Any, job: Any, out: Output, timeout: float, *, service: bool = False) -> Any:
    """Waits for a settled (or closed) job; for humans, a live line: status, node, elapsed,
    cost, and for a service its endpoints' URLs and health as its node reports them."""
    from .live_status import LiveStatus

    settled = ("done", "ended", "failed", "closed")
    with LiveStatus(out, str(job)) as live:
        watch = asyncio.create_task(EndpointWatch(crowd, job, live.endpoints).run()) if service else None
        try:
            return await crowd.wait_for(job, settled, timeout=timeout, on_change=live.update)
        finally:
            if watch is not None:
                watch.cancel()


def _print_job_line(console: Console, result: dict) -> None:
    node = f" on node {result['node']}" if result.get("node") else ""
    console.print(f"job {result['job']}: {result.get('status')}{node}, paid {result.get('paid', 0)}", markup=False)
    bundle = result.get("bundle")
    if bundle:
        console.print(bundle["text"], markup=False, end="")
        console.print(f"bundle {bundle['cid']} verified, written to {bundle['path']}", markup=False)


async def _download(crowd: Any, job: Any, folder: Path, out: Output) -> dict[str, Any]:
    """Fetches the result bundle by the digest on-chain (storage verifies the CID), checks its
    format, writes it and its output files into `folder`; returns what it did."""
    from .bundle_files import fetch_bundle, write_bundle

    cid, data, bundle = await fetch_bundle(crowd, job)
    path = write_bundle(folder, data, bundle)
    return {"cid": cid, "path": str(path), "status": bundle.status, "text": bundle.render()}


# -- the other verbs -------------------------------------------------------------------
async def _get(args: argparse.Namespace, out: Output) -> int:
    async with client_from_args(args, wallet=False) as crowd:
        view = await crowd.view(args.job)
        data = view.to_json()
        data["definition_cid"] = _cid_or_hex(view.job.definition)
        out.emit(data, lambda c: _job_table(c, data))
    return 0


def _job_table(console: Console, data: dict) -> None:
    table = Table(show_header=False, box=None)
    for key in ("address", "status", "market", "poster", "payer", "node", "definition_cid", "result", "price_per_second", "timeout",
                "deposit", "paid", "posted_at", "started_at", "closed_at", "attempts"):
        if data.get(key) is not None:
            table.add_row(key.replace("_", " "), str(data[key]))
    console.print(table)


async def _why(args: argparse.Namespace, out: Output) -> int:
    async with client_from_args(args, wallet=False) as crowd:
        explanation = await crowd.why(args.job)
        out.emit(explanation.to_json(), lambda c: [c.print(f"job {explanation.job}: {explanation.status}", markup=False)]
                 + [c.print(f"  - {r}", markup=False) for r in explanation.reasons])
    return 0


async def _cancel(args: argparse.Namespace, out: Output) -> int:
    async with client_from_args(args) as crowd:
        before = await crowd.get_job(args.job)
        sig = await crowd.cancel(args.job)
        out.emit({"job": args.job, "signature": str(sig), "refunded": before.deposit, "status": "cancelled"},
                 f"cancelled job {args.job}: {before.deposit} refunded")
    return 0


async def _end(args: argparse.Namespace, out: Output) -> int:
    async with client_from_args(args) as crowd:
        sig = await crowd.end(args.job)
        job = await crowd.get_job(args.job)
        out.emit({"job": args.job, "signature": str(sig), "status": "ended", "paid": job.paid, "node": str(job.node)},
                 f"ended job {args.job}: node {job.node} paid {job.paid}")
    return 0


async def _clean(args: argparse.Namespace, out: Output) -> int:
    async with client_from_args(args) as crowd:
        sig = await crowd.clean(args.job)
        out.emit({"job": args.job, "signature": str(sig), "status": "cleaned"}, f"cleaned job {args.job}: rent returned to its payer")
    return 0


async def _extend(args: argparse.Namespace, out: Output) -> int:
    from ..client.durations import parse_duration

    extra = parse_duration(args.by)
    async with client_from_args(args) as crowd:
        sig = await crowd.extend(args.job, extra)
        job = await crowd.get_job(args.job)
        out.emit({"job": args.job, "signature": str(sig), "timeout": job.timeout, "deposit": job.deposit},
                 f"extended job {args.job} by {extra}s: timeout {job.timeout}s, deposit {job.deposit}")
    return 0


async def _logs(args: argparse.Namespace, out: Output) -> int:
    from ..client.errors import InvalidInput

    if args.follow:
        return await follow_logs(args, out)
    if args.op or args.from_now:
        raise InvalidInput("--op and --from-now go with --follow (a bundle's logs are printed whole)")
    async with client_from_args(args, wallet=False) as crowd:
        view = await crowd.view(args.job)
        if view.status != "done":
            raise InvalidInput(f"job {args.job} is {view.status}: only a done job has a result bundle")
        from .bundle_files import fetch_bundle, write_bundle

        cid, data, bundle = await fetch_bundle(crowd, view.job)
        result: dict[str, Any] = {"job": args.job, "bundle": cid, "status": bundle.status, "bundle_json": bundle.to_json()}
        if args.download:
            result["path"] = str(write_bundle(Path(args.download), data, bundle))
        out.emit(result, lambda c: c.print(bundle.render(), markup=False, end=""))
    return 0


async def _list(args: argparse.Namespace, out: Output) -> int:
    async with client_from_args(args, wallet=args.mine) as crowd:
        poster = crowd.pubkey if args.mine else args.poster
        views = await crowd.list_jobs(market=args.market, state=args.state, poster=poster, node=args.node)
        rows = [v.to_json() for v in views]

        def table(console: Console) -> None:
            t = Table("job", "status", "market", "node", "deposit", "paid", "posted")
            for r in rows:
                t.add_row(r["address"], r["status"], r["market"], r["node"] or "", str(r["deposit"]), str(r["paid"]),
                          time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["posted_at"])))
            console.print(t)
            console.print(f"{len(rows)} job{'s' * (len(rows) != 1)}", markup=False)

        out.emit(rows, table)
    return 0
