from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator

from sales.settings import REGION_COLUMNS


def rollup_regions(**context):
    import pandas as pd

    orders = pd.read_parquet("/data/sales/orders.parquet")
    totals = {}
    for row in orders.to_dict("records"):
        key = tuple(row[col] for col in REGION_COLUMNS)
        totals[key] = totals.get(key, 0) + row["amount"]
    return len(totals)


with DAG("sales_rollup", start_date=datetime(2025, 1, 1), schedule="0 4 * * *", catchup=False):
    PythonOperator(task_id="rollup_regions", python_callable=rollup_regions)
