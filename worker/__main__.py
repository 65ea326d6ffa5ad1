"""`python -m crowdcompute.worker ...` is `crowd node start ...`."""

import sys

from .daemon import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
