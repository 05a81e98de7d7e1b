"""A module that ends the interpreter when it is imported (tests/test_verdicts.py)."""

import sys

sys.exit(0)
