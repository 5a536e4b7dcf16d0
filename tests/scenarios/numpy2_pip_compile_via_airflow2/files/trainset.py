"""Training set for the propensity model."""
from propensity.columns import FEATURES, LABEL


def build_training_set(**context):
    import pandas as pd

    events = pd.read_parquet("/data/propensity/events.parquet")
    table = events.pivot_table(index="customer_id", columns="event", values="n", aggfunc="sum", fill_value=0)
    table[FEATURES + [LABEL]].to_parquet("/data/propensity/train.parquet")
