"""Race an HTTP endpoint as it is published: its requests, its answers, a login step, last-byte sync.

spec.py says what a target is (plain data, crossing into every buyer); load.py reads it from a
`--target-config` TOML file or `--target-map` and refuses what is wrong in one line; fill.py fills
its templates per buyer; wire.py speaks HTTP/1.1 over a raw socket (h11), so a request can be held
back by its last byte; answer.py judges an answer by the target's rules; spread.py says how close
the requests landed.
"""
