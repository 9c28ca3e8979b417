"""Rows of the tag actions, on a cache parameter group (a taggable kind that starts no node)."""

from flowcheck import check, check_eq
from member_tables.harness import Member, Table


def parameter_group(ctx):
    name = ctx.name("tags")
    group = ctx.client.create_cache_parameter_group(
        CacheParameterGroupName=name, CacheParameterGroupFamily="redis7", Description="tags"
    )["CacheParameterGroup"]
    return {"name": name, "arn": group["ARN"]}


def delete_group(ctx, fixture):
    ctx.client.delete_cache_parameter_group(CacheParameterGroupName=fixture["name"])


def tags_of(ctx, fixture):
    listed = ctx.client.list_tags_for_resource(ResourceName=fixture["arn"])["TagList"]
    return {t["Key"]: t["Value"] for t in listed}


def other_arn(fixture):
    # An ARN of the right form naming a group that does not exist.
    return fixture["arn"].rsplit(":", 1)[0] + ":nope-no-such-group"


def tag_added(ctx, fixture, response, params):
    check_eq(tags_of(ctx, fixture).get("team"), "payments", "the tag added")


def tags_reported(ctx, fixture, response, params):
    check_eq({t["Key"] for t in response["TagList"]}, set(tags_of(ctx, fixture)), "the listing")


def tag_removed(ctx, fixture, response, params):
    check("team" not in tags_of(ctx, fixture), "the tag is gone")


def add_back(ctx, fixture, response, params):
    ctx.client.add_tags_to_resource(ResourceName=fixture["arn"], Tags=[{"Key": "team", "Value": "payments"}])


TABLES = [
    Table(
        "AddTagsToResource",
        [
            Member("ResourceName", lambda ctx, f: f["arn"], tag_added,
                   invalid="not-an-arn", error="InvalidARN"),
            Member("Tags", [{"Key": "team", "Value": "payments"}], tag_added,
                   invalid=[{"Key": "aws:reserved", "Value": "x"}], error="InvalidParameterValue"),
        ],
        base=lambda ctx, f: {"ResourceName": f["arn"], "Tags": [{"Key": "team", "Value": "payments"}]},
        setup=parameter_group,
        teardown=delete_group,
    ),
    Table(
        "ListTagsForResource",
        [
            Member("ResourceName", lambda ctx, f: f["arn"], tags_reported,
                   invalid=lambda ctx, f: other_arn(f), error="CacheParameterGroupNotFound"),
        ],
        setup=parameter_group,
        teardown=delete_group,
    ),
    Table(
        "RemoveTagsFromResource",
        [
            Member("ResourceName", lambda ctx, f: f["arn"], tag_removed,
                   invalid="not-an-arn", error="InvalidARN"),
            Member("TagKeys", ["team"], tag_removed,
                   invalid=["no-such-key"], error="TagNotFound"),
        ],
        base=lambda ctx, f: {"ResourceName": f["arn"], "TagKeys": ["team"]},
        setup=lambda ctx: (lambda f: (add_back(ctx, f, None, None), f)[1])(parameter_group(ctx)),
        teardown=delete_group,
        after_valid=add_back,
    ),
]
