"""The processes of a run: buyers, sellers, and the parent's side that starts, paces and reaps them.

Only plain data and multiprocessing's own primitives cross a process boundary: plans are frozen
dataclasses, messages are the dataclasses of `messages`; engines, connections and file handles
are made inside the process that uses them.
"""
