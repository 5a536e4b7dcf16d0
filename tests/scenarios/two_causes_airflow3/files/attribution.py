"""Last-touch attribution of conversions to campaigns."""
import pandas as pd


def build_attribution(**context):
    touches = pd.read_parquet("/data/marketing/touches.parquet")
    late = pd.read_parquet("/data/marketing/late_touches.parquet")
    touches = touches.append(late, ignore_index=True)
    last = touches.sort_values("ts").groupby("conversion_id").tail(1)
    last.to_parquet("/data/marketing/attribution.parquet")
