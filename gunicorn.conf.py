"""gunicorn's settings for the web process. gunicorn reads this file from the directory it starts in.

Processes: twice the cores and one (gunicorn's own advice), or WEB_CONCURRENCY. Python runs one
thread of a process at a time, and gunicorn gives each process the connections it accepts, for as
long as they are kept alive: with one process a core, a process with the busier connections queued
them while the other core idled (50 signed-in users on 2 cores: p95 170-450 ms with 2 processes of
4 threads, 140-350 ms with 5 of 2; medians 39-220 and 35-110 ms; bench/RESULTS.md). Threads, so that a long CSV
download holds a thread, not a whole process, and gunicorn does not time the process out.
"""

import os

# The cores this process may run on (a container's or a pinned share), not every core of the host.
cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * cores + 1)
threads = 2
# Longer than a client's pause between two requests on one connection (a browser's reading time,
# a script's wait): a connection closed just as the next request goes out on it is reset, and a
# client that does not retry, as most scripts' HTTP libraries do not, reports an error. At
# gunicorn's default of 2 s, 3 requests in 936 of the 50-user load test were reset.
keepalive = 5
# Each process listens on a socket of its own (SO_REUSEPORT), and the kernel spreads new connections
# over them. On one shared socket, whichever process woke first accepted them: the 50 users'
# connections, opened at once and then kept alive, went unevenly, one process at 50-69% of a core while
# two others idled at 0-3%, its requests queued behind one another while cores went unused. 50
# signed-in users, p95: 99-400 ms over seven runs before, 110-200 ms over three after; 200 public
# readers: 130-160 ms, 0.54-0.59x a static file (bench/RESULTS.md).
reuse_port = True
