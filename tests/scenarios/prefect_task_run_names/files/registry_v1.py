"""Resolves the recommendation model from the registry's aliases."""
import json


def resolve_model_uri(registry_path):
    with open(registry_path) as f:
        aliases = json.load(f)["aliases"]
    return aliases["production"]
