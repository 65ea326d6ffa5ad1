"""`python -m crowdcompute.cli`: the `crowd` command."""

import sys

from .main import main

sys.exit(main())
