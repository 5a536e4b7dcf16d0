from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.python import PythonOperator

from churn.extract import extract_customers
from churn.features import build_features
from churn.train import train_model

with DAG(
    "train_churn",
    start_date=datetime(2025, 1, 1),
    schedule="0 2 * * *",
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
) as dag:
    extract = PythonOperator(task_id="extract", python_callable=extract_customers)
    features = PythonOperator(task_id="features", python_callable=build_features)
    train = PythonOperator(task_id="train", python_callable=train_model)
    extract >> features >> train
