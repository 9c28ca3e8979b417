#!/usr/bin/env python3
"""Every input member of every implemented action, sent once with a plausible value (its effect
checked) and once with an invalid one (AWS's error code checked): issue 20 item 5. The rows live
in tests/python/member_tables/<area>.py, each module a `TABLES` list; the members without a row
yet are listed, by name, in member_tables/not_yet.py and printed, so the gap is visible. A member
of an implemented action that is in neither fails the run, as does a row that fails.

Endpoint from ELASTICACHE_ENDPOINT (http://127.0.0.1:PORT); `member_table.py Action...` runs
only those actions' tables (and skips the coverage check). Run by tests/clients.rs.
"""

import importlib
import os
import pkgutil
import sys

import member_tables
from flowcheck import CheckFailed, check, run_flow, step
from member_tables.harness import (
    Ctx,
    client_without_validation,
    coverage_gaps,
    implemented_actions,
    run_tables,
    unknown_rows,
)
from member_tables.not_yet import NOT_YET

ENDPOINT = os.environ.get("ELASTICACHE_ENDPOINT")


def all_tables():
    tables = []
    for module in pkgutil.iter_modules(member_tables.__path__):
        if module.name in ("harness", "not_yet"):
            continue
        tables += importlib.import_module(f"member_tables.{module.name}").TABLES
    return tables


def body():
    ctx = Ctx(client_without_validation(ENDPOINT), ENDPOINT)
    tables = all_tables()
    only = set(sys.argv[1:])
    wrong = unknown_rows(tables)
    check(not wrong, f"rows for members the model does not have: {wrong}")
    if not only:
        actions = implemented_actions(ctx.client)
        covered = {(t.action, m.name) for t in tables for m in t.members}
        stale = sorted(f"{a}.{m}" for a, m in NOT_YET & covered)
        check(not stale, f"not_yet.py lists members that have rows: {stale}")
        gaps = coverage_gaps(tables, actions, NOT_YET)
        check(not gaps, f"input members of implemented actions without a row: {gaps}")
        step(f"every input member of the {len(actions)} implemented actions has a row or is listed as not yet")
        for action, member in sorted(NOT_YET):
            print(f"not yet covered - {action}.{member}", flush=True)
    else:
        tables = [t for t in tables if t.action in only]
    failures = run_tables(ctx, tables)
    rows = sum(len(t.members) for t in tables)
    if failures:
        raise CheckFailed(f"{len(failures)} of {2 * rows} member checks failed:\n" + "\n".join(failures))
    step(f"{rows} members of {len(tables)} actions: valid value's effect and invalid value's error")


def cleanup():
    pass


if __name__ == "__main__":
    sys.exit(run_flow("member table", ENDPOINT, body, cleanup))
