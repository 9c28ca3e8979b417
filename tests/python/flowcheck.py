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
