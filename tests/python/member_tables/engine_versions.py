"""Rows of DescribeCacheEngineVersions: each filter checked against the unfiltered listing (the
rows it keeps and the ones it drops). The filters are matches, not lookups: a well-formed
engine, version or family the catalogue does not have lists nothing, and the model gives the
action no errors, so only a malformed family, MaxRecords and Marker have a refusal."""

from flowcheck import check, check_eq
from member_tables.harness import NO_INVALID, Member, Table
from member_tables.resource_paging import paging_members

UNKNOWN_MATCHES_NOTHING = "a value the catalogue does not have lists nothing (the model gives the action no errors)"


def everything(ctx):
    pages = ctx.client.get_paginator("describe_cache_engine_versions").paginate()
    return [(v["Engine"], v["EngineVersion"], v["CacheParameterGroupFamily"])
            for page in pages for v in page["CacheEngineVersions"]]


def rows(response):
    return [(v["Engine"], v["EngineVersion"], v["CacheParameterGroupFamily"]) for v in response["CacheEngineVersions"]]


def kept(position, wanted, what):
    def effect(ctx, fixture, response, params):
        listed = rows(response)
        expected = [row for row in everything(ctx) if row[position] == wanted]
        check(bool(expected), f"the catalogue has no {what} {wanted}")
        check_eq(listed, expected, f"the versions of {what} {wanted}")
        check(len(listed) < len(everything(ctx)), f"the {what} filter dropped nothing")
    return effect


def defaults_only(ctx, fixture, response, params):
    listed = rows(response)
    engines = [row[0] for row in listed]
    check_eq(sorted(engines), sorted(set(engines)), "one default per engine")
    all_rows = everything(ctx)
    check_eq(set(engines), {row[0] for row in all_rows}, "the engines with a default")
    for row in listed:
        newest = [r for r in all_rows if r[0] == row[0]][-1]
        check_eq(row, newest, f"{row[0]}'s default: its newest version")


TABLES = [
    Table(
        "DescribeCacheEngineVersions",
        [
            Member("Engine", "valkey", kept(0, "valkey", "engine"), no_invalid=UNKNOWN_MATCHES_NOTHING),
            Member("EngineVersion", "7.1", kept(1, "7.1", "version"), no_invalid=UNKNOWN_MATCHES_NOTHING),
            # The API reference's constraints on the member: a letter first, no double hyphen.
            Member("CacheParameterGroupFamily", "redis6.x", kept(2, "redis6.x", "family"),
                   invalid="6--redis", error="InvalidParameterValue"),
            Member("DefaultOnly", True, defaults_only,
                   no_invalid="a boolean: false lists every version, as leaving it out does"),
        ]
        + paging_members("DescribeCacheEngineVersions", rows, lambda row: row),
    ),
]
