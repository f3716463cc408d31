# anydef: primes_between
# spec: de2de4739b743a403ddf54f93dd42ca16b979de5770537ba4977601cc27bf31e
# signature: def primes_between(low: int, high: int) -> list[int]
# source: hand-written by the AnyDef maintainers and reviewed (no model was used)
# generated: 2026-11-24T06:52:37Z
# reviewed: true
# description:
#   Return every prime p with low <= p <= high, ascending.
# (edit the code below freely; keep this header so AnyDef can find the file)

def primes_between(low: int, high: int) -> list[int]:
    if high < 2 or high < low:
        return []
    low = max(low, 2)
    sieve = bytearray([1]) * (high + 1)
    sieve[0:2] = b"\x00\x00"
    for p in range(2, int(high ** 0.5) + 1):
        if sieve[p]:
            sieve[p * p :: p] = bytearray(len(range(p * p, high + 1, p)))
    return [n for n in range(low, high + 1) if sieve[n]]
