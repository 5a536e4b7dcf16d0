from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.python import PythonOperator

from billing.invoices import compute_invoices
from billing.load import load_subscriptions, publish_invoices

with DAG(
    "billing_daily",
    start_date=datetime(2025, 6, 1),
    schedule="0 3 * * *",
    catchup=False,
    tags=["billing", "finance"],
    default_args={"retries": 1, "retry_delay": timedelta(minutes=5)},
) as dag:
    load = PythonOperator(task_id="load_subscriptions", python_callable=load_subscriptions)
    compute = PythonOperator(task_id="compute_invoices", python_callable=compute_invoices)
    publish = PythonOperator(task_id="publish_invoices", python_callable=publish_invoices)
    load >> compute >> publish
