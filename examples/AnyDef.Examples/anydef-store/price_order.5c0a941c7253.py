# anydef: price_order
# spec: 5c0a941c7253bd14381783818adf3cf6fb3b40a66f94c2b6cba49eeb5ca86699
# signature: def price_order(order: Order, discounts: dict[str, float]) -> Invoice
# source: hand-written by the AnyDef maintainers and reviewed (no model was used)
# generated: 2026-11-24T06:52:37Z
# reviewed: true
# description:
#   Price an order: each line costs quantity * unit_price; apply the percentage discount of the code in discounts (unknown or null code: none) to the subtotal; round money to 2 decimals; list the lines with their totals.
# (edit the code below freely; keep this header so AnyDef can find the file)

def price_order(order: dict, discounts: dict) -> dict:
    lines = [
        {"item": line["item"], "quantity": line["quantity"], "total": round(line["quantity"] * line["unit_price"], 2)}
        for line in order["lines"]
    ]
    subtotal = round(sum(line["total"] for line in lines), 2)
    percent = discounts.get(order.get("discount_code") or "", 0)
    discount = round(subtotal * percent / 100, 2)
    return {
        "order_id": order["order_id"],
        "lines": lines,
        "subtotal": subtotal,
        "discount": discount,
        "total": round(subtotal - discount, 2),
    }
