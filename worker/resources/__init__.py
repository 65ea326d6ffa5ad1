"""Resources: the models and data a job's ops name in `args.resources` (S3, Hugging Face,
Ollama), downloaded once by the node, verified, and mounted read-only (cache.py)."""

from .cache import DEFAULT_BUDGET, Prepared, ResourceCache, Sources, needs_resources
from .plan import Permanent, ResourceError

__all__ = ["ResourceCache", "Sources", "Prepared", "ResourceError", "Permanent", "DEFAULT_BUDGET", "needs_resources"]
