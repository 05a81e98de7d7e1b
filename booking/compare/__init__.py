"""`booking compare`: every strategy on the same workload, correctness and cost side by side.

The package imports nothing at first (the statistics it shares with runs are booking/stats.py).
"""
