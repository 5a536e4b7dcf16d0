"""Client for the clickstream collector's export API (formatted with black 24)."""
import requests


class CollectorClient:
    def __init__(self, base_url, token):
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get_page(self, url, params):
        resp = self.session.get(url, params=params, timeout=30)
        resp.raise_for_status()
        return resp.json()
