"""Rows of the user group actions. CreateUserGroup's values are checked in DescribeUserGroups
(and DescribeUsers' UserGroupIds); ModifyUserGroup's on a node of the TLS replication group of
`users.py`, whose user group the rows change: an added user can AUTH there, a removed one
cannot."""

from botocore.exceptions import ClientError

from flowcheck import CheckFailed, check, check_eq
from member_tables.harness import Member, Table
from member_tables.resource_paging import paging_members
from member_tables.users import P1, create_user, delete_quietly, on_node, remove_tls_group, tls_group_with_users


def describe_group(ctx, group_id):
    return ctx.client.describe_user_groups(UserGroupId=group_id)["UserGroups"][0]


def create_group(ctx, group_id, user_ids):
    ctx.client.create_user_group(UserGroupId=group_id, Engine="redis", UserIds=user_ids)
    ctx.created.append(lambda: ctx.client.delete_user_group(UserGroupId=group_id))
    return group_id


NEVER_MADE = {"invalid": lambda ctx, f: ctx.name("ug-never-made"), "error": "UserGroupNotFound"}


# CreateUserGroup: users to hold, a `default` one and an application one.


def users_to_hold(ctx):
    return {
        "default": create_user(ctx, ctx.name("ugc-def"), "default", NoPasswordRequired=True),
        "app": create_user(ctx, ctx.name("ugc-app"), ctx.name("ugc-app")),
    }


def delete_users(ctx, f):
    for key in ("default", "app", "extra", "other"):
        if key in f:
            delete_quietly(ctx, ctx.client.delete_user, UserId=f[key])


def delete_created(ctx, f, response, params):
    delete_quietly(ctx, ctx.client.delete_user_group, UserGroupId=response["UserGroupId"])


def group_described(ctx, f, response, params):
    group = describe_group(ctx, params["UserGroupId"])
    check_eq((group["UserGroupId"], group["Status"]), (params["UserGroupId"], "active"), "the group described")


def engine_described(ctx, f, response, params):
    check_eq(describe_group(ctx, response["UserGroupId"])["Engine"], "valkey", "the group's engine")


def users_held(ctx, f, response, params):
    group_id = response["UserGroupId"]
    check_eq(describe_group(ctx, group_id)["UserIds"], [f["default"], f["app"]], "the users held")
    user = ctx.client.describe_users(UserId=f["app"])["Users"][0]
    check(group_id in user["UserGroupIds"], f"the user's UserGroupIds: {user['UserGroupIds']}")


def tags_listed(ctx, f, response, params):
    tags = ctx.client.list_tags_for_resource(ResourceName=response["ARN"])["TagList"]
    check_eq({t["Key"]: t["Value"] for t in tags}, {"team": "payments"}, "the tags of the new group")


# ModifyUserGroup: the base adds `extra`; after each valid call the group holds default and app
# again, and its engine is redis.


def group_on_a_node(ctx):
    f = tls_group_with_users(ctx, "ugm")
    f["extra_name"], f["other_name"] = ctx.name("extra"), ctx.name("other")
    f["extra"] = create_user(ctx, ctx.name("ugm-extra"), f["extra_name"])
    f["other"] = create_user(ctx, ctx.name("ugm-other"), f["other_name"])
    return f


def remove_group_on_a_node(ctx, f):
    remove_tls_group(ctx, f)
    delete_users(ctx, f)


def restore_group(ctx, f, response, params):
    held = describe_group(ctx, f["user_group"])["UserIds"]
    add = [u for u in (f["default"], f["app"]) if u not in held]
    remove = [u for u in held if u not in (f["default"], f["app"])]
    changes = {"UserIdsToAdd": add} if add else {}
    if remove:
        changes["UserIdsToRemove"] = remove
    ctx.client.modify_user_group(UserGroupId=f["user_group"], Engine="redis", **changes)


def extra_on_node(ctx, f, response, params):
    check_eq(response["UserGroupId"], f["user_group"], "the group answered")
    check_eq(on_node(f, f["extra_name"], P1, "GET", "k"), "ok", "AUTH as the added user")
    check(f["extra"] in describe_group(ctx, f["user_group"])["UserIds"], "the added user described")


def other_on_node(ctx, f, response, params):
    check_eq(on_node(f, f["other_name"], P1, "GET", "k"), "ok", "AUTH as the added user")
    check(f["other"] in describe_group(ctx, f["user_group"])["UserIds"], "the added user described")


def app_removed_from_node(ctx, f, response, params):
    check_eq(on_node(f, f["app_name"], P1, "GET", "k"), "wrongpass", "AUTH as the removed user")
    check(f["app"] not in describe_group(ctx, f["user_group"])["UserIds"], "the removed user still described")


def engine_changed(ctx, f, response, params):
    check_eq(describe_group(ctx, f["user_group"])["Engine"], "valkey", "the group's engine")


# DeleteUserGroup


def group_to_delete(ctx, f):
    return create_group(ctx, ctx.name("ug-delete"), [f["default"]])


def gone(ctx, f, response, params):
    try:
        describe_group(ctx, params["UserGroupId"])
    except ClientError as error:
        check_eq(error.response["Error"]["Code"], "UserGroupNotFound", "describing the deleted group")
        return
    raise CheckFailed("the deleted user group is still described")


# DescribeUserGroups: 21 groups of this run.


def many_groups(ctx):
    f = users_to_hold(ctx)
    f["groups"] = [create_group(ctx, ctx.name(f"ug-page-{i:02}"), [f["default"]]) for i in range(21)]
    return f


def delete_groups_and_users(ctx, f):
    for group_id in f.get("groups", []):
        delete_quietly(ctx, ctx.client.delete_user_group, UserGroupId=group_id)
    delete_users(ctx, f)


def only_the_group(ctx, f, response, params):
    check_eq([g["UserGroupId"] for g in response["UserGroups"]], [f["groups"][4]], "the groups described")


TABLES = [
    Table(
        "CreateUserGroup",
        [
            Member("UserGroupId", lambda ctx, f: ctx.name("ug-create-id"), group_described,
                   invalid="1-starts-with-a-digit", error="InvalidParameterValue"),
            Member("Engine", "valkey", engine_described, invalid="memcached", error="InvalidParameterValue"),
            Member("UserIds", lambda ctx, f: [f["default"], f["app"]], users_held,
                   invalid=lambda ctx, f: [f["app"]], error="DefaultUserRequired"),
            Member("Tags", [{"Key": "team", "Value": "payments"}], tags_listed,
                   invalid=[{"Key": "aws:reserved", "Value": "x"}], error="InvalidParameterValue"),
        ],
        base=lambda ctx, f: {"UserGroupId": ctx.name("ug-create"), "Engine": "redis", "UserIds": [f["default"]]},
        setup=users_to_hold,
        teardown=delete_users,
        after_valid=delete_created,
    ),
    Table(
        "ModifyUserGroup",
        [
            Member("UserGroupId", lambda ctx, f: f["user_group"], extra_on_node, **NEVER_MADE),
            Member("UserIdsToAdd", lambda ctx, f: [f["other"]], other_on_node,
                   invalid=lambda ctx, f: [ctx.name("u-never-made")], error="UserNotFound"),
            # Removing the only user named default leaves the group without one.
            Member("UserIdsToRemove", lambda ctx, f: [f["app"]], app_removed_from_node,
                   invalid=lambda ctx, f: [f["default"]], error="DefaultUserRequired"),
            Member("Engine", "valkey", engine_changed, invalid="memcached", error="InvalidParameterValue"),
        ],
        base=lambda ctx, f: {"UserGroupId": f["user_group"], "UserIdsToAdd": [f["extra"]]},
        setup=group_on_a_node,
        teardown=remove_group_on_a_node,
        after_valid=restore_group,
    ),
    Table(
        "DeleteUserGroup",
        [Member("UserGroupId", group_to_delete, gone, **NEVER_MADE)],
        setup=users_to_hold,
        teardown=delete_users,
    ),
    Table(
        "DescribeUserGroups",
        [Member("UserGroupId", lambda ctx, f: f["groups"][4], only_the_group, **NEVER_MADE)]
        + paging_members("DescribeUserGroups", lambda r: r["UserGroups"], lambda g: g["UserGroupId"]),
        setup=many_groups,
        teardown=delete_groups_and_users,
    ),
]
