"""Revenue by region over the last days, written to reporting.revenue_rollup."""
import argparse
import os

from sqlalchemy import create_engine

from queries import load_revenue, save_rollup


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--since", default="7d")
    args = parser.parse_args()
    engine = create_engine(os.environ["REPORTING_DB_URL"])
    print("connecting to warehouse as reporting_ro")
    with engine.connect() as conn:
        rows = load_revenue(conn, int(args.since.rstrip("d")))
        save_rollup(conn, rows)
    print(f"wrote {len(rows)} regions")


if __name__ == "__main__":
    main()
