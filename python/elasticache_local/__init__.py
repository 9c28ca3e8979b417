"""elasticache-local: the Amazon ElastiCache query API over real redis-server processes.

The wheel puts the `elasticache-local` executable on PATH; this package starts and stops it
for tests (`Server`) and registers the pytest fixtures (`elasticache_local.pytest_plugin`).
"""

from elasticache_local.server import Server, executable

__all__ = ["Server", "executable"]
