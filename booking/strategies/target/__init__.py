"""Race an HTTP endpoint as it is published: its requests, its answers, a login step, last-byte sync.

spec.py says what a target is (plain data, crossing into every buyer); load.py reads it from a
`--target-config` TOML file or `--target-map` and refuses what is wrong in one line; fill.py fills
its templates per buyer; wire.py speaks HTTP/1.1 over a raw socket (h11), so a request can be held
back by its last byte, and handover.py has the parent write every held last byte; over HTTP/2
(--http2) streams.py frames one connection's streams (h2), batch.py is the parent's single-packet
batch and http2.py a buyer's buy through it; answer.py judges an answer by the target's rules;
spread.py says how close the requests landed.
"""
