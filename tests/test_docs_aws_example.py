"""The AWS page's example: a Glue run waited on against the moto_server fixture."""

from async_hooks import AsyncAwsHook


async def test_wait_for_a_glue_run(moto_server):
    moto_server.set_transition("glue::job_run", {"progression": "manual", "times": 2})
    async with AsyncAwsHook(endpoint_url=moto_server.url, region_name="us-east-1") as hook:
        await hook.call("glue", "create_job", Name="etl", Role="role", Command={"Name": "glueetl"})
        run = await hook.call("glue", "start_job_run", JobName="etl")
        result = await hook.wait_for_job(
            "glue", run["JobRunId"], job_name="etl", poll_interval=0.05
        )
    assert result.status == "SUCCEEDED"
    assert result.polls >= 2
