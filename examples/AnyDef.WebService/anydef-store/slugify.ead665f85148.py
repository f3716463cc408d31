# anydef: slugify
# spec: ead665f851481ac1752e94586129c91c5f5ffb0ae43a9d5a1832fbf22517aca1
# signature: def slugify(title: str, max_len: int) -> str
# source: hand-written by the AnyDef maintainers and reviewed (no model was used)
# generated: 2026-11-24T06:52:37Z
# reviewed: true
# description:
#   Turn a title into a URL slug: lower-case ASCII, accents removed, runs of other characters become one hyphen, no leading or trailing hyphen, at most max_len characters (cut at a hyphen when possible).
# (edit the code below freely; keep this header so AnyDef can find the file)

import re
import unicodedata


def slugify(title: str, max_len: int) -> str:
    if max_len < 1:
        raise ValueError("max_len must be at least 1")
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) <= max_len:
        return slug
    cut = slug[:max_len]
    if slug[max_len] != "-" and "-" in cut:
        cut = cut[: cut.rindex("-")]
    return cut.strip("-")
