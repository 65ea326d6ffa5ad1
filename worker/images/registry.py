"""What an image's registry says about it before anything is downloaded: whether it exists
and how many bytes its layers are (the manifest lists each layer's size).

    size = manifest_size(ref, insecure=False, platform=("linux", "amd64"), timeout=30.0)

Blocking (requests): the cache runs it on a thread, bounded by the pull's timeout. It asks
the registry API itself (the engine offers no way to read a manifest's layers), anonymously
as the engine would pull: a registry that asks for a bearer token (Docker Hub, GHCR) gets
an anonymous one from the realm it names. No credentials are ever sent (jobs may not carry
any, and the node's own must not be lent to a hostile job). A registry the engine treats as
insecure (loopback, its insecure CIDRs) is tried over HTTPS, then HTTP, as the engine does.

Bounded: every request has the timeout, and a manifest or token over MAX_BODY bytes is
refused (a hostile registry could otherwise send without end). The registry is the job's
choice, so it, its token realm and every redirect go to public addresses only
(worker/source_policy.py: not the cloud's metadata service, not this host's services).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import requests

from ..source_policy import MAX_REDIRECTS, SourcePolicy, SourceRefused
from .problems import ImageMissing, RegistryUnreachable
from .reference import Reference

__all__ = ["manifest_size", "MANIFEST_TYPES", "MAX_BODY"]

MAX_BODY = 4 << 20

INDEX_TYPES = (
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
)
MANIFEST_TYPES = INDEX_TYPES + (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
)


def manifest_size(ref: Reference, *, insecure: bool, platform: tuple[str, str], timeout: float,
                  policy: SourcePolicy | None = None) -> int | None:
    """Bytes of the image's layers and config as its registry lists them (compressed), or
    None when its manifest lists no sizes (the old schema 1). Raises ImageMissing or
    RegistryUnreachable (also for a registry, realm or redirect `policy` refuses: by
    default public addresses only)."""
    session = _Registry(ref, insecure=insecure, timeout=timeout, policy=policy or SourcePolicy())
    manifest = session.manifest(ref.reference)
    if manifest.get("mediaType") in INDEX_TYPES or "manifests" in manifest:
        wanted_os, wanted_arch = platform
        for entry in manifest.get("manifests") or []:
            plat = entry.get("platform") or {}
            if plat.get("os") == wanted_os and plat.get("architecture") == wanted_arch:
                manifest = session.manifest(str(entry.get("digest")))
                break
        else:
            raise ImageMissing(ref.text, f"its registry has no {wanted_os}/{wanted_arch} variant of it")
    layers = manifest.get("layers")
    if not isinstance(layers, list):
        return None  # schema 1: no sizes; the pull's own progress is watched instead
    parts = layers + [manifest.get("config") or {}]
    return sum(int(p.get("size") or 0) for p in parts if isinstance(p, dict))


class _Registry:
    def __init__(self, ref: Reference, *, insecure: bool, timeout: float, policy: SourcePolicy) -> None:
        self.ref = ref
        self.policy = policy
        self.timeout = timeout
        self.schemes = ["https", "http"] if insecure else ["https"]
        self.http = requests.Session()
        self.http.trust_env = False  # no ~/.netrc credentials, no proxy the engine may not use
        self.token: str | None = None

    def manifest(self, reference: str) -> dict[str, Any]:
        path = f"/v2/{self.ref.repository}/manifests/{reference}"
        response = self._get(path, {"Accept": ", ".join(MANIFEST_TYPES)})
        if response.status_code == 401 and self.token is None:
            self.token = self._anonymous_token(response.headers.get("WWW-Authenticate", ""))
            if self.token:
                response = self._get(path, {"Accept": ", ".join(MANIFEST_TYPES)})
        if response.status_code in (401, 403, 404):
            # Registries answer 401 or 403 for repositories that do not exist as well as for
            # private ones (they do not tell which); either way no anonymous pull gets it.
            detail = "" if response.status_code == 404 else "or it is not public"
            raise ImageMissing(self.ref.text, detail)
        if response.status_code != 200:
            raise RegistryUnreachable(self.ref.text, f"its registry answered HTTP {response.status_code} for the manifest")
        try:
            found = json.loads(_body(response))
        except ValueError:
            raise RegistryUnreachable(self.ref.text, "its registry answered a manifest that is not JSON") from None
        if not isinstance(found, dict):
            raise RegistryUnreachable(self.ref.text, "its registry answered a manifest that is not a JSON object")
        return found

    def _get(self, path: str, headers: dict[str, str]) -> requests.Response:
        if self.token:
            headers = {**headers, "Authorization": f"Bearer {self.token}"}
        last: Exception | None = None
        for scheme in list(self.schemes):
            try:
                response = self._fetch(f"{scheme}://{self.ref.api_host}{path}", headers)
            except requests.exceptions.SSLError as exc:  # an insecure registry speaks plain HTTP: try that next
                last = exc
                continue
            except requests.exceptions.Timeout as exc:
                raise TimeoutError(str(exc)) from exc  # the caller says "timed out", with its own figure
            except requests.exceptions.RequestException as exc:
                raise RegistryUnreachable(self.ref.text, _reason(exc)) from exc
            self.schemes = [scheme]  # the one that answered
            return response
        raise RegistryUnreachable(self.ref.text, _reason(last) if last else "no scheme to try")

    def _fetch(self, url: str, headers: dict[str, str], params: dict[str, str] | None = None) -> requests.Response:
        """One GET, its redirects followed by hand: each hop's host checked by the policy
        (a registry could otherwise send the node to any address of its network)."""
        for _ in range(MAX_REDIRECTS + 1):
            try:
                self.policy.check_url(url)
            except SourceRefused as exc:
                raise RegistryUnreachable(self.ref.text, str(exc)) from None
            response = self.http.get(url, headers=headers, params=params, timeout=self.timeout, stream=True,
                                     allow_redirects=False)
            location = response.headers.get("Location")
            if response.status_code not in (301, 302, 303, 307, 308) or not location:
                return response
            response.close()
            url, params = requests.compat.urljoin(url, location), None
            if urlsplit(url).netloc != urlsplit(response.url).netloc:
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}  # a token is for its registry
        raise RegistryUnreachable(self.ref.text, f"more than {MAX_REDIRECTS} redirects")

    def _anonymous_token(self, challenge: str) -> str | None:
        """A bearer token for pulling, asked of the realm the 401 names, with no credentials."""
        scheme, _, params = challenge.partition(" ")
        if scheme.lower() != "bearer":
            return None
        fields = dict(_challenge_fields(params))
        realm = fields.pop("realm", None)
        if not realm or not realm.startswith(("https://", "http://")):
            return None
        fields.setdefault("scope", f"repository:{self.ref.repository}:pull")
        try:
            response = self._fetch(realm, {}, params=fields)
            if response.status_code != 200:
                return None
            answer = json.loads(_body(response))
        except requests.exceptions.Timeout as exc:
            raise TimeoutError(str(exc)) from exc
        except (requests.exceptions.RequestException, ValueError):
            return None
        token = answer.get("token") or answer.get("access_token") if isinstance(answer, dict) else None
        return str(token) if token else None


def _challenge_fields(params: str) -> list[tuple[str, str]]:
    """`realm="https://auth",service="registry",scope="repository:x:pull"` as pairs."""
    out = []
    for part in params.split('",'):
        key, _, value = part.strip().partition("=")
        out.append((key.strip(), value.strip().strip('"')))
    return out


def _body(response: requests.Response) -> bytes:
    data = response.raw.read(MAX_BODY + 1, decode_content=True)
    response.close()
    if len(data) > MAX_BODY:
        raise ValueError(f"over {MAX_BODY} bytes")
    return data


def _reason(exc: BaseException) -> str:
    """The innermost cause, one line ("Connection refused", "Name or service not known")."""
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "No route to host", "Network is unreachable",
                   "Temporary failure in name resolution", "certificate verify failed", "Connection reset"):
        if marker in text:
            return marker.lower()
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:197] + "..."
