"""What clients talk to: the JSON-RPC port (native front end or asyncio HTTP), its methods,
the PubSub websocket, and how answers are shaped (encodings, jsonParsed, history)."""
