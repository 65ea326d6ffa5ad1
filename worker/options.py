"""The node daemon's command line: `crowd node start` and `python -m crowdcompute.worker` take
these flags (the daemon owns them, the CLI only shows them). argparse only, so `crowd --help`
loads nothing of the daemon."""

from __future__ import annotations

import argparse

from ..common.cluster_options import add_chain_options

__all__ = ["add_start_arguments", "add_state_dir_option", "STATE_DIR_HELP"]

STATE_DIR_HELP = "the node's state folder (default ~/.local/state/crowdcompute/node/<address>, under $XDG_STATE_HOME if set)"


def add_state_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", default=None, metavar="DIR", help=STATE_DIR_HELP)


def add_start_arguments(start: argparse.ArgumentParser) -> None:
    start.add_argument("--market", required=True, help="the market to serve")
    start.add_argument("--concurrency", type=int, default=1, help="jobs run at once (default 1)")
    start.add_argument("--gpus", default="auto", help="GPUs to offer: auto (all NVIDIA GPUs found), or a number (0: CPU only)")
    add_state_dir_option(start)
    start.add_argument("--max-ops", type=int, default=None,
                       help="ops one job may have (default 32); a job with more is failed with the reason, unrun")
    start.add_argument("--disk-budget", type=_size, default=None, metavar="SIZE",
                       help="bytes one job's volumes may hold on this disk (default 10GiB); past it the job is stopped and failed")
    images = start.add_argument_group("images (jobs name images from public registries; see worker/README.md, Images)")
    images.add_argument("--no-pull", dest="pull", action="store_false", default=True,
                        help="run only images already on the engine (a job naming another fails with the reason)")
    images.add_argument("--pull-timeout", type=_duration, default=None, metavar="DURATION",
                        help="longest one image's pull may take (default 10m); the job fails with the reason past it")
    images.add_argument("--max-image-size", type=_size, default=None, metavar="SIZE",
                        help="largest image pulled (default 20GiB): refused before download when its registry lists more")
    images.add_argument("--image-cache", type=_size, default=None, metavar="SIZE",
                        help="bytes of pulled images kept (default 100GiB); least recently used removed first")
    start.add_argument("--log-retention", type=_duration, default=None, metavar="DURATION",
                       help="remove settled jobs' logs from the state folder after this (default 7d)")
    start.add_argument("--log-budget", type=_size, default=None, metavar="SIZE",
                       help="most bytes of job logs kept in the state folder, oldest removed first (default 1GiB)")
    start.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    start.add_argument("--log-file", default=None, help="also append the log here")
    services = start.add_argument_group("services (jobs that expose ports)")
    services.add_argument("--public-url", default=None, metavar="URL",
                          help="where posters reach this node's front door (node API and the services' endpoints), published "
                               "in the node's on-chain profile: https://node.example.com (with a wildcard DNS record, each "
                               "endpoint gets its own host name) or http://IP:PORT; without it the node takes no service jobs")
    services.add_argument("--listen", default=None, metavar="HOST:PORT",
                          help="where the front door listens (default 0.0.0.0 and the public URL's port, else 8480)")
    services.add_argument("--allow-egress", action="store_true",
                          help="let jobs that ask for it (meta.crowdcompute.egress) reach the internet; never this host or "
                               "private networks. Without it such jobs are refused with the reason")
    res = start.add_argument_group("resources (models and data that jobs name in args.resources: worker/README.md)")
    res.add_argument("--resource-cache", type=_size, default=None, metavar="SIZE",
                     help="disk the node's resources may hold, least recently used removed first (default 100GiB)")
    res.add_argument("--s3-endpoint", type=_url, default=None, metavar="URL",
                     help="where s3://bucket/prefix resources come from (default https://s3.amazonaws.com; a mirror works)")
    res.add_argument("--hf-endpoint", type=_url, default=None, metavar="URL",
                     help="the Hugging Face Hub or a mirror (default $HF_ENDPOINT, else https://huggingface.co)")
    res.add_argument("--ollama-registry", type=_url, default=None, metavar="URL",
                     help="Ollama's registry or a mirror of it (default https://registry.ollama.ai)")
    start.add_argument("--allow-private-source", action="append", default=None, metavar="HOST[:PORT]",
                       help="a registry or download host that jobs may name although it is not a public address (a registry "
                            "on this node's network, a local mirror); repeatable. Otherwise the node fetches nothing for a job "
                            "from loopback, private, link-local or CGNAT addresses (the cloud's metadata service among them)")
    res.add_argument("--prefetch", default=None, metavar="FILE|CID",
                     help="a JSON array of resources (args.resources' shape) the market asks its nodes to hold, in a file "
                          "or published to storage by its CID (`crowd storage add`): fetched at start, before any job needs "
                          "them, and never evicted")
    stake = start.add_argument_group("stake (markets with a minimum stake weight)")
    stake.add_argument("--stake", metavar="AMOUNT", default=None,
                       help="when the node's stake falls short of the market's minimum, stake AMOUNT before starting (a new "
                            "stake, or a top-up of the node's stake): base units, tokens (1.5tokens), or min (the fewest that "
                            "reach the minimum); shows what it costs and asks first")
    stake.add_argument("--stake-duration", metavar="DURATION", default=None,
                       help="lock of a new stake (default: the staking config's shortest), or a longer lock for the node's "
                            "stake: 30d, 12h, or seconds")
    stake.add_argument("-y", "--yes", action="store_true", help="stake without asking (scripts)")
    add_chain_options(start, storage=True)


def _duration(text: str) -> int:
    from ..client.durations import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"expected an http(s) URL, got {text!r}")
    return text.rstrip("/")


def _size(text: str) -> int:
    """"1GiB", "512MiB", or bytes."""
    units = {"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
    number = text.rstrip("KMGTiB")
    unit = text[len(number):]
    if not number.isdigit() or unit not in units:
        raise argparse.ArgumentTypeError(f"expected a size like 1GiB or 512MiB, got {text!r}")
    return int(number) * units[unit]
