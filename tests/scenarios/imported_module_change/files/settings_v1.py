"""Settings shared by the sales DAGs."""

REGION_COLUMNS = ["country", "region"]
CURRENCY = "EUR"
