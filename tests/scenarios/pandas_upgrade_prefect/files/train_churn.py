from prefect import flow, task

from churn.extract import extract_customers
from churn.features import build_features
from churn.train import train_model


@flow(name="train_churn", retries=0)
def train_churn():
    customers = task(extract_customers, name="extract")()
    feats = task(build_features, name="features", retries=2, retry_delay_seconds=300)(customers)
    task(train_model, name="train")(feats)
