"""Rows of the cache parameter group actions. A valid value is checked in what the Describe
actions report and, for Modify and Reset, on a node: the fixture is a one-node Redis cache
cluster using the group, and `maxmemory-policy` is read back from the node's `INFO memory`
(CONFIG is renamed on the nodes, as on AWS)."""


import redis
from botocore.exceptions import ClientError

from flowcheck import CheckFailed, check, check_eq, poll
from member_tables.harness import Member, Table
from member_tables.resource_paging import paging_members

FAMILY = "redis7"
FAMILY_DEFAULT_POLICY = "volatile-lru"  # redis7's maxmemory-policy, as AWS's defaults have it
POLICIES = ["allkeys-lru", "allkeys-lfu", "volatile-lfu", "allkeys-random"]


def describe_group(ctx, name):
    return ctx.client.describe_cache_parameter_groups(CacheParameterGroupName=name)["CacheParameterGroups"][0]


def parameters(ctx, name, **kwargs):
    pages = ctx.client.get_paginator("describe_cache_parameters").paginate(CacheParameterGroupName=name, **kwargs)
    return {p["ParameterName"]: p for page in pages for p in page["Parameters"]}


def user_values(ctx, name):
    return {n: p["ParameterValue"] for n, p in parameters(ctx, name, Source="user").items()}


def create_group(ctx, name, family=FAMILY):
    ctx.client.create_cache_parameter_group(
        CacheParameterGroupName=name, CacheParameterGroupFamily=family, Description="member table"
    )
    ctx.created.append(lambda: ctx.client.delete_cache_parameter_group(CacheParameterGroupName=name))
    return name


def delete_quietly(ctx, name):
    try:
        ctx.client.delete_cache_parameter_group(CacheParameterGroupName=name)
    except ClientError:
        pass


def set_values(ctx, name, values):
    ctx.client.modify_cache_parameter_group(
        CacheParameterGroupName=name,
        ParameterNameValues=[{"ParameterName": k, "ParameterValue": v} for k, v in values.items()],
    )


# The node fixture of Modify and Reset: a group, and a cache cluster using it.


def group_on_a_node(ctx, suffix, values=None):
    name = create_group(ctx, ctx.name(f"pg-{suffix}"))
    if values:
        set_values(ctx, name, values)
    cluster = ctx.name(f"pg-{suffix}")
    ctx.client.create_cache_cluster(
        CacheClusterId=cluster, Engine="redis", CacheNodeType="cache.t3.micro", NumCacheNodes=1,
        CacheParameterGroupName=name,
    )
    ctx.created.append(lambda: ctx.client.delete_cache_cluster(CacheClusterId=cluster))

    def node_endpoint():
        found = ctx.client.describe_cache_clusters(CacheClusterId=cluster, ShowCacheNodeInfo=True)["CacheClusters"][0]
        return found["CacheClusterStatus"] == "available" and found["CacheNodes"][0]["Endpoint"]

    endpoint = poll(f"cache cluster {cluster} available", 60, node_endpoint, interval=0.1)
    node = redis.Redis(host=endpoint["Address"], port=endpoint["Port"], socket_timeout=10)
    return {"name": name, "cluster": cluster, "node": node, "values": dict(values or {}), "stamp": 0}


def remove_node_fixture(ctx, fixture):
    fixture["node"].close()
    ctx.client.delete_cache_cluster(CacheClusterId=fixture["cluster"])

    def gone():
        try:
            ctx.client.describe_cache_clusters(CacheClusterId=fixture["cluster"])
        except ClientError:
            return True
        return False

    poll(f"cache cluster {fixture['cluster']} deleted", 60, gone, interval=0.1)
    delete_quietly(ctx, fixture["name"])


def node_policy(fixture):
    return fixture["node"].info("memory")["maxmemory_policy"]


def policy_reached_node(ctx, fixture, wanted):
    check_eq(node_policy(fixture), wanted, "maxmemory_policy on the node")
    check_eq(parameters(ctx, fixture["name"])["maxmemory-policy"]["ParameterValue"], wanted,
             "maxmemory-policy as DescribeCacheParameters reports it")


# CreateCacheParameterGroup


def created_name(response):
    return response["CacheParameterGroup"]["CacheParameterGroupName"]


def stored_lowercase(ctx, fixture, response, params):
    wanted = params["CacheParameterGroupName"].lower()
    check_eq(created_name(response), wanted, "the name answered")
    check_eq(describe_group(ctx, params["CacheParameterGroupName"])["CacheParameterGroupName"], wanted,
             "the name described")


def family_described(ctx, fixture, response, params):
    name = created_name(response)
    check_eq(describe_group(ctx, name)["CacheParameterGroupFamily"], "valkey8", "the family described")
    defaults = ctx.client.get_paginator("describe_engine_default_parameters").paginate(
        CacheParameterGroupFamily="valkey8")
    wanted = {p["ParameterName"] for page in defaults for p in page["EngineDefaults"]["Parameters"]}
    check_eq(set(parameters(ctx, name)), wanted, "the group's parameters: valkey8's defaults")


def description_described(ctx, fixture, response, params):
    check_eq(describe_group(ctx, created_name(response))["Description"], params["Description"], "the description")


def tags_listed(ctx, fixture, response, params):
    arn = response["CacheParameterGroup"]["ARN"]
    tags = ctx.client.list_tags_for_resource(ResourceName=arn)["TagList"]
    check_eq({t["Key"]: t["Value"] for t in tags}, {"team": "payments"}, "the tags of the new group")


def delete_created(ctx, fixture, response, params):
    delete_quietly(ctx, created_name(response))


# ModifyCacheParameterGroup: every call sets the next policy, so each is seen on the node.


def modify_base(ctx, fixture):
    fixture["stamp"] += 1
    fixture["policy"] = POLICIES[fixture["stamp"] % len(POLICIES)]
    return {
        "CacheParameterGroupName": fixture["name"],
        "ParameterNameValues": [{"ParameterName": "maxmemory-policy", "ParameterValue": fixture["policy"]}],
    }


def modified_named_group(ctx, fixture, response, params):
    check_eq(response["CacheParameterGroupName"], fixture["name"], "the group answered")
    policy_reached_node(ctx, fixture, fixture["policy"])


def modified_value(ctx, fixture, response, params):
    policy_reached_node(ctx, fixture, "volatile-ttl")
    check_eq(parameters(ctx, fixture["name"])["maxmemory-policy"]["Source"], "user", "the Source of the set value")


# ResetCacheParameterGroup: the group sets two parameters; the node shows the policy.

RESET_VALUES = {"maxmemory-policy": "allkeys-lfu", "timeout": "300"}


def reset_fixture(ctx):
    return group_on_a_node(ctx, "reset", RESET_VALUES)


def set_again(ctx, fixture, response, params):
    set_values(ctx, fixture["name"], RESET_VALUES)


def named_group_reset(ctx, fixture, response, params):
    check_eq(response["CacheParameterGroupName"], fixture["name"], "the group answered")
    policy_reached_node(ctx, fixture, FAMILY_DEFAULT_POLICY)
    check_eq(user_values(ctx, fixture["name"]), {"timeout": "300"}, "the values still set")


def only_named_reset(ctx, fixture, response, params):
    check_eq(user_values(ctx, fixture["name"]), {"maxmemory-policy": "allkeys-lfu"}, "the values still set")
    check_eq(node_policy(fixture), "allkeys-lfu", "maxmemory_policy on the node, not reset")


def all_reset(ctx, fixture, response, params):
    check_eq(user_values(ctx, fixture["name"]), {}, "the values still set")
    policy_reached_node(ctx, fixture, FAMILY_DEFAULT_POLICY)


# DeleteCacheParameterGroup


def made_to_delete(ctx, fixture):
    return create_group(ctx, ctx.name("pg-delete"))


def gone(ctx, fixture, response, params):
    try:
        describe_group(ctx, params["CacheParameterGroupName"])
    except ClientError as error:
        check_eq(error.response["Error"]["Code"], "CacheParameterGroupNotFound", "describing the deleted group")
        return
    raise CheckFailed("the deleted parameter group is still described")


# The Describe actions


def many_groups(ctx):
    # With the 16 default groups, more than a page of 20.
    names = [create_group(ctx, ctx.name(f"pg-page-{i}")) for i in range(6)]
    return {"names": names}


def delete_groups(ctx, fixture):
    for name in fixture["names"]:
        delete_quietly(ctx, name)


def only_the_named(ctx, fixture, response, params):
    listed = [g["CacheParameterGroupName"] for g in response["CacheParameterGroups"]]
    check_eq(listed, [fixture["names"][2]], "the groups described")


def group_with_a_value(ctx):
    name = create_group(ctx, ctx.name("pg-params"))
    set_values(ctx, name, {"maxmemory-policy": "allkeys-lfu"})
    return {"names": [name], "name": name}


def the_groups_parameters(ctx, fixture, response, params):
    listed = {p["ParameterName"]: p for p in response["Parameters"]}
    check_eq(listed["maxmemory-policy"]["ParameterValue"], "allkeys-lfu", "the group's maxmemory-policy")
    check_eq(listed["maxmemory-policy"]["Source"], "user", "its Source")


def only_user_parameters(ctx, fixture, response, params):
    listed = {p["ParameterName"]: p["ParameterValue"] for p in response["Parameters"]}
    check_eq(listed, {"maxmemory-policy": "allkeys-lfu"}, "the parameters of Source user")


def defaults_of_family(ctx, fixture, response, params):
    defaults = response["EngineDefaults"]
    check_eq(defaults["CacheParameterGroupFamily"], "redis2.6", "the family answered")
    names = {p["ParameterName"] for p in defaults["Parameters"]}
    check("cluster-enabled" not in names, "redis2.6 predates cluster mode, but cluster-enabled is listed")
    redis7 = ctx.client.describe_engine_default_parameters(CacheParameterGroupFamily=FAMILY, MaxRecords=100)
    check(names != {p["ParameterName"] for p in redis7["EngineDefaults"]["Parameters"]},
          "redis2.6 lists the same parameters as redis7")


TABLES = [
    Table(
        "CreateCacheParameterGroup",
        [
            Member("CacheParameterGroupName", lambda ctx, f: ctx.name("PG-Mixed"), stored_lowercase,
                   invalid="1-starts-with-a-digit", error="InvalidParameterValue"),
            Member("CacheParameterGroupFamily", "valkey8", family_described,
                   invalid="redis99", error="InvalidParameterValue"),
            Member("Description", "the payments cache's parameters", description_described,
                   invalid="", error="MissingParameter"),
            Member("Tags", [{"Key": "team", "Value": "payments"}], tags_listed,
                   invalid=[{"Key": "aws:reserved", "Value": "x"}], error="InvalidParameterValue"),
        ],
        base=lambda ctx, f: {
            "CacheParameterGroupName": ctx.name("pg-create"),
            "CacheParameterGroupFamily": FAMILY,
            "Description": "member table",
        },
        after_valid=delete_created,
    ),
    Table(
        "ModifyCacheParameterGroup",
        [
            Member("CacheParameterGroupName", lambda ctx, f: f["name"].upper(), modified_named_group,
                   invalid=lambda ctx, f: ctx.name("pg-never-made"), error="CacheParameterGroupNotFound"),
            Member("ParameterNameValues", [{"ParameterName": "maxmemory-policy", "ParameterValue": "volatile-ttl"}],
                   modified_value,
                   invalid=[{"ParameterName": "maxmemory-policy", "ParameterValue": "evict-everything"}],
                   error="InvalidParameterValue"),
        ],
        base=modify_base,
        setup=lambda ctx: group_on_a_node(ctx, "modify"),
        teardown=remove_node_fixture,
    ),
    Table(
        "ResetCacheParameterGroup",
        [
            Member("CacheParameterGroupName", lambda ctx, f: f["name"].upper(), named_group_reset,
                   invalid=lambda ctx, f: ctx.name("pg-never-made"), error="CacheParameterGroupNotFound"),
            Member("ParameterNameValues", [{"ParameterName": "timeout"}], only_named_reset,
                   invalid=[{"ParameterName": "no-such-parameter"}], error="InvalidParameterValue"),
        ],
        base=lambda ctx, f: {"CacheParameterGroupName": f["name"],
                             "ParameterNameValues": [{"ParameterName": "maxmemory-policy"}]},
        setup=reset_fixture,
        teardown=remove_node_fixture,
        after_valid=set_again,
    ),
    # ResetAllParameters excludes ParameterNameValues: its own table, without them.
    Table(
        "ResetCacheParameterGroup",
        [
            # False names nothing to reset: AWS wants the names, or true.
            Member("ResetAllParameters", True, all_reset, invalid=False, error="InvalidParameterCombination"),
        ],
        base=lambda ctx, f: {"CacheParameterGroupName": f["name"]},
        setup=reset_fixture,
        teardown=remove_node_fixture,
        after_valid=set_again,
    ),
    Table(
        "DeleteCacheParameterGroup",
        [
            Member("CacheParameterGroupName", made_to_delete, gone,
                   invalid=lambda ctx, f: ctx.name("pg-never-made"), error="CacheParameterGroupNotFound"),
        ],
    ),
    Table(
        "DescribeCacheParameterGroups",
        [
            Member("CacheParameterGroupName", lambda ctx, f: f["names"][2].upper(), only_the_named,
                   invalid=lambda ctx, f: ctx.name("pg-never-made"), error="CacheParameterGroupNotFound"),
        ]
        + paging_members(
            "DescribeCacheParameterGroups",
            lambda r: r["CacheParameterGroups"],
            lambda g: g["CacheParameterGroupName"],
        ),
        setup=many_groups,
        teardown=delete_groups,
    ),
    Table(
        "DescribeCacheParameters",
        [
            Member("CacheParameterGroupName", lambda ctx, f: f["name"], the_groups_parameters,
                   invalid=lambda ctx, f: ctx.name("pg-never-made"), error="CacheParameterGroupNotFound"),
            Member("Source", "user", only_user_parameters, invalid="bogus", error="InvalidParameterValue"),
        ]
        + paging_members(
            "DescribeCacheParameters",
            lambda r: r["Parameters"],
            lambda p: p["ParameterName"],
            base=lambda ctx, f: {"CacheParameterGroupName": f["name"]},
        ),
        base=lambda ctx, f: {"CacheParameterGroupName": f["name"]},
        setup=group_with_a_value,
        teardown=delete_groups,
    ),
    Table(
        "DescribeEngineDefaultParameters",
        [
            Member("CacheParameterGroupFamily", "redis2.6", defaults_of_family,
                   invalid="redis99", error="InvalidParameterValue"),
        ]
        + paging_members(
            "DescribeEngineDefaultParameters",
            lambda r: r["EngineDefaults"]["Parameters"],
            lambda p: p["ParameterName"],
            base=lambda ctx, f: {"CacheParameterGroupFamily": FAMILY},
            marker=lambda r: r["EngineDefaults"].get("Marker"),
        ),
        base=lambda ctx, f: {"CacheParameterGroupFamily": FAMILY},
    ),
]
