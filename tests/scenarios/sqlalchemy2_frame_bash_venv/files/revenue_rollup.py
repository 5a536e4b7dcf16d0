from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator

from reports.extract import extract_orders
from reports.publish import publish_rollup

# the reporting code runs in its own virtualenv: Airflow 2 pins SQLAlchemy < 2.0
VENV_PYTHON = "/opt/venvs/reporting/bin/python"

with DAG(
    "revenue_rollup",
    start_date=datetime(2025, 1, 1),
    schedule="0 3 * * *",
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=5)},
) as dag:
    extract = PythonOperator(task_id="extract_orders", python_callable=extract_orders)
    rollup = BashOperator(
        task_id="rollup_revenue",
        bash_command=f"{VENV_PYTHON} /opt/airflow/dags/reports/rollup_revenue.py --since 7d",
    )
    publish = PythonOperator(task_id="publish_rollup", python_callable=publish_rollup)
    extract >> rollup >> publish
