REVENUE_SQL = (
    "SELECT region, sum(amount) AS revenue FROM sales.orders "
    "WHERE ordered_at >= now() - interval '{days} days' GROUP BY region"
)


def load_revenue(conn, days):
    result = conn.execute(REVENUE_SQL.format(days=days))
    return result.fetchall()


def save_rollup(conn, rows):
    for region, revenue in rows:
        conn.execute(
            "INSERT INTO reporting.revenue_rollup (region, revenue) VALUES (%s, %s)", (region, revenue)
        )
