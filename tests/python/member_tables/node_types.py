"""Rows of CacheNodeType on CreateReplicationGroup and ModifyReplicationGroup: the node type is
each node's memory, read back as `INFO memory` `maxmemory` on every member node (the type's
memory less the default 25% `reserved-memory-percent`, as AWS reports it)."""

from flowcheck import check_eq
from member_tables.harness import Member, Table
from member_tables.rg_support import (
    clusters,
    counter_fixture,
    create_fixture_group,
    delete_group,
    group,
    member_node,
    new_id,
    wait_available,
)

GIB = 1024 ** 3
MEMORY_GIB = {"cache.t4g.micro": 0.5, "cache.t4g.small": 1.37, "cache.t4g.medium": 3.09}


def maxmemory_of(node_type):
    memory = int(MEMORY_GIB[node_type] * GIB)
    return memory - memory * 25 // 100


def nodes_run(node_type):
    """An effect: the row's group is available with `node_type`, and each node's maxmemory is
    that type's."""
    def run(ctx, fixture, response, params):
        group_id = params["ReplicationGroupId"]
        described = wait_available(ctx, group_id)
        check_eq(described["CacheNodeType"], node_type(ctx, fixture), "CacheNodeType")
        for cluster in clusters(ctx, group_id):
            maxmemory = member_node(cluster).info("memory")["maxmemory"]
            check_eq(maxmemory, maxmemory_of(node_type(ctx, fixture)),
                     f"{cluster['CacheClusterId']}'s maxmemory")
    return run


def created(ctx, fixture, response, params):
    delete_group(ctx, params["ReplicationGroupId"])


CREATE = [
    Member("CacheNodeType", "cache.t4g.small", nodes_run(lambda ctx, f: "cache.t4g.small"),
           invalid="cache.x1.huge", error="InvalidParameterValue"),
]


def single(ctx):
    group_id = f"memory{ctx.run}"
    create_fixture_group(ctx, group_id, NumCacheClusters=2, CacheNodeType="cache.t4g.micro")
    return {"id": group_id}


def next_type(ctx, fixture):
    """The node type a call asks for: one the group does not run yet (kept for the effect)."""
    current = group(ctx, fixture["id"])["CacheNodeType"]
    fixture["asked"] = "cache.t4g.medium" if current == "cache.t4g.small" else "cache.t4g.small"
    return fixture["asked"]


MODIFY = [
    Member("CacheNodeType", next_type, nodes_run(lambda ctx, f: f["asked"]),
           invalid="cache.x1.huge", error="InvalidParameterValue"),
]

TABLES = [
    Table("CreateReplicationGroup", CREATE,
          base=lambda ctx, f: {"ReplicationGroupId": new_id(ctx, f, "mem"),
                               "ReplicationGroupDescription": "member table", "NumCacheClusters": 1},
          setup=counter_fixture(), after_valid=created),
    Table("ModifyReplicationGroup", MODIFY,
          base=lambda ctx, f: {"ReplicationGroupId": f["id"], "ApplyImmediately": True},
          setup=single, teardown=lambda ctx, f: delete_group(ctx, f["id"]),
          after_valid=lambda ctx, f, response, params: wait_available(ctx, f["id"])),
]
