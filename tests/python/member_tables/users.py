"""Rows of the user actions. CreateUser's values are checked in DescribeUsers (a user reaches no
node until a user group of a replication group holds it); ModifyUser's and DeleteUser's on a
node: the fixture is a one-node TLS replication group whose user group holds a `default` user
and an application user, and each check opens a fresh redis-py connection as that user
(AUTH, then a command the access string allows or refuses)."""

import os
import tempfile
import urllib.request

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from botocore.exceptions import ClientError

from flowcheck import CheckFailed, check, check_eq, poll
from member_tables.harness import NO_INVALID, Member, Table
from member_tables.resource_paging import paging_members

P1 = "first-password-0123456789"
P2 = "second-password-0123456789"
FULL_ACCESS = "on ~* +@all"
READ_ONLY = "on ~* -@all +get"


def describe_user(ctx, user_id):
    return ctx.client.describe_users(UserId=user_id)["Users"][0]


def create_user(ctx, user_id, name, engine="redis", **auth):
    auth = auth or {"Passwords": [P1]}
    ctx.client.create_user(UserId=user_id, UserName=name, Engine=engine, AccessString=FULL_ACCESS, **auth)
    ctx.created.append(lambda: ctx.client.delete_user(UserId=user_id))
    return user_id


def delete_quietly(ctx, delete, **params):
    try:
        delete(**params)
    except ClientError:
        pass


# The node fixture: a TLS group whose user group holds `default` (no password) and `app`.


def tls_group_with_users(ctx, suffix):
    f = {"default": ctx.name(f"u-{suffix}-def"), "app": ctx.name(f"u-{suffix}-app"),
         "app_name": ctx.name(f"app-{suffix}"), "user_group": ctx.name(f"ug-{suffix}"),
         "group": ctx.name(f"u-{suffix}")}
    create_user(ctx, f["default"], "default", NoPasswordRequired=True)
    create_user(ctx, f["app"], f["app_name"])
    ctx.client.create_user_group(UserGroupId=f["user_group"], Engine="redis", UserIds=[f["default"], f["app"]])
    ctx.created.append(lambda: ctx.client.delete_user_group(UserGroupId=f["user_group"]))
    ctx.client.create_replication_group(
        ReplicationGroupId=f["group"], ReplicationGroupDescription="member table users",
        NumCacheClusters=1, CacheNodeType="cache.t3.micro", Engine="redis",
        TransitEncryptionEnabled=True, UserGroupIds=[f["user_group"]],
    )
    ctx.created.append(lambda: ctx.client.delete_replication_group(ReplicationGroupId=f["group"]))

    def primary():
        group = ctx.client.describe_replication_groups(ReplicationGroupId=f["group"])["ReplicationGroups"][0]
        return group["Status"] == "available" and group["NodeGroups"][0]["PrimaryEndpoint"]

    f["endpoint"] = poll(f"replication group {f['group']} available", 60, primary, interval=0.1)
    handle, f["ca"] = tempfile.mkstemp(suffix=".pem")
    with os.fdopen(handle, "wb") as ca:
        ca.write(urllib.request.urlopen(f"{ctx.endpoint}/_tls/ca.pem", timeout=10).read())
    return f


def remove_tls_group(ctx, f):
    ctx.client.delete_replication_group(ReplicationGroupId=f["group"])

    def gone():
        try:
            ctx.client.describe_replication_groups(ReplicationGroupId=f["group"])
        except ClientError:
            return True
        return False

    poll(f"replication group {f['group']} deleted", 60, gone, interval=0.1)
    delete_quietly(ctx, ctx.client.delete_user_group, UserGroupId=f["user_group"])
    os.unlink(f["ca"])


def on_node(f, username, password, *command):
    """What the node answers `username` running `command`: `ok`, `noperm` (the access string
    refuses it) or `wrongpass` (AUTH refused)."""
    client = redis.Redis(host=f["endpoint"]["Address"], port=f["endpoint"]["Port"], ssl=True,
                         ssl_ca_certs=f["ca"], username=username, password=password, socket_timeout=10,
                         retry=Retry(NoBackoff(), 0))  # a refused AUTH is the answer, not retried
    try:
        client.execute_command(*command)
        return "ok"
    except redis.AuthenticationError:
        return "wrongpass"
    except redis.ResponseError as error:
        if "NOPERM" in str(error) or "no permissions" in str(error):
            return "noperm"
        if "WRONGPASS" in str(error):
            return "wrongpass"
        raise
    finally:
        client.close()


def app_runs(f, command, password=P1):
    return on_node(f, f["app_name"], password, *command)


# CreateUser


def described_as(field, expected):
    def effect(ctx, fixture, response, params):
        user = describe_user(ctx, response["UserId"])
        value = user
        for key in field.split("."):
            value = value[key]
        check_eq(value, expected(params) if callable(expected) else expected, f"the user's {field}")
    return effect


def delete_created(ctx, fixture, response, params):
    delete_quietly(ctx, ctx.client.delete_user, UserId=response["UserId"])


def create_base(ctx, fixture, auth=True):
    base = {"UserId": ctx.name("u-create"), "UserName": ctx.name("create"), "Engine": "redis",
            "AccessString": FULL_ACCESS}
    if auth:
        base["Passwords"] = [P1]
    return base


def two_passwords(ctx, fixture, response, params):
    auth = describe_user(ctx, response["UserId"])["Authentication"]
    check_eq((auth["Type"], auth["PasswordCount"]), ("password", 2), "the user's Authentication")


def tags_listed(ctx, fixture, response, params):
    tags = ctx.client.list_tags_for_resource(ResourceName=response["ARN"])["TagList"]
    check_eq({t["Key"]: t["Value"] for t in tags}, {"team": "payments"}, "the tags of the new user")


def authentication(kind, count):
    def effect(ctx, fixture, response, params):
        auth = describe_user(ctx, response["UserId"])["Authentication"]
        check_eq((auth["Type"], auth["PasswordCount"]), (kind, count), "the user's Authentication")
    return effect


# ModifyUser: after each valid call the application user is back to full access and P1.


def restore_app(ctx, f, response=None, params=None):
    ctx.client.modify_user(UserId=f["app"], AccessString=FULL_ACCESS, Passwords=[P1], Engine="redis")
    check_eq(app_runs(f, ("SET", "k", "v")), "ok", "the application user restored")


def read_only_on_node(ctx, f, response, params):
    check_eq(response["UserId"], f["app"], "the user answered")
    check_eq((app_runs(f, ("GET", "k")), app_runs(f, ("SET", "k", "v"))), ("ok", "noperm"),
             "GET and SET as the user, read-only now")


def key_pattern_on_node(ctx, f, response, params):
    check_eq((app_runs(f, ("SET", "cache:1", "v")), app_runs(f, ("SET", "other", "v"))), ("ok", "noperm"),
             "SET inside and outside the user's key pattern")
    check_eq(describe_user(ctx, f["app"])["AccessString"], params["AccessString"], "the access string described")


def appended_on_node(ctx, f, response, params):
    check_eq((app_runs(f, ("GET", "k")), app_runs(f, ("SET", "k", "v"))), ("ok", "noperm"),
             "GET and SET after -set was appended")
    check(describe_user(ctx, f["app"])["AccessString"].endswith("-set"), "the appended rule described")


def new_password_on_node(ctx, f, response, params):
    check_eq((app_runs(f, ("GET", "k"), P2), app_runs(f, ("GET", "k"), P1)), ("ok", "wrongpass"),
             "AUTH with the new and the old password")


def no_password_on_node(ctx, f, response, params):
    check_eq(app_runs(f, ("GET", "k"), "any-password-at-all"), "ok", "AUTH with any password")
    check_eq(describe_user(ctx, f["app"])["Authentication"]["Type"], "no-password", "the Authentication type")


def default_without_password(ctx, f, response, params):
    check_eq((on_node(f, "default", None, "GET", "k"), on_node(f, "default", None, "SET", "k", "v")),
             ("ok", "noperm"), "GET and SET as default without a password, the new access string")
    check_eq(describe_user(ctx, f["default"])["Authentication"]["Type"], "no-password", "the Authentication type")


def restore_default(ctx, f, response=None, params=None):
    ctx.client.modify_user(UserId=f["default"], AccessString=FULL_ACCESS)
    poll("the default user restored", 30, lambda: on_node(f, "default", None, "SET", "k", "v") == "ok", interval=0.1)


def engine_described(ctx, f, response, params):
    check_eq(describe_user(ctx, f["app"])["Engine"], "valkey", "the user's engine")


# DeleteUser


def user_to_delete(ctx, f):
    user_id = create_user(ctx, ctx.name("u-delete"), f["app_name"] + "-del")
    ctx.client.modify_user_group(UserGroupId=f["user_group"], UserIdsToAdd=[user_id])
    check_eq(on_node(f, f["app_name"] + "-del", P1, "GET", "k"), "ok", "the user to delete, on the node")
    return user_id


def deleted(ctx, f, response, params):
    check_eq(on_node(f, f["app_name"] + "-del", P1, "GET", "k"), "wrongpass", "AUTH as the deleted user")
    try:
        describe_user(ctx, params["UserId"])
    except ClientError as error:
        check_eq(error.response["Error"]["Code"], "UserNotFound", "describing the deleted user")
        return
    raise CheckFailed("the deleted user is still described")


# DescribeUsers: 21 users of this run, 7 of them valkey's.


def many_users(ctx):
    ids = [create_user(ctx, ctx.name(f"u-page-{i:02}"), ctx.name(f"page-{i:02}"),
                       engine="valkey" if i % 3 == 0 else "redis") for i in range(21)]
    return {"ids": ids}


def delete_users(ctx, fixture):
    for user_id in fixture["ids"]:
        delete_quietly(ctx, ctx.client.delete_user, UserId=user_id)


def listed_ids(response):
    return [u["UserId"] for u in response["Users"]]


def only_valkey(ctx, fixture, response, params):
    engines = {u["Engine"] for u in response["Users"]}
    check_eq(engines, {"valkey"}, "the engines listed")
    mine = [i for n, i in enumerate(fixture["ids"]) if n % 3 == 0]
    check(set(mine) <= set(listed_ids(response)), f"this run's valkey users listed: {listed_ids(response)}")


def only_the_user(ctx, fixture, response, params):
    check_eq(listed_ids(response), [fixture["ids"][4]], "the users described")


def the_filtered(ctx, fixture, response, params):
    check_eq(listed_ids(response), sorted(fixture["ids"][5:7]), "the users the filter names")


NODE_FIXTURE = {"setup": lambda ctx: tls_group_with_users(ctx, "mod"), "teardown": remove_tls_group}
NEVER_MADE = {"invalid": lambda ctx, f: ctx.name("u-never-made"), "error": "UserNotFound"}

TABLES = [
    Table(
        "CreateUser",
        [
            Member("UserId", lambda ctx, f: ctx.name("u-create-id"), described_as("UserId", lambda p: p["UserId"]),
                   invalid="1-starts-with-a-digit", error="InvalidParameterValue"),
            Member("UserName", "payments-app", described_as("UserName", "payments-app"),
                   invalid="has a space", error="InvalidParameterValue"),
            Member("Engine", "valkey", described_as("Engine", "valkey"), invalid="memcached",
                   error="InvalidParameterValue"),
            Member("Passwords", [P1, P2], two_passwords, invalid=["too-short"], error="InvalidParameterValue"),
            Member("AccessString", "on ~app:* +@read", described_as("AccessString", "on ~app:* +@read"),
                   invalid="on ~* +@no-such-category", error="InvalidParameterValue"),
            Member("Tags", [{"Key": "team", "Value": "payments"}], tags_listed,
                   invalid=[{"Key": "aws:reserved", "Value": "x"}], error="InvalidParameterValue"),
        ],
        base=create_base,
        after_valid=delete_created,
    ),
    # Without Passwords in the base, so the other ways to authenticate can be given.
    Table(
        "CreateUser",
        [
            # false without passwords leaves the user no way to authenticate.
            Member("NoPasswordRequired", True, authentication("no-password", 0),
                   invalid=False, error="InvalidParameterValue"),
            Member("AuthenticationMode", {"Type": "password", "Passwords": [P1]}, authentication("password", 1),
                   invalid={"Type": "password"}, error="InvalidParameterValue"),
        ],
        base=lambda ctx, f: create_base(ctx, f, auth=False),
        after_valid=delete_created,
    ),
    Table(
        "ModifyUser",
        [
            Member("UserId", lambda ctx, f: f["app"], read_only_on_node, **NEVER_MADE),
            Member("AccessString", "on ~cache:* +@all", key_pattern_on_node,
                   invalid="on ~* +@no-such-category", error="InvalidParameterValue"),
            Member("Passwords", [P2], new_password_on_node, invalid=["too-short"], error="InvalidParameterValue"),
            Member("NoPasswordRequired", True, no_password_on_node, no_invalid=(
                "a boolean: false with no Passwords keeps this password user's passwords; the table of "
                "the no-password default user refuses false")),
            Member("AuthenticationMode", {"Type": "password", "Passwords": [P2]}, new_password_on_node,
                   invalid={"Type": "no-such-type"}, error="InvalidParameterValue"),
            Member("Engine", "valkey", engine_described, invalid="memcached", error="InvalidParameterValue"),
        ],
        base=lambda ctx, f: {"UserId": f["app"], "AccessString": READ_ONLY},
        after_valid=restore_app,
        **NODE_FIXTURE,
    ),
    # On the no-password `default` user, false without Passwords would leave it no way to
    # authenticate: refused, as CreateUser refuses a user without any.
    Table(
        "ModifyUser",
        [
            Member("NoPasswordRequired", True, default_without_password, invalid=False,
                   error="InvalidParameterValue"),
        ],
        base=lambda ctx, f: {"UserId": f["default"], "AccessString": "on ~* -@all +get +ping"},
        after_valid=restore_default,
        **NODE_FIXTURE,
    ),
    # AppendAccessString excludes AccessString: its own table, the base without it.
    Table(
        "ModifyUser",
        [
            Member("AppendAccessString", "-set", appended_on_node,
                   invalid="+@no-such-category", error="InvalidParameterValue"),
        ],
        base=lambda ctx, f: {"UserId": f["app"]},
        after_valid=restore_app,
        **NODE_FIXTURE,
    ),
    Table("DeleteUser", [Member("UserId", user_to_delete, deleted, **NEVER_MADE)], **NODE_FIXTURE),
    Table(
        "DescribeUsers",
        [
            Member("Engine", "valkey", only_valkey, no_invalid=(
                "an engine no user has lists none; the model gives DescribeUsers no InvalidParameterValue")),
            Member("UserId", lambda ctx, f: f["ids"][4], only_the_user, **NEVER_MADE),
            Member("Filters", lambda ctx, f: [{"Name": "user-id", "Values": f["ids"][5:7]}], the_filtered,
                   invalid=[{"Name": "user-name", "Values": ["x"]}], error="InvalidParameterValue"),
        ]
        + paging_members("DescribeUsers", lambda r: r["Users"], lambda u: u["UserId"]),
        setup=many_users,
        teardown=delete_users,
    ),
]
