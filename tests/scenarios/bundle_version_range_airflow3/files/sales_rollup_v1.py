"""Daily sales rollup by region."""
from datetime import datetime

from airflow.sdk import dag, task

REGION_COLUMNS = ("country", "region")


def rows():
    from sales.io import read_orders
    return read_orders()


def rollup_regions():
    totals = {}
    for row in rows():
        amount = row["amount"]
        key = tuple(row[col] for col in REGION_COLUMNS)
        totals[key] = totals.get(key, 0) + amount
    return totals


@dag(schedule="0 4 * * *", start_date=datetime(2025, 1, 1), catchup=False)
def sales_rollup():
    task(rollup_regions)()


sales_rollup()
