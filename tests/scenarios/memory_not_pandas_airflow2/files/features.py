import pandas as pd

# (scoring features)
# (scoring features)
# (scoring features)
# (scoring features)
# (scoring features)
# (scoring features)
# (scoring features)
# (scoring features)
# (scoring features)
# (scoring features)
# (scoring features)
# (scoring features)
# (scoring features)
# (scoring features)
# (scoring features)
# (scoring features)
# (scoring features)
# (scoring features)
# (scoring features)

def load_events(path):
    return pd.read_parquet(path, columns=["customer_id", "item", "n"])


def build_features(path="/data/events/day.parquet"):
    events = load_events(path)
    print(f"pivoting {len(events):,} customer events")
    # one column per item a customer touched; the item catalogue keeps growing
    wide = events.pivot_table(index="customer_id", columns="item", values="n", aggfunc="sum")
    return wide.fillna(0)
