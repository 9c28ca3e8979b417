#!/usr/bin/env python3
"""The real boto3 client against the resources Terraform creates beside a replication group:
cache subnet groups, cache parameter groups (and their parameters), tags by ARN, engine
versions and engine default parameters. Each action once with a valid request and once with
an invalid one (boto3 must raise the named exception: the wire `<Code>`), and every Describe
walked with boto3's own paginator, which must terminate.

Endpoint from ELASTICACHE_ENDPOINT (http://127.0.0.1:PORT). Exits 0 with a PASS line, or 1
with the failed check; deletes what it created either way. Run by tests/clients.rs.
"""

import os
import sys
import traceback
import uuid

import boto3

from flowcheck import CheckFailed, check, step, steps

ENDPOINT = os.environ.get("ELASTICACHE_ENDPOINT")
RUN = uuid.uuid4().hex[:6]
SUBNET_GROUP = f"boto3-subnets-{RUN}"
PARAMETER_GROUP = f"boto3-params-{RUN}"
SUBNETS = ["subnet-0a1b2c3d4e5f60718", "subnet-0badc0de"]


def expect_error(client, name, call, **kwargs):
    """The call raises boto3's modelled exception `name` (so `<Code>` matched the model)."""
    exception = getattr(client.exceptions, name)
    try:
        call(**kwargs)
    except exception as error:
        return error.response["Error"]["Message"]
    raise CheckFailed(f"{call.__name__}({kwargs}) did not raise {name}")


def paged(client, operation, key, **kwargs):
    pages = client.get_paginator(operation).paginate(PaginationConfig={"PageSize": 20}, **kwargs)
    items, count = [], 0
    for page in pages:
        count += 1
        check(count < 1000, f"{operation}'s paginator never ends")
        items.extend(page[key])
    return items, count


def subnet_groups(client):
    created = client.create_cache_subnet_group(
        CacheSubnetGroupName=SUBNET_GROUP, CacheSubnetGroupDescription="boto3", SubnetIds=SUBNETS,
        Tags=[{"Key": "team", "Value": "payments"}],
    )["CacheSubnetGroup"]
    check(created["CacheSubnetGroupName"] == SUBNET_GROUP, f"created {created}")
    expect_error(client, "CacheSubnetGroupAlreadyExistsFault", client.create_cache_subnet_group,
                 CacheSubnetGroupName=SUBNET_GROUP, CacheSubnetGroupDescription="again", SubnetIds=SUBNETS)
    groups, _ = paged(client, "describe_cache_subnet_groups", "CacheSubnetGroups")
    names = {g["CacheSubnetGroupName"] for g in groups}
    check({"default", SUBNET_GROUP} <= names, f"described {names}")
    modified = client.modify_cache_subnet_group(
        CacheSubnetGroupName=SUBNET_GROUP, CacheSubnetGroupDescription="changed", SubnetIds=SUBNETS[:1]
    )["CacheSubnetGroup"]
    check(modified["CacheSubnetGroupDescription"] == "changed", f"modified {modified}")
    check(len(modified["Subnets"]) == 1, f"one subnet left: {modified['Subnets']}")
    expect_error(client, "CacheSubnetGroupNotFoundFault", client.modify_cache_subnet_group,
                 CacheSubnetGroupName=f"absent-{RUN}", SubnetIds=SUBNETS)
    return created["ARN"]


def parameter_groups(client):
    created = client.create_cache_parameter_group(
        CacheParameterGroupName=PARAMETER_GROUP, CacheParameterGroupFamily="redis7", Description="boto3"
    )["CacheParameterGroup"]
    check(created["CacheParameterGroupFamily"] == "redis7", f"created {created}")
    expect_error(client, "CacheParameterGroupAlreadyExistsFault", client.create_cache_parameter_group,
                 CacheParameterGroupName=PARAMETER_GROUP, CacheParameterGroupFamily="redis7", Description="x")
    client.modify_cache_parameter_group(
        CacheParameterGroupName=PARAMETER_GROUP,
        ParameterNameValues=[{"ParameterName": "maxmemory-policy", "ParameterValue": "allkeys-lru"}],
    )
    expect_error(client, "InvalidParameterValueException", client.modify_cache_parameter_group,
                 CacheParameterGroupName=PARAMETER_GROUP,
                 ParameterNameValues=[{"ParameterName": "maxmemory-policy", "ParameterValue": "bogus"}])
    parameters, pages = paged(client, "describe_cache_parameters", "Parameters",
                              CacheParameterGroupName=PARAMETER_GROUP)
    check(pages > 1, f"redis7's parameters span pages of 20 ({len(parameters)} in {pages})")
    policy = next(p for p in parameters if p["ParameterName"] == "maxmemory-policy")
    check(policy["ParameterValue"] == "allkeys-lru", f"maxmemory-policy {policy}")
    groups, _ = paged(client, "describe_cache_parameter_groups", "CacheParameterGroups")
    check(PARAMETER_GROUP in {g["CacheParameterGroupName"] for g in groups}, "listed")
    client.reset_cache_parameter_group(CacheParameterGroupName=PARAMETER_GROUP, ResetAllParameters=True)
    parameters, _ = paged(client, "describe_cache_parameters", "Parameters",
                          CacheParameterGroupName=PARAMETER_GROUP, Source="user")
    check(parameters == [], f"no user values after a reset: {parameters}")
    expect_error(client, "CacheParameterGroupNotFoundFault", client.describe_cache_parameters,
                 CacheParameterGroupName=f"absent-{RUN}")
    expect_error(client, "InvalidCacheParameterGroupStateFault", client.delete_cache_parameter_group,
                 CacheParameterGroupName="default.redis7")
    answer = client.describe_engine_default_parameters(CacheParameterGroupFamily="redis7")
    check(answer["EngineDefaults"]["CacheParameterGroupFamily"] == "redis7", f"defaults {answer}")
    return created["ARN"]


def tags(client, arn):
    client.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "env", "Value": "ci"}])
    listed = client.list_tags_for_resource(ResourceName=arn)["TagList"]
    check({"Key": "env", "Value": "ci"} in listed, f"listed {listed}")
    client.remove_tags_from_resource(ResourceName=arn, TagKeys=["env"])
    listed = client.list_tags_for_resource(ResourceName=arn)["TagList"]
    check(all(t["Key"] != "env" for t in listed), f"after removal {listed}")
    expect_error(client, "InvalidARNFault", client.list_tags_for_resource, ResourceName="known")
    expect_error(client, "TagNotFoundFault", client.remove_tags_from_resource,
                 ResourceName=arn, TagKeys=[f"absent-{RUN}"])
    expect_error(client, "InvalidParameterValueException", client.add_tags_to_resource,
                 ResourceName=arn, Tags=[{"Key": "aws:reserved", "Value": "x"}])


def engine_versions(client):
    versions, pages = paged(client, "describe_cache_engine_versions", "CacheEngineVersions")
    engines = {v["Engine"] for v in versions}
    check({"redis", "valkey"} <= engines and pages > 1, f"{len(versions)} versions in {pages} pages: {engines}")
    expect_error(client, "InvalidParameterValueException", client.describe_cache_engine_versions,
                 MaxRecords=19)


def main():
    if not ENDPOINT:
        print("FAIL: set ELASTICACHE_ENDPOINT=http://127.0.0.1:PORT", file=sys.stderr)
        return 1
    client = boto3.client("elasticache", endpoint_url=ENDPOINT, region_name="us-east-1")
    try:
        subnet_arn = subnet_groups(client)
        step("subnet groups: create, describe (paginator), modify, and their faults")
        parameter_arn = parameter_groups(client)
        step("parameter groups: create, modify, describe parameters (paginator), reset, faults")
        tags(client, subnet_arn)
        tags(client, parameter_arn)
        step("tags by ARN on a subnet group and a parameter group, and their faults")
        engine_versions(client)
        step("engine versions: the paginator ends, MaxRecords below 20 refused")
        client.delete_cache_subnet_group(CacheSubnetGroupName=SUBNET_GROUP)
        expect_error(client, "CacheSubnetGroupNotFoundFault", client.describe_cache_subnet_groups,
                     CacheSubnetGroupName=SUBNET_GROUP)
        client.delete_cache_parameter_group(CacheParameterGroupName=PARAMETER_GROUP)
        expect_error(client, "CacheParameterGroupNotFoundFault", client.describe_cache_parameter_groups,
                     CacheParameterGroupName=PARAMETER_GROUP)
        step("deletes: both groups gone, their Describe raises the not-found fault")
    except Exception as error:  # noqa: BLE001 - report any failure with its trace
        traceback.print_exc()
        print(f"FAIL: {error}", file=sys.stderr)
        return 1
    finally:
        for call, kwargs in [
            (client.delete_cache_subnet_group, {"CacheSubnetGroupName": SUBNET_GROUP}),
            (client.delete_cache_parameter_group, {"CacheParameterGroupName": PARAMETER_GROUP}),
        ]:
            try:
                call(**kwargs)
            except Exception:  # noqa: BLE001 - it may not exist if its step failed
                pass
    print(f"PASS resources_flow.py: {len(steps)} steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
