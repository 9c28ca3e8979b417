"""pytest fixtures (registered through the `pytest11` entry point when the wheel is installed).

- `elasticache_local`: one server for the whole run, on a free loopback port, stopped with all its
  redis-server nodes at the end. Started only if a test asks for it.
- `elasticache_endpoint`: that server's URL, after `POST /_reset` (every test starts empty).
- `elasticache_client`: a boto3 ElastiCache client for it (dummy credentials, us-east-1).
"""

import pytest

from elasticache_local.server import Server


@pytest.fixture(scope="session")
def elasticache_local():
    with Server() as server:
        yield server


@pytest.fixture
def elasticache_endpoint(elasticache_local):
    elasticache_local.reset()
    return elasticache_local.endpoint_url


@pytest.fixture
def elasticache_client(elasticache_endpoint):
    import boto3  # here, not at import: the plugin loads in every pytest run of the environment

    return boto3.client(
        "elasticache",
        endpoint_url=elasticache_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
