# anydef: count_words
# spec: c03e65f43e8db8008ee57cf6cf4f0679098653ce9be4fd676496f1cc4d88732d
# signature: def count_words(text: str) -> int
# source: hand-written by the AnyDef maintainers and reviewed (no model was used)
# generated: 2026-11-25T18:45:00Z
# reviewed: true
# description:
#   Count the words of the text: runs of letters, digits and apostrophes.
# (edit the code below freely; keep this header so AnyDef can find the file)

import re


def count_words(text: str) -> int:
    return len(re.findall(r"[\w']+", text))
