"""SPL Token helpers for dApps: the common token basics, under the client's name (they
live in crowdcompute.common so the chain server can use them without the client)."""

from crowdcompute.common.token import *  # noqa: F401,F403 - the client's public face
from crowdcompute.common.token import __all__  # noqa: F401
