"""The keys booking keeps in its Redis database, and the Lua scripts that change several at once.

A ticket is the stock value a buyer took, as in db.json: a buyer who read 7 and wrote 6 holds ticket #7.
Every sale appends (buyer, ticket) to a stream, the ledger, so a double sale is read from the store, not
guessed from the receipts.
"""

from __future__ import annotations

MARK = "booking:store"  # ownership: booking made this database's keys (its value says which format)
MARK_VALUE = "booking-race-lab redis store 1"
STOCK = "booking:stock"  # the tickets left: one integer
LEDGER = "booking:ledger"  # a stream: one entry per sale, fields buyer and ticket (and token, fenced)
BUYERS = "booking:buyers"  # the seckill script's one-per-buyer set (request ids)
LOCK = "booking:lock"  # redis-lock and fenced: the lease's key
FENCE = "booking:fence"  # fenced: the last fencing token issued (INCR, taken with the lease)
OWNED = (MARK, STOCK, LEDGER, BUYERS, LOCK, FENCE)  # every key booking writes; a reset deletes these only

# The seckill script: stock > 0 check, decrement, ledger entry and the one-per-buyer set, atomically.
# Returns the ticket taken (the stock value before the decrement), 0 when sold out, -1 for a repeat.
SECKILL = """
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return -1 end
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n <= 0 then return 0 end
redis.call('DECR', KEYS[1])
redis.call('XADD', KEYS[2], '*', 'buyer', ARGV[2], 'ticket', n)
redis.call('SADD', KEYS[3], ARGV[1])
return n
"""

# fenced: take the lease and a fencing token in one step (SET NX PX, then INCR), so no pause can fall
# between them. Returns the token, or 0 when the lease is held by someone else.
LEASE_WITH_TOKEN = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0
"""

# fenced: the store's write, refused when a newer token was issued since this one (a newer lease
# exists, so this holder's lease lapsed). Comparing with the newest token issued, not only the last
# one accepted, also refuses two stale holders that both read before either wrote.
FENCED_WRITE = """
if tonumber(ARGV[1]) < tonumber(redis.call('GET', KEYS[3]) or '0') then return -1 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('XADD', KEYS[2], '*', 'buyer', ARGV[3], 'ticket', ARGV[4], 'token', ARGV[1])
return tonumber(ARGV[2])
"""
