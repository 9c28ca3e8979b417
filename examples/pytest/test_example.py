# pip install elasticache-local pytest boto3 redis   (and redis-server on PATH)
import time

import redis


def primary_of(client, group_id):
    group = client.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]
    members = group["NodeGroups"][0]["NodeGroupMembers"]
    return next(m["CacheClusterId"] for m in members if m["CurrentRole"] == "primary")


def test_failover_keeps_the_primary_endpoint(elasticache_client):
    elasticache_client.create_replication_group(
        ReplicationGroupId="orders", ReplicationGroupDescription="orders",
        NumCacheClusters=3, AutomaticFailoverEnabled=True)
    elasticache_client.get_waiter("replication_group_available").wait(
        ReplicationGroupId="orders", WaiterConfig={"Delay": 1})
    group = elasticache_client.describe_replication_groups(ReplicationGroupId="orders")
    endpoint = group["ReplicationGroups"][0]["NodeGroups"][0]["PrimaryEndpoint"]
    cache = redis.Redis(host=endpoint["Address"], port=endpoint["Port"])
    cache.set("order:1", "paid")
    assert cache.wait(2, 5000) == 2  # both replicas have the write before the primary is killed
    old_primary = primary_of(elasticache_client, "orders")

    elasticache_client.test_failover(ReplicationGroupId="orders", NodeGroupId="0001")

    deadline = time.monotonic() + 60
    while primary_of(elasticache_client, "orders") == old_primary:
        assert time.monotonic() < deadline, "no replica was promoted within 60 s"
        time.sleep(0.2)
    # The primary endpoint follows the new primary, and the replicated write is there.
    assert redis.Redis(host=endpoint["Address"], port=endpoint["Port"]).get("order:1") == b"paid"


def test_every_test_starts_with_no_groups(elasticache_client):
    assert elasticache_client.describe_replication_groups()["ReplicationGroups"] == []
