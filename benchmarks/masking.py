"""Masking a Batch describe payload with 0, 200 and 1,024 learnt secrets.

What ``JobResult.to_dict(mask)`` and the Airflow event do to every terminal payload:
``json_safe(job, redactor)`` on one full AWS Batch ``JobDetail`` (a retried container job,
parsed by botocore from the JSON AWS sends: ~4 KB). The secrets are learnt as at run time:
pairs of an assumed role's secret key and session token, and Google access tokens. The
redactor is a role-assuming hook's (no secret of its own), so the 0 row masks nothing and the
ratio shows everything the learnt secrets cost.

``python -m benchmarks.masking [--quick]``. The three sets take turns in one process, a short
block of payloads each (the process's set swapped for each); each time is the least over its
blocks, in CPU time: a machine busy with other processes slows some blocks of each, not one
count's process.
"""

from __future__ import annotations

import json
import random
import string
import sys
import time
from typing import Any

COUNTS = (0, 200, 1024)
BLOCK = 20  # payloads masked per timed block
_B64 = string.ascii_letters + string.digits + "+/"
_URLSAFE = string.ascii_letters + string.digits + "-_"


def _secrets(count: int) -> list[str]:
    """``count`` run-time secrets: role key pairs (40-char key, ~700-char token with AWS's
    common prefix) and Google ``ya29.`` tokens, as the hooks learn them."""
    rng = random.Random(19)
    found: list[str] = []
    while len(found) < count:
        if len(found) % 3 == 2:
            found.append("ya29.a0Af" + "".join(rng.choices(_URLSAFE, k=rng.randint(140, 220))))
        else:
            found.append("".join(rng.choices(_B64, k=40)))
            token = "".join(rng.choices(_B64, k=rng.randint(600, 800)))
            found.append("IQoJb3JpZ2luX2VjE" + token)
    return found[:count]


def payload() -> dict[str, Any]:
    """One full Batch ``JobDetail`` as botocore returns it (parsed with Batch's model)."""
    import botocore.session
    from botocore.parsers import RestJSONParser

    from benchmarks.endpoint import _DONE, ID

    job_id = "5e1f0a2c-7b3d-4c8e-9f10-2a3b4c5d6e7f"
    job = json.loads(json.dumps(_DONE).replace(ID, job_id))
    job["container"]["environment"] += [
        {"name": f"ETL_SETTING_{i}", "value": f"s3://etl-data-prod/config/v{i}/settings.json"}
        for i in range(8)
    ]
    job["attempts"] = [
        dict(job["attempts"][0], statusReason=reason)
        for reason in ("Host EC2 instance terminated", "Task failed ELB health checks", "Done")
    ]
    job["dependsOn"] = [{"jobId": f"0{i}a1b2c3-d4e5-4f60-8172-93a4b5c6d7e8"} for i in range(3)]
    job["parameters"] = {"date": "2026-11-25", "input": "s3://etl-data-prod/in/2026/11/25/"}
    model = botocore.session.get_session().get_service_model("batch")
    shape = model.operation_model("DescribeJobs").output_shape
    body = json.dumps({"jobs": [job]}).encode()
    answer = {"body": body, "headers": {}, "status_code": 200}
    parsed: dict[str, Any] = RestJSONParser().parse(answer, shape)
    return dict(parsed["jobs"][0])


def run(quick: bool) -> dict[str, Any]:
    """Milliseconds of CPU per masked payload with 0, 200 and 1,024 learnt secrets, and the
    ratio of 1,024 to 0."""
    from async_hooks._core import learnt
    from async_hooks._core.redact import Redactor
    from async_hooks._jsonable import json_safe

    sets = {count: learnt.LearntSecrets() for count in COUNTS}
    for count, secrets in sets.items():
        for secret in _secrets(count):
            secrets.learn(secret)
    job, redact, process = payload(), Redactor(), learnt.LEARNT
    best = dict.fromkeys(COUNTS, float("inf"))
    try:
        for turn in range((50 if quick else 200) * len(COUNTS)):
            count = COUNTS[turn % len(COUNTS)]
            learnt.LEARNT = sets[count]
            started = time.process_time()
            for _ in range(BLOCK):
                json_safe(job, redact)
            best[count] = min(best[count], (time.process_time() - started) / BLOCK)
        _check(job, redact, sets)
    finally:
        learnt.LEARNT = process
    return {
        "payload_bytes": len(json.dumps(job)),
        "rows": [{"learnt": count, "ms": best[count] * 1000} for count in COUNTS],
        "ratio_1024_to_0": best[1024] / best[0],
    }


def _check(job: dict[str, Any], redact: Any, sets: dict[int, Any]) -> None:
    """The payload holds no secret, and the masking is real: with 1,024 learnt, an echoed
    secret is masked, also inside a longer word."""
    from async_hooks._core import learnt
    from async_hooks._jsonable import json_safe

    secrets = _secrets(1024)
    learnt.LEARNT = sets[1024]
    assert json_safe(job, redact) == json_safe(job)
    echoed = dict(job, statusReason=f"denied for {secrets[0]} and x{secrets[-1]}x")
    shown = json.dumps(json_safe(echoed, redact))
    assert secrets[0] not in shown and secrets[-1] not in shown


def markdown(result: dict[str, Any]) -> str:
    """The paragraph of the results' Markdown."""
    times = ", ".join(f"{row['learnt']:,} learnt {row['ms']:.2f} ms" for row in result["rows"])
    return (
        f"**Masking** a full Batch job description ({result['payload_bytes']:,} bytes of JSON,"
        f" `JobResult.to_dict(mask)`) with a role-assuming hook's redactor: {times} per payload"
        f" (1,024 / 0: {result['ratio_1024_to_0']:.2f}x).\n"
    )


def main() -> None:
    result = run(quick="--quick" in sys.argv)
    print(json.dumps(result, indent=2))
    print(markdown(result))


if __name__ == "__main__":
    main()
