"""Rows of ModifyReplicationGroup, on fixture groups the rows of a table share (so their order
matters: a row may build on the one before). Every call of the main table also sets the
description, so the ReplicationGroupId row has an effect to see; each change is read back where
a user sees it (DescribeReplicationGroups, the member clusters, the node through redis-py)."""

import json
import urllib.request

import redis

from flowcheck import check, check_eq
from member_tables.harness import Member, Table
from member_tables.replication_groups import TOPIC
from member_tables.rg_support import (
    clusters,
    create_fixture_group,
    delete_group,
    first_cluster,
    group,
    member_node,
    tls_node,
    wait_available,
)

BASE_DESCRIPTION = "modified by the member table"
TOKEN = "a-valid-token-0123456789"
TOKEN2 = "another-token-0123456789"
TOKEN3 = "a-third-token-0123456789"


def pair(ctx):
    group_id = f"mod{ctx.run}"
    create_fixture_group(ctx, group_id, NumCacheClusters=2)
    name = ctx.name("mod-params")
    ctx.client.create_cache_parameter_group(CacheParameterGroupName=name, CacheParameterGroupFamily="redis7",
                                            Description="member table")
    ctx.client.modify_cache_parameter_group(CacheParameterGroupName=name, ParameterNameValues=[
        {"ParameterName": "maxmemory-policy", "ParameterValue": "allkeys-lru"}])
    return {"id": group_id, "parameter_group": name}


def remove_pair(ctx, fixture):
    delete_group(ctx, fixture["id"])
    ctx.client.delete_cache_parameter_group(CacheParameterGroupName=fixture["parameter_group"])


def settled(ctx, fixture, response, params):
    wait_available(ctx, fixture["id"])


def after(check_of):
    """An effect read once the group is available again."""
    def run(ctx, fixture, response, params):
        check_of(ctx, fixture, wait_available(ctx, fixture["id"]), params)
    return run


def reported(member, expected):
    return after(lambda ctx, f, g, p: check_eq(g.get(member), expected, member))


def on_clusters(what, read, expected):
    def run(ctx, f, g, p):
        for cluster in clusters(ctx, f["id"]):
            check_eq(read(cluster), expected, f"{cluster['CacheClusterId']}'s {what}")
    return after(run)


def description_effect(ctx, fixture, described, params):
    check_eq(described["Description"], params["ReplicationGroupDescription"], "Description")


def metadata_only(ctx, fixture, response, params):
    # AWS applies a description at once and the group never leaves `available`.
    check_eq(response["ReplicationGroup"]["Status"], "available", "the status a description change answers")
    check_eq(response["ReplicationGroup"]["Description"], "payments v2", "the Description answered")
    description_effect(ctx, fixture, group(ctx, fixture["id"]), params)


def roles(ctx, group_id):
    members = group(ctx, group_id)["NodeGroups"][0]["NodeGroupMembers"]
    return {m["CacheClusterId"]: m["CurrentRole"] for m in members}


def primary_effect(ctx, fixture, described, params):
    wanted = params["PrimaryClusterId"]
    check_eq(roles(ctx, fixture["id"])[wanted], "primary", f"{wanted}'s role")
    cluster = [c for c in clusters(ctx, fixture["id"]) if c["CacheClusterId"] == wanted][0]
    check_eq(member_node(cluster).info("replication")["role"], "master", f"{wanted}'s node role")


def parameter_group_effect(ctx, fixture, described, params):
    for cluster in clusters(ctx, fixture["id"]):
        check_eq(cluster["CacheParameterGroup"]["CacheParameterGroupName"], fixture["parameter_group"],
                 "the parameter group")
        check_eq(member_node(cluster).info("memory")["maxmemory_policy"], "allkeys-lru", "maxmemory-policy")


def next_primary(ctx, fixture):
    current = [c for c, r in roles(ctx, fixture["id"]).items() if r == "primary"][0]
    return [c for c in roles(ctx, fixture["id"]) if c != current][0]


def ipv4_discovery(ctx, fixture, described, params):
    check_eq(described["Description"], BASE_DESCRIPTION, "the base's change applied with IpDiscovery")
    check_eq((described["NetworkType"], described["IpDiscovery"]), ("ipv4", "ipv4"), "NetworkType and IpDiscovery")
    address = described["NodeGroups"][0]["PrimaryEndpoint"]["Address"]
    check(address.count(".") == 3 and ":" not in address, f"an IPv4 primary endpoint: {address}")


PAIR = [
    Member("ReplicationGroupId", lambda ctx, f: f["id"],
           after(lambda ctx, f, g, p: check_eq(g["Description"], BASE_DESCRIPTION, "the base's Description")),
           invalid="no-such-group", error="ReplicationGroupNotFoundFault"),
    Member("ReplicationGroupDescription", "payments v2", metadata_only, invalid="x" * 300,
           error="InvalidParameterValue"),
    Member("PrimaryClusterId", next_primary, after(primary_effect), invalid="no-such-cluster",
           error="InvalidParameterValue"),  # "Cache cluster ... is not a member of replication group ..."
    Member("SnapshottingClusterId", lambda ctx, f: f"{f['id']}-002",
           after(lambda ctx, f, g, p: check_eq(g.get("SnapshottingClusterId"), p["SnapshottingClusterId"],
                                               "SnapshottingClusterId")),
           invalid="no-such-cluster", error="InvalidParameterValue"),
    Member("AutomaticFailoverEnabled", True, reported("AutomaticFailover", "enabled"),
           no_invalid="a boolean: botocore sends any value as true or false"),
    Member("MultiAZEnabled", True, reported("MultiAZ", "enabled"),
           no_invalid="a boolean: botocore sends any value as true or false"),
    Member("SecurityGroupIds", ["sg-0123456789abcdef1"],
           on_clusters("SecurityGroups", lambda c: [s["SecurityGroupId"] for s in c["SecurityGroups"]],
                       ["sg-0123456789abcdef1"]),
           invalid=["not-a-security-group"], error="InvalidParameterValue"),
    Member("PreferredMaintenanceWindow", "wed:03:00-wed:04:30",
           on_clusters("PreferredMaintenanceWindow", lambda c: c["PreferredMaintenanceWindow"],
                       "wed:03:00-wed:04:30"),
           invalid="wed:03:00-wed:03:30", error="InvalidParameterValue"),
    Member("NotificationTopicArn", TOPIC,
           on_clusters("notification topic", lambda c: c.get("NotificationConfiguration", {}).get("TopicArn"), TOPIC),
           invalid="not-a-topic", error="InvalidParameterValue"),
    Member("NotificationTopicStatus", "inactive",
           on_clusters("notification topic status",
                       lambda c: c.get("NotificationConfiguration", {}).get("TopicStatus"), "inactive"),
           invalid="paused", error="InvalidParameterValue"),
    Member("CacheParameterGroupName", lambda ctx, f: f["parameter_group"], after(parameter_group_effect),
           invalid="no-such-parameter-group", error="CacheParameterGroupNotFound"),
    Member("AutoMinorVersionUpgrade", False, reported("AutoMinorVersionUpgrade", False),
           no_invalid="a boolean: botocore sends any value as true or false"),
    Member("SnapshotRetentionLimit", 5, reported("SnapshotRetentionLimit", 5), invalid=36,
           error="InvalidParameterValue"),
    Member("SnapshotWindow", "07:00-08:30", reported("SnapshotWindow", "07:00-08:30"), invalid="25:00-26:00",
           error="InvalidParameterValue"),
    # ipv4 is the only discovery of an ipv4 network (every one here): a no-op AWS accepts.
    Member("IpDiscovery", "ipv4", after(ipv4_discovery), invalid="ipv6", error="InvalidParameterCombination"),
]


def fast_forward(ctx, group_id):
    """The maintenance window, now (the documented control route)."""
    request = urllib.request.Request(f"{ctx.endpoint}/_maintenance/{group_id}", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)


def node_types(ctx, fixture):
    """The node type each call asks for: one the group does not have yet."""
    current = group(ctx, fixture["id"])["CacheNodeType"]
    return "cache.t4g.small" if current != "cache.t4g.small" else "cache.t4g.medium"


def applied_at_once(ctx, fixture, response, params):
    described = wait_available(ctx, fixture["id"])
    check_eq(described["CacheNodeType"], params["CacheNodeType"], "CacheNodeType, applied at once")
    check_eq(first_cluster(ctx, fixture["id"])["PendingModifiedValues"], {}, "nothing left pending")


def apply_pending(ctx, fixture, response, params):
    fast_forward(ctx, fixture["id"])
    wait_available(ctx, fixture["id"])


NODE_TYPE = [
    Member("ApplyImmediately", True, applied_at_once,
           no_invalid="a boolean: botocore sends any value as true or false"),
]


def single(ctx):
    group_id = f"modone{ctx.run}"
    create_fixture_group(ctx, group_id, NumCacheClusters=1)
    return {"id": group_id}


def tls_group(ctx):
    group_id = f"modtls{ctx.run}"
    create_fixture_group(ctx, group_id, NumCacheClusters=1, TransitEncryptionEnabled=True, AuthToken=TOKEN)
    return {"id": group_id}


def remove(ctx, fixture):
    delete_group(ctx, fixture["id"])


def answers(described, password):
    try:
        return bool(tls_node(described, password=password).ping())
    except (redis.exceptions.AuthenticationError, redis.exceptions.ResponseError):
        return False


def rotated(ctx, fixture, response, params):
    described = wait_available(ctx, fixture["id"])
    check(answers(described, params["AuthToken"]), "the new token is accepted")
    check_eq(described["AuthTokenEnabled"], True, "AuthTokenEnabled")


def set_only(ctx, fixture, response, params):
    described = wait_available(ctx, fixture["id"])
    check(answers(described, params["AuthToken"]), "the token SET is accepted")
    check(not answers(described, TOKEN2), "a token before the SET is refused")


AUTH = [
    Member("AuthToken", TOKEN2, rotated, invalid="short", error="InvalidParameterValue"),
    Member("AuthTokenUpdateStrategy", "SET", set_only, invalid="REPLACE", error="InvalidParameterValue"),
]

TABLES = [
    Table("ModifyReplicationGroup", PAIR,
          base=lambda ctx, f: {"ReplicationGroupId": f["id"], "ApplyImmediately": True,
                               "ReplicationGroupDescription": BASE_DESCRIPTION},
          setup=pair, teardown=remove_pair, after_valid=settled),
    Table("ModifyReplicationGroup", NODE_TYPE,
          base=lambda ctx, f: {"ReplicationGroupId": f["id"], "CacheNodeType": node_types(ctx, f)},
          setup=single, teardown=remove, after_valid=apply_pending),
    Table("ModifyReplicationGroup", AUTH,
          base=lambda ctx, f: {"ReplicationGroupId": f["id"], "ApplyImmediately": True, "AuthToken": TOKEN3,
                               "AuthTokenUpdateStrategy": "ROTATE"},
          setup=tls_group, teardown=remove, after_valid=settled),
]


def plain_group(prefix, **params):
    def setup(ctx):
        group_id = f"{prefix}{ctx.run}"
        create_fixture_group(ctx, group_id, NumCacheClusters=1, **params)
        return {"id": group_id}
    return setup


def engine_effect(ctx, fixture, response, params):
    described = wait_available(ctx, fixture["id"])
    check_eq(described["Engine"], "valkey", "Engine")
    check("valkey_version" in member_node(first_cluster(ctx, fixture["id"])).info("server"), "the node runs valkey")


def version_effect(ctx, fixture, response, params):
    wait_available(ctx, fixture["id"])
    cluster = first_cluster(ctx, fixture["id"])
    check(cluster["EngineVersion"].startswith("8.1"), f"EngineVersion {cluster['EngineVersion']}")
    check(member_node(cluster).info("server")["valkey_version"].startswith("8.1"), "the node's valkey_version")


def plain_answers(cluster):
    try:
        return bool(member_node(cluster).ping())
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
        return False


def tls_answers(cluster):
    endpoint = cluster["CacheNodes"][0]["Endpoint"]
    client = redis.Redis(host=endpoint["Address"], port=endpoint["Port"], socket_timeout=5, ssl=True,
                         ssl_cert_reqs="none")
    return bool(client.ping())


def transit_preferred(ctx, fixture, response, params):
    described = wait_available(ctx, fixture["id"])
    check_eq((described["TransitEncryptionEnabled"], described.get("TransitEncryptionMode")), (True, "preferred"),
             "in-transit encryption")
    cluster = first_cluster(ctx, fixture["id"])
    check(tls_answers(cluster) and plain_answers(cluster), "TLS and plaintext clients both answered")


def transit_required(ctx, fixture, response, params):
    described = wait_available(ctx, fixture["id"])
    check_eq(described.get("TransitEncryptionMode"), "required", "TransitEncryptionMode")
    cluster = first_cluster(ctx, fixture["id"])
    check(tls_answers(cluster), "a TLS client is answered")
    check(not plain_answers(cluster), "a plaintext client is not answered once TLS is required")


ENGINE = [
    Member("Engine", "valkey", engine_effect, invalid="memcached", error="InvalidParameterValue"),
]

ENGINE_VERSION = [
    Member("EngineVersion", "8.1", version_effect, invalid="99.9", error="InvalidParameterCombination"),
]

# In order: off -> preferred (TransitEncryptionEnabled with the base's mode), then required.
TRANSIT = [
    Member("TransitEncryptionEnabled", True, transit_preferred, invalid=False,
           error="InvalidParameterCombination"),  # a mode with encryption off
    Member("TransitEncryptionMode", "required", transit_required, invalid="loose",
           error="InvalidParameterValue"),
]


def users_fixture(ctx):
    from member_tables.replication_groups import user_group_fixture
    fixture = user_group_fixture(ctx)
    fixture["id"] = f"modug{ctx.run}"
    create_fixture_group(ctx, fixture["id"], NumCacheClusters=1, TransitEncryptionEnabled=True)
    return fixture


def remove_users_fixture(ctx, fixture):
    from member_tables.replication_groups import remove_user_group
    delete_group(ctx, fixture["id"])
    remove_user_group(ctx, fixture)


def user_group_ids(ctx, fixture):
    return wait_available(ctx, fixture["id"])["UserGroupIds"]


def users_apply(ctx, fixture, response, params):
    check_eq(user_group_ids(ctx, fixture), [fixture["user_group"]], "UserGroupIds")
    cluster = first_cluster(ctx, fixture["id"])
    endpoint = cluster["CacheNodes"][0]["Endpoint"]
    client = redis.Redis(host=endpoint["Address"], port=endpoint["Port"], socket_timeout=5, ssl=True,
                         ssl_cert_reqs="none", username=fixture["user_name"], password=fixture["password"])
    check(client.ping(), "the user group's user is let in with its password")
    check(not tls_answers_unauthenticated(cluster), "a client without the password is refused")


def tls_answers_unauthenticated(cluster):
    try:
        return tls_answers(cluster)
    except (redis.exceptions.AuthenticationError, redis.exceptions.ResponseError):
        return False


def users_gone(ctx, fixture, response, params):
    check_eq(user_group_ids(ctx, fixture), [], "UserGroupIds")
    check(tls_answers_unauthenticated(first_cluster(ctx, fixture["id"])), "the default user is open again")


def attach_users(ctx, fixture, response, params):
    if not user_group_ids(ctx, fixture):
        ctx.client.modify_replication_group(ReplicationGroupId=fixture["id"], ApplyImmediately=True,
                                            UserGroupIdsToAdd=[fixture["user_group"]])
        wait_available(ctx, fixture["id"])


USERS = [
    Member("UserGroupIdsToAdd", lambda ctx, f: [f["user_group"]], users_apply, invalid=["no-such-user-group"],
           error="UserGroupNotFound"),
    Member("UserGroupIdsToRemove", lambda ctx, f: [f["user_group"]], users_gone, invalid=["no-such-user-group"],
           error="UserGroupNotFound"),
    Member("RemoveUserGroups", True, users_gone,
           no_invalid="a boolean: botocore sends any value as true or false"),
]

def immediately(ctx, fixture):
    return {"ReplicationGroupId": fixture["id"], "ApplyImmediately": True}


TABLES += [
    Table("ModifyReplicationGroup", ENGINE, base=immediately,
          setup=plain_group("modeng"), teardown=remove, after_valid=settled),
    Table("ModifyReplicationGroup", ENGINE_VERSION,
          base=lambda ctx, f: {"ReplicationGroupId": f["id"], "ApplyImmediately": True},
          setup=plain_group("modver", Engine="valkey", EngineVersion="8.0"), teardown=remove, after_valid=settled),
    Table("ModifyReplicationGroup", TRANSIT,
          base=lambda ctx, f: {"ReplicationGroupId": f["id"], "ApplyImmediately": True,
                               "TransitEncryptionMode": "preferred"},
          setup=plain_group("modtlsm"), teardown=remove, after_valid=settled),
    Table("ModifyReplicationGroup", USERS, base=immediately,
          setup=users_fixture, teardown=remove_users_fixture, after_valid=attach_users),
]
