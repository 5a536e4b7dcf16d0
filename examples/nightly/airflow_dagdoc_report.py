"""dagdoc's nightly report as an Airflow DAG (Airflow 3; the Airflow 2 imports are beside them).

Put this file in the DAGs folder of a deployment whose workers have dagdoc
installed and can reach the sources in /etc/dagdoc/config.yaml (the
deployment can watch itself and others).  Secrets are Airflow Variables whose
names contain "secret" or "token", so Airflow masks their values in task logs
and in the rendered templates of the UI; they reach dagdoc through the task's
environment, never its command line (dagdoc reads the webhook URL from the
variable --post-env names):

    airflow variables set dagdoc_webhook_secret https://hooks.slack.com/services/T000/B000/XXXX
    airflow variables set dagdoc_airflow_token ...

The report task is not retried: dagdoc exits 1 when a DAG is failing, which
fails the task (Airflow alerts as usual), and a retry would post the same
summary again.  (Were it retried, a report made again the same day still
calls new what the first run called new.)  Exit 2 means dagdoc could not do
its job; the HTML report is written either way.
"""
from datetime import datetime, timedelta

from airflow.sdk import DAG  # Airflow 3
# from airflow import DAG  # Airflow 2
from airflow.providers.standard.operators.bash import BashOperator  # Airflow 3 (apache-airflow-providers-standard)
# from airflow.operators.bash import BashOperator  # Airflow 2

with DAG(
    dag_id="dagdoc_nightly_report",
    description="dagdoc: triage every DAG that ran in the last 24 h and post the summary",
    schedule="30 6 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 0},
    tags=["dagdoc", "monitoring"],
) as dag:
    BashOperator(
        task_id="report",
        bash_command=(
            "dagdoc report --config /etc/dagdoc/config.yaml --since 24h "
            "--format html -o /shared/reports/dagdoc/report-{{ ds }}.html "
            "--report-url https://reports.example.com/dagdoc/report-{{ ds }}.html "
            "--post-env DAGDOC_WEBHOOK_URL --post-format blocks"
        ),
        env={
            "DAGDOC_WEBHOOK_URL": "{{ var.value.dagdoc_webhook_secret }}",
            "AIRFLOW_PROD_TOKEN": "{{ var.value.dagdoc_airflow_token }}",
            "XDG_STATE_HOME": "/shared/state",   # the store (report history) outlives the worker
        },
        append_env=True,
        retries=0,
        execution_timeout=timedelta(minutes=30),
    )
