# anydef: to_roman
# spec: b883bd959c03813a4ba726e703dd22c437d1e282737b61719a38b58378fcfdf9
# signature: def to_roman(number: int) -> str
# source: hand-written by the AnyDef maintainers and reviewed (no model was used)
# generated: 2026-11-25T18:45:00Z
# reviewed: true
# description:
#   Write the number in Roman numerals (subtractive notation, 1 to 3999).
# (edit the code below freely; keep this header so AnyDef can find the file)

def to_roman(number: int) -> str:
    if not 1 <= number <= 3999:
        raise ValueError("number must be between 1 and 3999")
    numerals = [
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    ]
    parts = []
    for value, letters in numerals:
        count, number = divmod(number, value)
        parts.append(letters * count)
    return "".join(parts)
