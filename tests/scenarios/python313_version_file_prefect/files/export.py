"""Pushes the inventory export to the partner's SFTP drop."""
import subprocess

from prefect import task


@task(retries=1)
def push_export(path: str, host: str) -> None:
    from pipes import quote

    cmd = f"scp -q {quote(path)} inventory@{host}:/drop/"
    subprocess.run(cmd, shell=True, check=True)
