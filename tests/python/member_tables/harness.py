"""The machinery of the member table (issue 20 item 5): one `Table` per implemented action, one
`Member` row per input member of the action's botocore input shape. A row sends the member once
with a plausible value and checks its visible effect, and once with an invalid value and checks
AWS's error code. `run_tables` runs them; `coverage_gaps` lists the members of the implemented
actions that no row covers, so an action or member that lands without a row fails the test.

The client is boto3 with client-side parameter validation off, so an invalid value (a wrong
type, an out-of-range number) reaches the server as it would from an SDK that does not validate.
"""

import os
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

from flowcheck import CheckFailed, check, step

# A member whose `invalid` is NO_INVALID has no value the server could refuse (a free boolean
# flag of a request...): the row says why in `no_invalid`.
NO_INVALID = object()


@dataclass
class Member:
    """One input member: `valid` (a value, or a callable of the fixture returning one) and the
    check of its effect, `effect(ctx, fixture, response, params)`, which raises CheckFailed when
    the value had no visible effect; `invalid` and the `error` code AWS answers it with."""

    name: str
    valid: Any
    effect: Callable
    invalid: Any = NO_INVALID
    error: Optional[str] = None
    no_invalid: Optional[str] = None  # why there is no invalid value, when invalid is NO_INVALID


@dataclass
class Table:
    """An action's rows. `base(ctx, fixture)` gives the members every call needs (without the
    row's member); `setup(ctx)` makes the fixture the calls act on and `teardown(ctx, fixture)`
    removes it; `after_valid(ctx, fixture, response, params)` undoes a valid call's effect
    (deletes what a Create made, waits for a Modify to finish) before the next row."""

    action: str
    members: list
    base: Callable = lambda ctx, fixture: {}
    setup: Callable = lambda ctx: None
    teardown: Callable = lambda ctx, fixture: None
    after_valid: Callable = lambda ctx, fixture, response, params: None


@dataclass
class Ctx:
    """What a row's callables get: the client, the server's endpoint, a run id for unique
    names, and `created`, callables a row registers to delete what it made if it fails."""

    client: Any
    endpoint: str
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    created: list = field(default_factory=list)

    def name(self, prefix):
        return f"{prefix}-{self.run}"


def client_without_validation(endpoint):
    return boto3.client(
        "elasticache",
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        config=Config(
            retries={"max_attempts": 1},
            connect_timeout=5,
            read_timeout=60,
            parameter_validation=False,
        ),
    )


def input_members(action):
    """The top-level input members of `action` in botocore's ElastiCache model."""
    model = botocore.session.get_session().get_service_model("elasticache")
    shape = model.operation_model(action).input_shape
    return list(shape.members) if shape is not None else []


def implemented_actions(client):
    """The actions the server implements, as its answer to a valid AWS action it does not
    implement lists them (`... does not implement yet. Supported: A, B.`)."""
    try:
        client.describe_reserved_cache_nodes_offerings()
    except ClientError as error:
        message = error.response["Error"]["Message"]
        check("Supported: " in message, f"unexpected answer to an unimplemented action: {message}")
        return [a.strip() for a in message.split("Supported: ", 1)[1].rstrip(".").split(",")]
    raise CheckFailed("DescribeReservedCacheNodesOfferings answered: the table needs updating")


def coverage_gaps(tables, actions, not_yet):
    """Members of `actions` that no table row covers and that `not_yet` does not list."""
    covered = {(t.action, m.name) for t in tables for m in t.members}
    gaps = []
    for action in actions:
        for member in input_members(action):
            if (action, member) not in covered and (action, member) not in not_yet:
                gaps.append(f"{action}.{member}")
    return gaps


def unknown_rows(tables):
    """Rows naming a member the model does not have (a typo would cover nothing)."""
    wrong = []
    for table in tables:
        members = set(input_members(table.action))
        wrong += [f"{table.action}.{m.name}" for m in table.members if m.name not in members]
    return wrong


def _call(ctx, action, params):
    method = botocore.xform_name(action)
    return getattr(ctx.client, method)(**params)


def _value(value, ctx, fixture):
    return value(ctx, fixture) if callable(value) else value


def run_valid(ctx, table, fixture, member):
    params = dict(table.base(ctx, fixture))
    params[member.name] = _value(member.valid, ctx, fixture)
    response = _call(ctx, table.action, params)
    try:
        member.effect(ctx, fixture, response, params)
    finally:
        table.after_valid(ctx, fixture, response, params)


def run_invalid(ctx, table, fixture, member):
    if member.invalid is NO_INVALID:
        check(bool(member.no_invalid), f"{table.action}.{member.name}: no invalid value, no reason")
        return
    params = dict(table.base(ctx, fixture))
    params[member.name] = _value(member.invalid, ctx, fixture)
    try:
        response = _call(ctx, table.action, params)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        message = error.response["Error"]["Message"]
        check(code == member.error, f"invalid {params[member.name]!r}: {code} ({message}), expected {member.error}")
        return
    table.after_valid(ctx, fixture, response, params)
    raise CheckFailed(f"invalid {params[member.name]!r} was accepted, expected {member.error}")


def run_tables(ctx, tables):
    """Runs every row of every table; returns the failures (a row's failure does not stop the
    others, so one run shows every gap)."""
    failures = []
    for table in tables:
        fixture = table.setup(ctx)
        try:
            for member in table.members:
                for kind, run in (("valid", run_valid), ("invalid", run_invalid)):
                    what = f"{table.action}.{member.name} {kind}"
                    try:
                        run(ctx, table, fixture, member)
                        step(what)
                    except Exception as error:  # noqa: BLE001 - every row's failure is reported
                        if not isinstance(error, (CheckFailed, ClientError)):
                            traceback.print_exc()
                        failures.append(f"{what}: {error}")
                        print(f"not ok - {what}: {error}", flush=True)
        finally:
            table.teardown(ctx, fixture)
            for delete in reversed(ctx.created):
                try:
                    delete()
                except Exception:  # noqa: BLE001 - already gone
                    pass
            ctx.created.clear()
    return failures
