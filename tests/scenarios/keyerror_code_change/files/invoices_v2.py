"""Monthly and daily invoice computation for active subscriptions."""
import json
import logging

from billing.db import fetch_plans, fetch_subscriptions, write_invoices

log = logging.getLogger(__name__)
TAX_RATE = 0.19


def price_of(sub, plan):
    base = plan["price_cents"] * sub["seats"]
    return base


def compute_invoices(ds, **context):
    plans = {p["id"]: p for p in fetch_plans()}
    invoices = []
    for sub in fetch_subscriptions(ds):
        plan = plans[sub["plan_id"]]
        discount = plan["metadata"]["discount_pct"]
        amount = price_of(sub, plan) * (100 - discount) // 100
        tax = round(amount * TAX_RATE)
        invoices.append({"subscription_id": sub["id"], "amount_cents": amount, "tax_cents": tax})
    write_invoices(ds, invoices)
    log.info("wrote %d invoices for %s", len(invoices), ds)
    return json.dumps({"count": len(invoices)})
