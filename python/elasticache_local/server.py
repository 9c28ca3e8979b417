"""Starts the `elasticache-local` executable on a free loopback port and stops it with its nodes."""

import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import urllib.request

READY_PREFIX = "elasticache-local listening on "


def executable():
    """The executable this wheel installed (its scripts directory), else the one on PATH.

    ELASTICACHE_LOCAL_BINARY overrides both, e.g. to test a locally built server.
    """
    override = os.environ.get("ELASTICACHE_LOCAL_BINARY")
    if override:
        return override
    for scheme_dir in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        candidate = os.path.join(scheme_dir, "elasticache-local")
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("elasticache-local")
    if found is None:
        raise RuntimeError("elasticache-local is not installed: pip install elasticache-local")
    return found


class Server:
    """One elasticache-local process listening on 127.0.0.1:<free port>.

    Extra command-line arguments go in `args`; every flag also has an ELASTICACHE_LOCAL_<FLAG>
    environment variable, which the process inherits. The server's log (stderr) goes to a
    temporary file whose path is `log_path`.
    """

    def __init__(self, args=(), ready_timeout=60.0):
        self.args = list(args)
        self.ready_timeout = ready_timeout
        self.process = None
        self.endpoint_url = None
        self.log_path = None

    def start(self):
        log = tempfile.NamedTemporaryFile(prefix="elasticache-local-", suffix=".log", delete=False)
        self.log_path = log.name
        command = [executable(), "--listen", "127.0.0.1:0", *self.args]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True
        )
        log.close()
        self.endpoint_url = self._read_ready_line()
        # Anything printed later must not fill the pipe and block the server.
        threading.Thread(target=self._drain_stdout, daemon=True).start()
        return self

    def _read_ready_line(self):
        found = {}

        def read():
            for line in self.process.stdout:
                if line.startswith(READY_PREFIX):
                    found["url"] = line[len(READY_PREFIX):].strip()
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(self.ready_timeout)
        if "url" in found:
            return found["url"]
        self.stop()
        raise RuntimeError(
            f"elasticache-local printed no ready line within {self.ready_timeout} s "
            f"(exit status {self.process.returncode}); its log:\n{self.log()}"
        )

    def _drain_stdout(self):
        for _ in self.process.stdout:
            pass

    def log(self):
        with open(self.log_path, errors="replace") as log:
            return log.read()

    def reset(self):
        """POST /_reset: every group, event and quota counter removed (the nodes are stopped)."""
        request = urllib.request.Request(f"{self.endpoint_url}/_reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def stop(self, timeout=15.0):
        """SIGTERM (the server stops every redis-server it started), then wait; SIGKILL late."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise RuntimeError(f"elasticache-local ignored SIGTERM for {timeout} s; killed")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

