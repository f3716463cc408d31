# anydef: factorial
# spec: 3ef4757608d46c9c2c93307b4f6a6b8baacb2c91f2a3976218239769d62d22b0
# signature: def factorial(n: int) -> int
# source: hand-written by the AnyDef maintainers and reviewed (no model was used)
# generated: 2026-11-24T06:52:37Z
# reviewed: true
# description:
#   Return n! (n factorial) exactly.
# (edit the code below freely; keep this header so AnyDef can find the file)

import math


def factorial(n: int) -> int:
    if n < 0:
        raise ValueError("n must not be negative")
    return math.factorial(n)
