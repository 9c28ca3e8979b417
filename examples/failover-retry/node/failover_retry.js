// The same application as ../failover_retry.py with ioredis: keeps writing order:N = N through
// a failover, with a retry policy for what the primary endpoint does meanwhile. The Python
// script creates the group, calls TestFailover and checks the data; with APP=node it runs this
// as its writer: `node failover_retry.js HOST PORT`. It prints one line per thing it saw:
//   error <epoch ms> <refused|timeout|closed|readonly>   (absorbed by the policy)
//   gaveup <epoch ms>                                    (a write rejected: tried again)
//   progress <epoch ms> <writes acknowledged>            (every 100 ms)
//   done <writes acknowledged>                           (after stdin closes)
"use strict";

const Redis = require("ioredis");

const [host, port] = [process.argv[2], Number(process.argv[3])];
const say = (line) => process.stdout.write(line + "\n");

const kind = (error) => {
  if (error.message.startsWith("READONLY")) return "readonly";
  if (error.code === "ECONNREFUSED") return "refused";
  if (error.code === "ETIMEDOUT" || /timed? ?out/i.test(error.message)) return "timeout";
  return "closed";
};

// The policy: reconnect with exponential backoff (10 ms doubling to 1 s, forever), keep a
// command queued across up to 20 reconnects, and on READONLY (a connection made during the
// DNS TTL reaches the old primary, now a replica) reconnect and resend the command (2).
const redis = new Redis({
  host,
  port,
  connectTimeout: 1000,
  commandTimeout: 2000,
  maxRetriesPerRequest: 20,
  retryStrategy: (times) => Math.min(10 * 2 ** times, 1000),
  reconnectOnError: (error) => {
    if (!error.message.startsWith("READONLY")) return false;
    say(`error ${Date.now()} readonly`);
    return 2;
  },
});
redis.on("error", (error) => say(`error ${Date.now()} ${kind(error)}`));

let acknowledged = 0;
let stopping = false;
process.stdin.on("end", () => (stopping = true));
process.stdin.resume();
const progress = setInterval(() => say(`progress ${Date.now()} ${acknowledged}`), 100);

(async () => {
  while (!stopping) {
    try {
      await redis.set(`order:${acknowledged}`, String(acknowledged));
      acknowledged += 1;
    } catch (error) {
      say(`gaveup ${Date.now()} ${kind(error)}`); // the same write is tried again
    }
  }
  clearInterval(progress);
  say(`done ${acknowledged}`);
  redis.disconnect();
})();
