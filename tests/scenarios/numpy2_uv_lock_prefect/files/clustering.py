"""Customer segments: k-means over RFM features."""
from prefect import task


@task(retries=1)
def cluster_customers(features_path: str) -> str:
    from sklearn.cluster import KMeans
    import pandas as pd

    rfm = pd.read_parquet(features_path)
    model = KMeans(n_clusters=6, n_init=10, random_state=7).fit(rfm[["recency", "frequency", "monetary"]])
    rfm["segment"] = model.labels_
    out = features_path.replace("rfm", "segments")
    rfm.to_parquet(out)
    return out
