"""Renders the weekly newsletter from Jinja templates."""
import sys

from jinja2 import Environment, FileSystemLoader


def main(out_dir):
    env = Environment(loader=FileSystemLoader("/opt/airflow/dags/newsletter/templates"))
    html = env.get_template("weekly.html").render(week=sys.argv[2])
    with open(f"{out_dir}/weekly.html", "w") as f:
        f.write(html)


if __name__ == "__main__":
    main(sys.argv[1])
