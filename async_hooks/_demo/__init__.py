"""The demo behind ``async-hooks demo``: jobs on an embedded moto server (the ``demo`` extra:
aiobotocore, moto, boto3) or on a local REST job service (``--kind http``), waited on with
async_hooks and, for AWS, with boto3 as people write it and as a careful poller does."""
