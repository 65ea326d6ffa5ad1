"""`crowd storage`: add, get and serve content by CID (IPFS CIDs of kubo's `ipfs add` defaults).

Only argparse is imported at start; the storage code (and aiohttp) loads when a subcommand
runs, so `crowd --help` and `crowd localnet` stay fast. Every failure a user can cause (a
missing file, an invalid CID, an unreachable storage, content that does not match its CID)
ends as one line on stderr and exit status 1; argparse's usage errors exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

from ..client.storage.server_defaults import DEFAULT_HOST, DEFAULT_MAX_UPLOAD, DEFAULT_PORT  # light: no aiohttp
from .verbs import add_noun, add_verb

_STORAGE_HELP = ("where content lives: an http(s) URL of a kubo RPC endpoint (crowd storage serve, a kubo "
                 "daemon, a pinning service) or a folder; default: $CROWD_STORAGE, else "
                 "~/.local/share/crowdcompute/storage")
_EPILOG = """\
CIDs are those `ipfs add` makes with kubo's defaults (CIDv0: UnixFS, dag-pb, 256 KiB chunks,
balanced DAG of at most 174 links, no raw leaves), so any IPFS node or gateway serves the same
content under the same CID. The chain stores the CID's 32-byte sha2-256 digest. Every get
recomputes the CID of what it received and refuses a mismatch.

examples:
  crowd storage serve --dir ./store                 # kubo RPC subset on 127.0.0.1:8901
  crowd storage add job.json --storage http://127.0.0.1:8901 --output json
  crowd storage get QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o -o hello.txt
"""


def register(subparsers: Any) -> None:
    commands = add_noun(subparsers, "storage", required=False, help="content-addressed storage (IPFS CIDs): add, get, serve",
                        description="Content-addressed storage: files named by their IPFS CID.",
                        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)

    add = add_verb(commands, "add", _storage_verb(_add), help="store a file; print its CID",
                   description="Store FILE and print its CID (the one `ipfs add FILE` prints).")
    add.add_argument("file", metavar="FILE", help="the file to store")
    add.add_argument("--storage", metavar="URL|DIR", help=_STORAGE_HELP)
    _output_option(add, "json: {\"cid\", \"digest\" (hex, what the chain stores), \"size\"}")

    get = add_verb(commands, "get", _storage_verb(_get), help="fetch content by CID, verified",
                   description="Fetch CID, check that the bytes have that CID, then write them.")
    get.add_argument("cid", metavar="CID", help="a CIDv0 (Qm...) or a dag-pb CIDv1 (bafy...)")
    get.add_argument("-o", "--out-file", metavar="FILE",
                     help="write to FILE, replaced only once verified (default: standard output)")
    get.add_argument("--storage", metavar="URL|DIR", help=_STORAGE_HELP)
    _output_option(get, "json (needs -o): {\"cid\", \"digest\", \"size\", \"path\"}")

    serve = add_verb(
        commands, "serve", _storage_verb(_serve), help="serve a folder over the kubo RPC subset and the gateway path",
        description="Serve a storage folder over HTTP: POST /api/v0/add, POST /api/v0/cat?arg=CID, "
                    "POST /api/v0/version and GET /ipfs/CID, answering as kubo does. Runs until "
                    "interrupted (Ctrl-C or SIGTERM).")
    serve.add_argument("--dir", metavar="DIR", help="the folder (default: $CROWD_STORAGE if a folder, else "
                                                    "~/.local/share/crowdcompute/storage)")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default: {DEFAULT_HOST})")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT,
                       help=f"port (default: {DEFAULT_PORT}, beside the localnet's 8899/8900; 0: any free port)")
    serve.add_argument("--max-upload-size", type=_byte_size, default=DEFAULT_MAX_UPLOAD, metavar="SIZE",
                       help=f"refuse bigger uploads with 413, e.g. 512MiB (default: {DEFAULT_MAX_UPLOAD >> 30}GiB)")


def _output_option(parser: argparse.ArgumentParser, json_help: str) -> None:
    parser.add_argument("--output", choices=("text", "json"), default="text",
                        help=f"text for humans (default) or {json_help}")


def _byte_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*(|B|KiB|MiB|GiB|TiB|KB|MB|GB|TB)\s*", text, re.IGNORECASE)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 1048576, 512MiB, 2GiB)")
    units = {"": 1, "b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
             "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
    return int(match.group(1)) * units[match.group(2).lower()]


def _storage_verb(body: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A verb's handler: storage failures (and the OS's) as one line and exit 1."""

    def handler(args: argparse.Namespace) -> int:
        from ..client.errors import CrowdError

        try:
            return body(args)
        except CrowdError as error:  # the root of storage's errors (and of every other of ours)
            return _fail(str(error))
        except OSError as error:
            return _fail(_describe_os_error(error))
        except KeyboardInterrupt:
            return 130

    return handler


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def _describe_os_error(error: OSError) -> str:
    if error.filename is not None:
        return f"{error.strerror or error}: {error.filename}"
    return str(error)


def _console():
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def _add(args: argparse.Namespace) -> int:
    from ..client.storage import open_storage

    path = Path(args.file)
    if not path.is_file():  # one clear line rather than whatever open() says about a folder
        return _fail(f"not a file: {args.file}" if path.exists() else f"no such file: {args.file}")

    async def add() -> Any:
        async with open_storage(args.storage) as storage:
            return await storage.add_file(path), storage.location

    cid, location = asyncio.run(add())
    size = path.stat().st_size
    if args.output == "json":
        print(json.dumps({"cid": str(cid), "digest": cid.hex, "size": size}))
    else:
        print(cid)
        _console().print(f"[green]added[/] {path} ({size:,} bytes) to {location}\n  digest {cid.hex}")
    return 0


def _get(args: argparse.Namespace) -> int:
    from ..client.storage import Cid, open_storage

    cid = Cid.parse(args.cid)  # InvalidCid before any storage is contacted
    if args.output == "json" and args.out_file is None:
        return _fail("--output json needs -o FILE (the content itself would be the output)")

    async def get(dest: Path) -> Any:
        async with open_storage(args.storage) as storage:
            return await storage.get_file(cid, dest), storage.location

    if args.out_file is not None:
        size, location = asyncio.run(get(Path(args.out_file)))
        if args.output == "json":
            print(json.dumps({"cid": str(cid), "digest": cid.hex, "size": size, "path": args.out_file}))
        else:
            _console().print(f"[green]verified[/] {cid} ({size:,} bytes) from {location} -> {args.out_file}")
        return 0
    # Standard output cannot be taken back: verify in a temporary file, then copy.
    with tempfile.TemporaryDirectory(prefix="crowd-get-") as folder:
        staged = Path(folder) / "content"
        asyncio.run(get(staged))
        with open(staged, "rb") as file:
            shutil.copyfileobj(file, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    return 0


def _serve(args: argparse.Namespace) -> int:
    from ..client.storage.schemes import ENV_VAR, default_storage_dir
    from ..client.storage.server import start_storage_server

    folder = args.dir
    if folder is None:
        env = os.environ.get(ENV_VAR, "")
        folder = env if env and not env.startswith(("http://", "https://")) else default_storage_dir()

    async def serve() -> None:
        try:
            server = await start_storage_server(folder, args.host, args.port, max_upload_size=args.max_upload_size)
        except OSError as error:
            raise OSError(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}") from None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        # The first line is the URL, alone, so that scripts and tests can read it.
        print(server.url, flush=True)
        _console().print(f"serving {server.folder} (kubo RPC: /api/v0/add, /api/v0/cat; gateway: /ipfs/CID; "
                         f"uploads up to {args.max_upload_size:,} bytes); Ctrl-C stops")
        try:
            await stop.wait()
        finally:
            await server.close()

    asyncio.run(serve())
    return 0
