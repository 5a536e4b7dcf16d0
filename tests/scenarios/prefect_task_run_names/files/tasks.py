from prefect import task

from recs.registry import resolve_model_uri


@task(retries=2)
def load_model():
    uri = resolve_model_uri("/models/recs/registry.json")
    print(f"loading {uri}")
    return uri
