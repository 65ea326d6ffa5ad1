"""Content-addressed storage as IPFS does it: CIDs of kubo's `ipfs add` defaults, backends
behind one interface (a local folder, the kubo RPC over HTTP), our server for that RPC.

    from crowdcompute.client.storage import open_storage, Cid
    async with open_storage("http://127.0.0.1:8901") as storage:
        cid = await storage.add_bytes(b"hello world\\n")   # QmT78zSu...
        digest = cid.digest                                # the 32 bytes the chain stores
        data = await storage.get_bytes(Cid(digest))        # verified, or ContentMismatch

Names load on first use: aiohttp is imported only by the HTTP backend and the server.
See README.md beside this file.
"""

from ..lazy import lazy_attributes

_HOMES = {
    "Cid": ".cid", "cid_to_digest": ".cid", "digest_to_cid": ".cid",
    "FileImporter": ".unixfs", "Imported": ".unixfs", "cid_of": ".unixfs", "import_bytes": ".unixfs",
    "import_file": ".unixfs", "CHUNK_SIZE": ".unixfs", "MAX_LINKS": ".unixfs",
    "Storage": ".backend", "open_storage": ".schemes", "default_storage_dir": ".schemes", "SCHEMES": ".schemes",
    "BlobStore": ".blobstore", "LocalStorage": ".local", "HttpStorage": ".http",
    "StorageServer": ".server", "start_storage_server": ".server", "DEFAULT_PORT": ".server_defaults",
    "StorageError": ".errors", "InvalidCid": ".errors", "ContentNotFound": ".errors",
    "ContentMismatch": ".errors", "ContentTooLarge": ".errors", "StorageUnavailable": ".errors", "UnknownScheme": ".errors",
}
__all__ = sorted(_HOMES)


__getattr__ = lazy_attributes(__name__, _HOMES, globals())
