"""What the replication-group tables share: waiting for a group's status or its end, reading it
back as a user does (DescribeReplicationGroups, DescribeCacheClusters, the node itself through
redis-py), and making and removing the fixture groups the rows act on. No rows of its own."""

import itertools

import redis
from botocore.exceptions import ClientError

from flowcheck import check, poll

TABLES = []  # helpers only

WAIT = 90  # seconds a group may take to become available or go away


def group(ctx, group_id):
    return ctx.client.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]


def wait_available(ctx, group_id):
    return poll(f"{group_id} available", WAIT,
                lambda: (lambda g: g if g["Status"] == "available" else None)(group(ctx, group_id)))


def wait_status(ctx, group_id, status):
    return poll(f"{group_id} {status}", WAIT,
                lambda: (lambda g: g if g["Status"] == status else None)(group(ctx, group_id)))


def gone(ctx, group_id):
    try:
        group(ctx, group_id)
        return False
    except ClientError as error:
        return error.response["Error"]["Code"] == "ReplicationGroupNotFoundFault"


def delete_group(ctx, group_id):
    """Deletes the group (once it has settled) and waits until it is gone."""
    if gone(ctx, group_id):
        return
    poll(f"{group_id} settled", WAIT, lambda: group(ctx, group_id)["Status"] in ("available", "create-failed"))
    ctx.client.delete_replication_group(ReplicationGroupId=group_id)
    poll(f"{group_id} deleted", WAIT, lambda: gone(ctx, group_id))


def clusters(ctx, group_id):
    members = group(ctx, group_id)["MemberClusters"]
    return [ctx.client.describe_cache_clusters(CacheClusterId=m, ShowCacheNodeInfo=True)["CacheClusters"][0]
            for m in members]


def first_cluster(ctx, group_id):
    return clusters(ctx, group_id)[0]


def primary_endpoint(described):
    node_group = described["NodeGroups"][0]
    endpoint = node_group.get("PrimaryEndpoint") or described["ConfigurationEndpoint"]
    return endpoint["Address"], endpoint["Port"]


def node(described, **kwargs):
    """A redis-py client of the group's primary (or configuration) endpoint."""
    host, port = primary_endpoint(described)
    return redis.Redis(host=host, port=port, socket_timeout=5, socket_connect_timeout=5, **kwargs)


def member_node(cluster, **kwargs):
    endpoint = cluster["CacheNodes"][0]["Endpoint"]
    return redis.Redis(host=endpoint["Address"], port=endpoint["Port"], socket_timeout=5,
                       socket_connect_timeout=5, **kwargs)


def refused(call, code):
    """The AWS error code `call()` answers with (a check fails if it succeeds)."""
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"] == code
    return False


def counter_fixture(extra=None):
    """A fixture whose `ids` give a new group id per call (each Create row makes its own)."""
    def setup(ctx):
        fixture = {"ids": itertools.count(1)}
        if extra:
            fixture.update(extra(ctx))
        return fixture
    return setup


def new_id(ctx, fixture, kind="rg"):
    return f"{kind}{ctx.run}-{next(fixture['ids'])}"


def create_fixture_group(ctx, group_id, **params):
    """A fixture group, available, registered for deletion if the table fails."""
    ctx.client.create_replication_group(ReplicationGroupId=group_id, ReplicationGroupDescription="fixture",
                                        **params)
    ctx.created.append(lambda: delete_group(ctx, group_id))
    return wait_available(ctx, group_id)


def check_refused_plain(described):
    """A plaintext client gets no answer from a node that requires TLS."""
    try:
        node(described).ping()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.ResponseError):
        return
    check(False, "a plaintext PING was answered by a node that requires TLS")


def tls_node(described, **kwargs):
    return node(described, ssl=True, ssl_cert_reqs="none", **kwargs)
