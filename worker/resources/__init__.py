"""Resources: the models and data a job's ops name in `args.resources` (S3, Hugging Face,
Ollama), downloaded once by the node, verified, and mounted read-only (cache.py); an
allowWrite one as the job's private writable copy (private.py)."""

from .cache import DEFAULT_BUDGET, OpMounts, Prepared, ResourceCache, Sources, needs_resources
from .plan import Permanent, ResourceError

__all__ = ["ResourceCache", "Sources", "Prepared", "OpMounts", "ResourceError", "Permanent", "DEFAULT_BUDGET", "needs_resources",
           "make_cache"]


def make_cache(engine, *, state_dir, node: str, resource_cache: int | None = None, s3_endpoint: str | None = None,
               hf_endpoint: str | None = None, ollama_registry: str | None = None, policy=None) -> ResourceCache:
    """The node's cache from its flags (options.py: --resource-cache, --s3-endpoint, ...;
    `policy`: --allow-private-source, source_policy.py)."""
    sources = Sources(s3_endpoint=s3_endpoint, hf_endpoint=hf_endpoint, ollama_registry=ollama_registry, policy=policy)
    return ResourceCache(engine, state_dir, budget=resource_cache or DEFAULT_BUDGET, sources=sources, node=node)
