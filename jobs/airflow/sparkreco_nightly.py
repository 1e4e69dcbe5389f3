"""Nightly SparkReco run for Apache Airflow (2.x).

One task runs the whole job. `as_of` is the end of the data interval, so a backfill or a
retry of a given night produces exactly the same tables (the job is idempotent and publishes
atomically). Exit codes decide what a retry can fix:

  0 success - 2 configuration/usage - 3 input data - 4 engine - 5 output/publish (e.g. locked)

Only 4 and 5 are worth retrying; 2 and 3 need a person, so the task fails fast on them.
Set SPARKRECO_HOME to the folder holding the published CLI, and keep secrets such as
SPARKRECO_PSEUDONYM_KEY in an Airflow connection or secret backend, never in this file.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow import DAG
from airflow.exceptions import AirflowFailException
from airflow.operators.python import PythonOperator

SPARKRECO = os.environ.get("SPARKRECO_HOME", "/opt/sparkreco")
CONFIG = os.environ.get("SPARKRECO_CONFIG", f"{SPARKRECO}/conf/local.json")
NOT_RETRYABLE = {2: "configuration or usage", 3: "input data"}


def run_sparkreco(data_interval_end, **_):
    import subprocess

    as_of = data_interval_end.strftime("%Y-%m-%dT%H:%M:%SZ")
    command = [f"{SPARKRECO}/sparkreco", "run", "--config", CONFIG, "--as-of", as_of]
    completed = subprocess.run(command, check=False)
    if completed.returncode in NOT_RETRYABLE:
        raise AirflowFailException(f"sparkreco failed on {NOT_RETRYABLE[completed.returncode]} (exit {completed.returncode}); see the task log")
    if completed.returncode != 0:
        raise RuntimeError(f"sparkreco exited {completed.returncode}; retrying")


with DAG(
    dag_id="sparkreco_nightly",
    start_date=datetime(2026, 11, 1),
    schedule="0 3 * * *",
    catchup=False,
    max_active_runs=1,  # the output lock would refuse a second run anyway
    default_args={"retries": 2, "retry_delay": timedelta(minutes=10)},
    tags=["recommendations"],
) as dag:
    PythonOperator(task_id="run", python_callable=run_sparkreco)
