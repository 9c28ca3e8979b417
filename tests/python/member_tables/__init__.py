"""The member table's rows, one module per area (see tests/python/member_table.py)."""
