"""Rows of the cache subnet group actions: each valid value checked in what
DescribeCacheSubnetGroups (or ListTagsForResource) reports after the call, each invalid one by
AWS's error code. Subnet groups start no node, so the fixtures are cheap."""

from botocore.exceptions import ClientError

from flowcheck import CheckFailed, check, check_eq
from member_tables.harness import Member, Table
from member_tables.resource_paging import paging_members

SUBNETS = ["subnet-0a1b2c3d4e5f60718", "subnet-0badc0de"]
OTHER_SUBNETS = ["subnet-00ff00ff", "subnet-0123456789abcdef0"]
TOO_LONG = "d" * 256  # AWS takes at most 255 characters of description


def describe(ctx, name):
    return ctx.client.describe_cache_subnet_groups(CacheSubnetGroupName=name)["CacheSubnetGroups"][0]


def subnets_of(group):
    return [s["SubnetIdentifier"] for s in group["Subnets"]]


def create(ctx, name, description="member table"):
    ctx.client.create_cache_subnet_group(
        CacheSubnetGroupName=name, CacheSubnetGroupDescription=description, SubnetIds=SUBNETS
    )
    ctx.created.append(lambda: ctx.client.delete_cache_subnet_group(CacheSubnetGroupName=name))
    return name


def delete_quietly(ctx, name):
    try:
        ctx.client.delete_cache_subnet_group(CacheSubnetGroupName=name)
    except ClientError:
        pass


def one_group(ctx):
    return {"name": create(ctx, ctx.name("sng-modify"))}


def delete_fixture(ctx, fixture):
    for name in fixture.get("names", [fixture.get("name")]):
        delete_quietly(ctx, name)


def created_name(response):
    return response["CacheSubnetGroup"]["CacheSubnetGroupName"]


# CreateCacheSubnetGroup


def stored_lowercase(ctx, fixture, response, params):
    wanted = params["CacheSubnetGroupName"].lower()
    check_eq(created_name(response), wanted, "the name answered")
    check_eq(describe(ctx, params["CacheSubnetGroupName"])["CacheSubnetGroupName"], wanted, "the name described")


def description_described(ctx, fixture, response, params):
    group = describe(ctx, created_name(response))
    check_eq(group["CacheSubnetGroupDescription"], params["CacheSubnetGroupDescription"], "the description")


def subnets_described(ctx, fixture, response, params):
    group = describe(ctx, created_name(response))
    check_eq(subnets_of(group), params["SubnetIds"], "the subnets described")
    zones = {s["SubnetAvailabilityZone"]["Name"] for s in group["Subnets"]}
    check(all(z.startswith(ctx.client.meta.region_name) for z in zones), f"zones of the region: {zones}")


def tags_listed(ctx, fixture, response, params):
    arn = response["CacheSubnetGroup"]["ARN"]
    tags = ctx.client.list_tags_for_resource(ResourceName=arn)["TagList"]
    check_eq({t["Key"]: t["Value"] for t in tags}, {"team": "payments"}, "the tags of the new group")


def delete_created(ctx, fixture, response, params):
    delete_quietly(ctx, created_name(response))


# ModifyCacheSubnetGroup: every call sets a fresh description, so a call that reached the
# group is seen in it.


def modify_base(ctx, fixture):
    fixture["stamp"] = fixture.get("stamp", 0) + 1
    return {
        "CacheSubnetGroupName": fixture["name"],
        "CacheSubnetGroupDescription": f"modified {fixture['stamp']}",
    }


def modified_named_group(ctx, fixture, response, params):
    check_eq(created_name(response), fixture["name"], "the group answered")
    check_eq(describe(ctx, fixture["name"])["CacheSubnetGroupDescription"], f"modified {fixture['stamp']}",
             "the description of the group named in any case")


def modified_description(ctx, fixture, response, params):
    check_eq(describe(ctx, fixture["name"])["CacheSubnetGroupDescription"], params["CacheSubnetGroupDescription"],
             "the new description")


def replaced_subnets(ctx, fixture, response, params):
    check_eq(subnets_of(describe(ctx, fixture["name"])), params["SubnetIds"], "the subnets replaced")


def restore_subnets(ctx, fixture, response, params):
    ctx.client.modify_cache_subnet_group(CacheSubnetGroupName=fixture["name"], SubnetIds=SUBNETS)


# DeleteCacheSubnetGroup


def made_to_delete(ctx, fixture):
    return create(ctx, ctx.name("sng-delete"))


def gone(ctx, fixture, response, params):
    try:
        describe(ctx, params["CacheSubnetGroupName"])
    except ClientError as error:
        check_eq(error.response["Error"]["Code"], "CacheSubnetGroupNotFoundFault", "describing the deleted group")
        return
    raise CheckFailed("the deleted subnet group is still described")


# DescribeCacheSubnetGroups: 21 groups of this run besides `default`, so pages of 20 end early.


def many_groups(ctx):
    names = [create(ctx, ctx.name(f"sng-page-{i:02}")) for i in range(21)]
    return {"names": names}


def only_the_named(ctx, fixture, response, params):
    listed = [g["CacheSubnetGroupName"] for g in response["CacheSubnetGroups"]]
    check_eq(listed, [fixture["names"][3]], "the groups described")


TABLES = [
    Table(
        "CreateCacheSubnetGroup",
        [
            Member("CacheSubnetGroupName", lambda ctx, f: ctx.name("SNG-Mixed"), stored_lowercase,
                   invalid="no_underscores", error="InvalidParameterValue"),  # alphanumerics and hyphens only
            Member("CacheSubnetGroupDescription", "the payments subnets", description_described,
                   invalid=TOO_LONG, error="InvalidParameterValue"),
            Member("SubnetIds", OTHER_SUBNETS, subnets_described,
                   invalid=["subnet-nothex!"], error="InvalidSubnet"),
            Member("Tags", [{"Key": "team", "Value": "payments"}], tags_listed,
                   invalid=[{"Key": "aws:reserved", "Value": "x"}], error="InvalidParameterValue"),
        ],
        base=lambda ctx, f: {
            "CacheSubnetGroupName": ctx.name("sng-create"),
            "CacheSubnetGroupDescription": "member table",
            "SubnetIds": SUBNETS,
        },
        after_valid=delete_created,
    ),
    Table(
        "ModifyCacheSubnetGroup",
        [
            Member("CacheSubnetGroupName", lambda ctx, f: f["name"].upper(), modified_named_group,
                   invalid=lambda ctx, f: ctx.name("sng-never-made"), error="CacheSubnetGroupNotFoundFault"),
            Member("CacheSubnetGroupDescription", "the new description", modified_description,
                   invalid=TOO_LONG, error="InvalidParameterValue"),
            Member("SubnetIds", OTHER_SUBNETS, replaced_subnets,
                   invalid=["subnet-12"], error="InvalidSubnet"),
        ],
        base=modify_base,
        setup=one_group,
        teardown=delete_fixture,
        after_valid=restore_subnets,
    ),
    Table(
        "DeleteCacheSubnetGroup",
        [
            Member("CacheSubnetGroupName", made_to_delete, gone,
                   invalid=lambda ctx, f: ctx.name("sng-never-made"), error="CacheSubnetGroupNotFoundFault"),
        ],
    ),
    Table(
        "DescribeCacheSubnetGroups",
        [
            Member("CacheSubnetGroupName", lambda ctx, f: f["names"][3].upper(), only_the_named,
                   invalid=lambda ctx, f: ctx.name("sng-never-made"), error="CacheSubnetGroupNotFoundFault"),
        ]
        + paging_members(
            "DescribeCacheSubnetGroups",
            lambda r: r["CacheSubnetGroups"],
            lambda g: g["CacheSubnetGroupName"],
        ),
        setup=many_groups,
        teardown=delete_fixture,
    ),
]
