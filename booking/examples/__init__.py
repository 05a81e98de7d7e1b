"""Small purchase functions to put under the harness: each racy one has a fixed twin.

booking simulate --purchase booking.examples.counter:racy_buy   # oversells in lockstep
booking simulate --purchase booking.examples.counter:fixed_buy  # does not
"""
