"""Hosts a job names are fetched from only at public addresses (worker/source_policy.py):
its image's registry, that registry's token realm and redirects, an https S3 resource and
its redirects. Real HTTP servers on loopback stand for the host's own services (the cloud's
metadata service, the node's storage): each test checks they got no request at all."""

from __future__ import annotations

import asyncio
import threading

import pytest
from aiohttp import web

from crowdcompute.client.jobspec.resources import S3Resource
from crowdcompute.worker.images.problems import RegistryUnreachable
from crowdcompute.worker.images.reference import Reference
from crowdcompute.worker.images.registry import manifest_size
from crowdcompute.worker.resources.plan import ResourceError
from crowdcompute.worker.resources.s3 import S3Source
from crowdcompute.worker.source_policy import SourcePolicy, SourceRefused


@pytest.mark.parametrize("host", ["127.0.0.1", "169.254.169.254", "10.1.2.3", "192.168.0.1", "172.17.0.1", "100.64.0.1",
                                  "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "224.0.0.1", "0.0.0.0", "localhost"])
def test_not_public_addresses_are_refused(host):
    with pytest.raises(SourceRefused, match="not a public address"):
        SourcePolicy().check_host(host, 443)


def test_public_addresses_and_the_operators_allowances_pass():
    SourcePolicy().check_host("8.8.8.8", 443)
    SourcePolicy().check_host("2001:4860:4860::8888", 443)
    SourcePolicy(["127.0.0.1"]).check_host("127.0.0.1", 5000)  # a host: any port
    SourcePolicy(["127.0.0.1:5000"]).check_host("127.0.0.1", 5000)
    with pytest.raises(SourceRefused):
        SourcePolicy(["127.0.0.1:5000"]).check_host("127.0.0.1", 8899)  # a host:port: that port only
    with pytest.raises(SourceRefused, match="only http"):
        SourcePolicy().check_url("file:///etc/passwd")


class Server:
    """An aiohttp app on `host`, on its own loop and thread, counting every request."""

    def __init__(self, host: str, handler) -> None:
        self.requests: list[str] = []
        self.host = host
        ready = threading.Event()

        async def counted(request: web.Request) -> web.StreamResponse:
            self.requests.append(request.path_qs)
            return await handler(request)

        def run() -> None:
            self.loop = asyncio.new_event_loop()
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", counted)
            self.runner = web.AppRunner(app)
            self.loop.run_until_complete(self.runner.setup())
            site = web.TCPSite(self.runner, host, 0)
            self.loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(10)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def secret():
    """A service of the host's own (as the metadata service would be), at 127.0.0.2."""
    async def answer(request):
        return web.json_response({"token": "host-secret", "access_token": "host-secret"})

    server = Server("127.0.0.2", answer)
    yield server
    server.stop()


def test_a_registry_on_loopback_is_not_contacted_unless_the_operator_allows_it(secret):
    ref = Reference.parse(f"{secret.address}/app:1")
    with pytest.raises(RegistryUnreachable, match="not a public address"):
        manifest_size(ref, insecure=True, platform=("linux", "amd64"), timeout=5)
    assert secret.requests == []


def test_a_registrys_token_realm_and_redirects_stay_on_public_addresses(secret):
    """The registry is the operator's allowed one; its 401 names a realm on the host's
    service, or it redirects there: refused, and the service is never asked."""
    async def registry(request):
        if "redirect" in request.path:
            raise web.HTTPFound(f"http://{secret.address}/v2/stolen")
        return web.Response(status=401, headers={"WWW-Authenticate": f'Bearer realm="http://{secret.address}/token",service="x"'})

    server = Server("127.0.0.1", registry)
    try:
        allowed = SourcePolicy([server.address])
        for name in ("app:1", "redirect/app:1"):
            with pytest.raises(RegistryUnreachable, match="127.0.0.2 is not a public address"):
                manifest_size(Reference.parse(f"{server.address}/{name}"), insecure=True, platform=("linux", "amd64"),
                              timeout=5, policy=allowed)
        assert len(server.requests) == 2 and secret.requests == []
    finally:
        server.stop()


def test_an_https_s3_resource_never_reads_the_hosts_own_services(secret):
    """A job naming the metadata service (here: a loopback service) as its S3 bucket, or a
    public-looking bucket that redirects there: refused before any byte is read."""
    async def bucket(request):
        raise web.HTTPFound(f"http://{secret.address}/latest/meta-data/")

    async def go(source, url):
        return await source.resolve(S3Resource(target="/data", url=url, files=("creds",)))

    with pytest.raises(ResourceError, match="not a public address"):
        asyncio.run(go(S3Source(), f"http://{secret.address}/latest"))
    redirecting = Server("127.0.0.1", bucket)
    try:
        with pytest.raises(ResourceError, match="127.0.0.2 is not a public address"):
            asyncio.run(go(S3Source(policy=SourcePolicy([redirecting.address])), f"http://{redirecting.address}/b"))
        assert len(redirecting.requests) == 1
    finally:
        redirecting.stop()
    assert secret.requests == []
