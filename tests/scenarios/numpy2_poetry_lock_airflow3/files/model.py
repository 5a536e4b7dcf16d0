"""Weekly demand forecast per store."""


def fit_forecast(**context):
    # pandas is imported here, not at the top, to keep the DAG file quick to parse
    import pandas as pd

    sales = pd.read_parquet("/data/forecast/daily_sales.parquet")
    weekly = sales.groupby(["store_id", pd.Grouper(key="day", freq="W")])["units"].sum()
    weekly.to_frame().to_parquet("/data/forecast/weekly.parquet")
