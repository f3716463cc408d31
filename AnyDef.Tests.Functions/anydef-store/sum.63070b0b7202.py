# anydef: sum
# spec: 63070b0b7202e70c170650118a060f5dc152ba6b491e906a1dd9010b8f279685
# signature: def sum(numbers: list[int]) -> int
# source: hand-written for the tests (no model was used)
# generated: 2026-11-25T18:30:00Z
# reviewed: true
# description:
#   Return the sum of the numbers.
# (edit the code below freely; keep this header so AnyDef can find the file)

def sum(numbers: list[int]) -> int:
    total = 0
    for n in numbers:
        total += n
    return total
