"""Nightly SparkReco run for Apache Airflow (2.4 or later).

One task runs the whole job through `SparkRecoOperator`, a small operator on Airflow's own
SubprocessHook (what BashOperator uses): the job's output streams into the task log line by
line, `execution_timeout` stops it, and a killed or timed-out task sends SIGTERM to the job,
which stops cleanly (exit 143, nothing published). `as_of` is the end of the data interval, so
a retry or a backfill of a given night produces exactly the same tables.

Exit codes decide what a retry can fix (the README's table):
  0 success · 1 internal error · 2 configuration/usage · 3 input data · 4 engine · 5 output/publish
  (for instance the output lock is held) · 130/143 stopped by a signal.
Only the transient ones (4, 5, 130, 143) are retried; 1, 2 and 3 need a person, so the task
fails at once without using its retries.

Install the `sparkreco` command on the workers first (README, "Install the sparkreco command");
set SPARKRECO_BIN if it is not on PATH. Keep secrets such as SPARKRECO_PSEUDONYM_KEY in an Airflow
connection or secret backend, never in this file. The task runs in SPARKRECO_WORKDIR; relative
paths in the configuration file are taken from the file's own folder, so the working directory only
matters for paths given with --set.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow import DAG
from airflow.datasets import Dataset
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.hooks.subprocess import SubprocessHook
from airflow.models.baseoperator import BaseOperator

SPARKRECO_BIN = os.environ.get("SPARKRECO_BIN", "sparkreco")
CONFIG = os.environ.get("SPARKRECO_CONFIG", "/opt/sparkreco/conf/local.json")
WORKDIR = os.environ.get("SPARKRECO_WORKDIR", "/opt/sparkreco")
OUTPUT_URI = os.environ.get("SPARKRECO_OUTPUT_URI", "file:///data/sparkreco/output")

# The command after the executable, as the CLI parses it; {config} and {as_of} are filled in per run.
# (tests/SparkReco.Tests/Scheduling checks these tokens against the CLI's real options.)
# Evaluation retrains every model on the train part, about doubling the collaborative-filtering work, so the
# nightly run leaves it out whatever the configuration says; schedule `sparkreco evaluate --config ...` apart
# (e.g. weekly) to track quality.
COMMAND_TEMPLATE = ["run", "--config", "{config}", "--as-of", "{as_of}", "--set", "Evaluation:Mode=none"]

# Exit codes no retry can fix: the task fails at once.
NOT_RETRYABLE = {1: "an internal error", 2: "configuration or usage", 3: "input data"}


class SparkRecoOperator(BaseOperator):
    """Runs `sparkreco run` for the data interval's end, streaming its output into the task log."""

    template_fields = ("config",)

    def __init__(self, *, config: str, workdir: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.workdir = workdir
        self._hook = SubprocessHook()

    def execute(self, context):
        as_of = context["data_interval_end"].strftime("%Y-%m-%dT%H:%M:%SZ")
        arguments = [token.format(config=self.config, as_of=as_of) for token in COMMAND_TEMPLATE]
        result = self._hook.run_command(
            command=[SPARKRECO_BIN, *arguments],
            cwd=self.workdir,
        )
        code = result.exit_code
        if code in NOT_RETRYABLE:
            raise AirflowFailException(f"sparkreco failed on {NOT_RETRYABLE[code]} (exit {code}); not retried, see the log above")
        if code != 0:
            raise AirflowException(f"sparkreco exited {code} (transient); Airflow retries the task")

    def on_kill(self):
        # SIGTERM: the job stops cleanly and publishes nothing; the previous output stays in place.
        self._hook.send_sigterm()


with DAG(
    dag_id="sparkreco_nightly",
    start_date=datetime(2026, 11, 1),
    schedule="0 3 * * *",
    catchup=False,
    max_active_runs=1,  # the output lock would refuse a second run anyway
    default_args={"retries": 2, "retry_delay": timedelta(minutes=10), "retry_exponential_backoff": True},
    tags=["recommendations"],
) as dag:
    SparkRecoOperator(
        task_id="run",
        config=CONFIG,
        workdir=WORKDIR,
        execution_timeout=timedelta(hours=6),
        # Downstream DAGs scheduled on this dataset start when a night's tables are published.
        outlets=[Dataset(OUTPUT_URI)],
    )
