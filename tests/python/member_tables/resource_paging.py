"""The `MaxRecords` and `Marker` rows every Describe table of the resource actions shares (no
table of its own): a page boundary seen (`MaxRecords` 20 answers 20 items and a `Marker`), the
issued marker resuming exactly after the first page, and a marker that was never issued, or a
`MaxRecords` outside 20-100, refused with `InvalidParameterValue`."""

import botocore

from flowcheck import check, check_eq
from member_tables.harness import Member

TABLES = []

NEVER_ISSUED = "bm90LWEtbWFya2VyLXRoaXMtc2VydmVyLWlzc3VlZA"


def paging_members(action, items, key, base=lambda ctx, f: {}, marker=lambda r: r.get("Marker")):
    """The two rows of `action`: `items(response)` is the listed items, `key(item)` what tells
    them apart, `base` the other members of the listing, `marker(response)` its `Marker`."""

    def call(ctx, fixture, **params):
        return getattr(ctx.client, botocore.xform_name(action))(**base(ctx, fixture), **params)

    def full_page(ctx, fixture, response, params):
        listed = items(response)
        check_eq(len(listed), 20, f"{action} with MaxRecords 20: the items listed")
        check(bool(marker(response)), f"{action} with MaxRecords 20 and more to list: no Marker")

    def first_marker(ctx, fixture):
        first = call(ctx, fixture, MaxRecords=20)
        check(bool(marker(first)), f"{action}: the fixture should give more than 20 items")
        return marker(first)

    def resumes(ctx, fixture, response, params):
        everything = [key(i) for i in items(call(ctx, fixture, MaxRecords=100))]
        check(len(everything) > 20, f"{action}: the fixture should give more than 20 items")
        page = [key(i) for i in items(response)]
        check(bool(page), f"{action}: the page after the marker is empty")
        check_eq(page[0], everything[20], f"{action}: the first item after the marker")
        check(not set(page) & set(everything[:20]), f"{action}: the next page repeats the first")

    return [
        Member("MaxRecords", 20, full_page, invalid=19, error="InvalidParameterValue"),
        Member("Marker", first_marker, resumes, invalid=NEVER_ISSUED, error="InvalidParameterValue"),
    ]
