"""The demo behind ``async-hooks demo`` (needs the ``demo`` extra: aiobotocore, moto, boto3)."""
