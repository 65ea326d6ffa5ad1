"""`crowd storage serve`'s defaults, apart from server.py so that `crowd --help` and the
localnet's companion read them without importing aiohttp.

Port 8901: beside the localnet's 8899 (JSON-RPC) and 8900 (PubSub); not kubo's 5001, so that
a kubo daemon can run on the same machine.
"""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8901
DEFAULT_MAX_UPLOAD = 1 << 30
