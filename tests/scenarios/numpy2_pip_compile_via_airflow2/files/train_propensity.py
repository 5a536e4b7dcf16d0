from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.python import PythonOperator

from propensity.extract import extract_events
from propensity.train import train_model
from propensity.trainset import build_training_set

with DAG("train_propensity", start_date=datetime(2025, 1, 1), schedule="0 2 * * *", catchup=False,
         default_args={"retries": 1, "retry_delay": timedelta(minutes=5)}) as dag:
    extract = PythonOperator(task_id="extract_events", python_callable=extract_events)
    trainset = PythonOperator(task_id="build_training_set", python_callable=build_training_set)
    train = PythonOperator(task_id="train_model", python_callable=train_model)
    extract >> trainset >> train
