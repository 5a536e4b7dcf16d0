"""Loads the day's orders into the warehouse."""
from airflow.providers.postgres.hooks.postgres import PostgresHook

STAGING = "/data/orders/{ds}.csv"


def load_orders(ds, **context):
    hook = PostgresHook(postgres_conn_id="warehouse")
    conn = hook.get_conn()
    with conn.cursor() as cur, open(STAGING.format(ds=ds)) as f:
        cur.copy_expert("COPY staging.orders FROM STDIN WITH CSV HEADER", f)
    conn.commit()
