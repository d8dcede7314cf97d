"""gunicorn's settings for the web process. gunicorn reads this file from the directory it starts in.

Two processes for two cores. Threads, so that a long CSV download holds a thread, not a whole
worker, and gunicorn does not time the worker out.
"""

workers = 2
threads = 4
# Longer than a client's pause between two requests on one connection (a browser's reading time,
# a script's wait): a connection closed just as the next request goes out on it is reset, and a
# client that does not retry, as most scripts' HTTP libraries do not, reports an error. At
# gunicorn's default of 2 s, 3 requests in 936 of the 50-user load test were reset.
keepalive = 5
