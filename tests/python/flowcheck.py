"""What every client flow in this directory checks with: a failed check raises CheckFailed, a
passed step is printed (`ok - ...`) and counted in `steps`, and `poll` waits for real state
against a deadline. Imported by the flows as `from flowcheck import ...` (a script's own
directory is first on sys.path)."""

import time

steps = []  # one line per passed step, for the summary


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def check_eq(actual, expected, what):
    check(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")


def step(message):
    steps.append(message)
    print(f"ok - {message}", flush=True)


def poll(what, timeout, probe, interval=0.05, retry_errors=False):
    """Calls probe() until it returns something truthy; fails after `timeout` seconds. With
    `retry_errors`, an exception from probe() (a client still reconnecting) counts as not yet."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = probe()
        except Exception as error:
            if not retry_errors or time.monotonic() >= deadline:
                raise
            last = error
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise CheckFailed(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


def elasticache_client(endpoint):
    """A boto3 client of the server at `endpoint`: one attempt per call (a retry would hide the
    server's first answer), the region from AWS_DEFAULT_REGION or us-east-1."""
    import os

    import boto3
    from botocore.config import Config

    return boto3.client(
        "elasticache",
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30),
    )


def run_flow(name, endpoint, body, cleanup):
    """A flow's exit code: 2 without an endpoint; else runs body(), then cleanup() whatever
    happened, and prints the `PASS <name> ...` line (0) or a `FAIL` line with the error (1);
    an error that is not a failed check also prints its traceback."""
    import sys
    import traceback

    if not endpoint:
        print("FAIL: set ELASTICACHE_ENDPOINT=http://127.0.0.1:PORT", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        body()
    except Exception as error:  # noqa: BLE001 - report any failure clearly
        if not isinstance(error, CheckFailed):
            traceback.print_exc()
        print(f"FAIL ({name}, after {len(steps)} passed steps): {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        cleanup()
    print(f"PASS {name} against {endpoint}: {len(steps)} steps in {time.monotonic() - started:.1f}s")
    return 0
