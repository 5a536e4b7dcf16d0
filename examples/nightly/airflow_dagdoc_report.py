"""dagdoc's nightly report as an Airflow DAG (Airflow 2.4+ and 3).

Put this file in the DAGs folder of a deployment whose workers have dagdoc
installed and can reach the sources in /etc/dagdoc/config.yaml (the
deployment can watch itself and others).  Secrets come from Airflow
Variables rendered into the task's environment, never into the command
line or the log:

    airflow variables set dagdoc_webhook_url https://hooks.slack.com/services/T000/B000/XXXX
    airflow variables set dagdoc_airflow_token ...

The task fails (and Airflow alerts as usual) when dagdoc exits 1, a DAG
is failing, or 2, dagdoc could not do its job; the HTML report is written
either way.
"""
from datetime import datetime, timedelta

from airflow import DAG

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator

with DAG(
    dag_id="dagdoc_nightly_report",
    description="dagdoc: triage every DAG that ran in the last 24 h and post the summary",
    schedule="30 6 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=10)},
    tags=["dagdoc", "monitoring"],
) as dag:
    BashOperator(
        task_id="report",
        bash_command=(
            "dagdoc report --config /etc/dagdoc/config.yaml --since 24h "
            "--format html -o /shared/reports/dagdoc/report-{{ ds }}.html "
            '--post "$DAGDOC_WEBHOOK_URL"'
        ),
        env={
            "DAGDOC_WEBHOOK_URL": "{{ var.value.dagdoc_webhook_url }}",
            "AIRFLOW_PROD_TOKEN": "{{ var.value.dagdoc_airflow_token }}",
            "XDG_STATE_HOME": "/shared/state",   # the store (report history) outlives the worker
        },
        append_env=True,
        execution_timeout=timedelta(minutes=30),
    )
