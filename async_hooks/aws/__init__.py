"""The AWS provider: ``AsyncAwsHook`` on aiobotocore, its job kinds, and its error mapping.

Importing this package imports botocore; ``import async_hooks`` does not, until
``async_hooks.AsyncAwsHook`` is first used.
"""

from async_hooks.aws.hook import AsyncAwsHook, AwsSync
from async_hooks.aws.kinds import JobKind, get_job_kind, job_kinds, register_job_kind

__all__ = ["AsyncAwsHook", "AwsSync", "JobKind", "get_job_kind", "job_kinds", "register_job_kind"]
