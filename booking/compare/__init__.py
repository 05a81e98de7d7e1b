"""`booking compare`: every strategy on the same workload, correctness and cost side by side.

The package imports nothing at first: `compare.stats` is used by runs that never compare.
"""
