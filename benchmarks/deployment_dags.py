"""What ``benchmarks.airflow_deployment`` puts in the deployment's DAGs folder: one DAG file per
row (its runs read from a JSON file beside it, so the file renders no template) and a loop-lag
probe trigger that runs in the same triggerer as the waits."""

from __future__ import annotations

ROW_DAG = '''"""Benchmark row {dag_id}: {per_run} waits per run ({approach}) on Glue runs that
already exist, named by the run's conf (Airflow 3.3 ships the whole serialized DAG with every
trigger it starts in the triggerer, so a row is many small runs, not one huge DAG)."""
from airflow.sdk import DAG

with DAG("{dag_id}", schedule=None, catchup=False, max_active_runs=100000):
    if "{approach}" == "async_hooks":
        from async_hooks.airflow import WaitForJobSensor

        for index in range({per_run}):
            WaitForJobSensor(
                task_id=f"w{{index}}",
                provider="aws",
                kind="glue",
                job_id="{{{{ dag_run.conf['runs'][%d][1] }}}}" % index,
                hook_kwargs={{"conn_id": "moto"}},
                wait_kwargs={{
                    "job_name": "{{{{ dag_run.conf['runs'][%d][0] }}}}" % index,
                    "poll_interval": {poll},
                    "timeout": 7200,
                }},
            )
    else:
        from airflow.providers.amazon.aws.sensors.glue import GlueJobSensor

        for index in range({per_run}):
            GlueJobSensor(
                task_id=f"w{{index}}",
                job_name="{{{{ dag_run.conf['runs'][%d][0] }}}}" % index,
                run_id="{{{{ dag_run.conf['runs'][%d][1] }}}}" % index,
                aws_conn_id="moto",
                deferrable=True,
                poke_interval={poll},
                max_retries=100000,
            )
'''

PROBE_DAG = '''"""The loop-lag probe, one run per benchmark row, in the same triggerer."""
from airflow.sdk import DAG

from lag_probe import LagProbe

with DAG("lag_probe", schedule=None, catchup=False, max_active_runs=100):
    LagProbe(task_id="probe", stop_file="{{{{ dag_run.conf['stop_file'] }}}}")
'''

LAG_PROBE = '''"""A trigger that measures how late the triggerer's loop wakes it (every 50 ms) until a file
appears; its event carries the lag percentiles. It starts in the triggerer (no worker) and
resumes on a worker only to return them as its XCom."""
import asyncio
import os
import time

from airflow.sdk import BaseOperator
from airflow.triggers.base import BaseTrigger, StartTriggerArgs, TriggerEvent

STEP = 0.05


class LagProbeTrigger(BaseTrigger):
    def __init__(self, stop_file):
        super().__init__()
        self.stop_file = stop_file

    def serialize(self):
        return ("lag_probe.LagProbeTrigger", {{"stop_file": self.stop_file}})

    async def run(self):
        lags = []
        while not os.path.exists(self.stop_file):
            began = time.monotonic()
            await asyncio.sleep(STEP)
            lags.append(time.monotonic() - began - STEP)
        lags.sort()
        pick = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))] if lags else None
        yield TriggerEvent({{"samples": len(lags), "p50": pick(0.5), "p99": pick(0.99),
                            "max": lags[-1] if lags else None}})


class LagProbe(BaseOperator):
    template_fields = ("stop_file",)
    start_from_trigger = True

    def __init__(self, *, stop_file, **kwargs):
        super().__init__(**kwargs)
        self.stop_file = stop_file
        self.start_trigger_args = StartTriggerArgs(
            trigger_cls="lag_probe.LagProbeTrigger",
            trigger_kwargs={{"stop_file": stop_file}},
            next_method="execute_complete",
            next_kwargs=None,
            timeout=None,
        )

    def execute_complete(self, context, event=None):
        return event
'''.replace("{{", "{").replace("}}", "}")
