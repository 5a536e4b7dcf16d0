"""Weekly KPI report: one row per region, written as CSV for the finance mailer."""
import argparse
import csv

import pandas as pd


def summarize(df):
    rows = []
    for region, values in df.iteritems():
        rows.append({"region": region, "revenue": values.sum(), "orders": values.count()})
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--week-ending", required=True)
    args = parser.parse_args()
    print("reading /data/kpis/weekly.parquet")
    df = pd.read_parquet("/data/kpis/weekly.parquet").pivot(index="day", columns="region", values="revenue")
    print(f"building report for {len(df.columns)} regions")
    rows = summarize(df)
    with open(f"/data/kpis/report-{args.week_ending}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["region", "revenue", "orders"])
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
