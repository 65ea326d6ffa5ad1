"""`python -m crowdcompute.worker ...` is `crowd node start ...`."""

import sys

from ..cli.main import main

if __name__ == "__main__":
    sys.exit(main(["node", "start", *sys.argv[1:]]))
