"""The cluster connection: JSON-RPC sends, confirms and reads (`chain.py`'s `RpcChain`), the
cluster names and URLs (`cluster.py`) and account subscriptions over PubSub with reconnect
and a poll fallback (`subscriptions.py`)."""
