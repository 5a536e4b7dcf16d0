"""Pushes spend-based audiences to the CRM warehouse."""
from airflow.providers.postgres.hooks.postgres import PostgresHook


def sync_audiences(**context):
    hook = PostgresHook(postgres_conn_id="crm_warehouse")
    conn = hook.get_conn()
    with conn.cursor() as cur:
        cur.execute("CALL crm.refresh_audiences()")
