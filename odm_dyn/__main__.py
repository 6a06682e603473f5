"""``python -m odm_dyn``: the same as the ``odm-dyn`` command."""

import sys

from .cli.main import main

if __name__ == "__main__":
    sys.exit(main())
