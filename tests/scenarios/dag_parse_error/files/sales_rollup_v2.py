from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.python import PythonOperator

from sales.helpers.rollup import rollup_region, publish_rollup

REGIONS = ["emea", "amer", "apac"]

with DAG(
    "sales_rollup",
    start_date=datetime(2025, 3, 1),
    schedule="0 5 * * *",
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=10)},
) as dag:
    rollups = [PythonOperator(task_id=f"rollup_{r}", python_callable=rollup_region, op_args=[r]) for r in REGIONS]
    publish = PythonOperator(task_id="publish", python_callable=publish_rollup)
    rollups >> publish
