"""The odm-dyn command line (being built)."""

import sys


def main(argv=None) -> int:
    print("odm-dyn: the command line is not built yet", file=sys.stderr)
    return 2
