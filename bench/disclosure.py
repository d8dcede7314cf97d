"""A force's public family suppressed: the exact incremental audit against the method it replaced, run side by
side on the same family, and the stored family read back as every other process reads it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oversight_bench .venv/bin/python bench/disclosure.py \\
        --reuse --force metropolitan --runs 3

The database named in DATABASE_URL is dropped and filled by seed_demo (unless --reuse). Each run reads the
force's family from its monthly summaries, suppresses it with the method of 2026-12-06 kept in the tests
(tests/incidents/suppression_reference.py: every audit over the whole system, a dense QR per part) and with
today's (incidents/suppression.py), checks that both hide the same cells, then times what a process does on
a new version: public_cells with nothing stored (make it under the lock and keep it), and with the family
stored (read it, cache empty). Every run's figures are printed, with the load average at its start.
"""

import argparse
import os
import sys
import time
from pathlib import Path

from fresh_database import seeded_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--force", default="metropolitan")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep the database and its reports")
    parser.add_argument("--no-reference", action="store_true", help="time today's method alone")
    arguments = parser.parse_args()
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only")
    url = os.environ["DATABASE_URL"]
    if not arguments.reuse:
        seeded_database(url, reports=arguments.reports, seed=arguments.seed, root=ROOT)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oversight.settings")
    import django

    django.setup()
    import numpy as np
    from django.core.cache import cache
    from django.core.management import call_command

    from forces.models import Force
    from incidents import disclosure, suppression
    from incidents.models import PublicFamily
    from tests.incidents import suppression_reference

    call_command("migrate", "--noinput", verbosity=0)
    force = Force.objects.get(pk=arguments.force)
    threshold = 5
    for run in range(1, arguments.runs + 1):
        load = os.getloadavg()
        (keys, values, equations), read = timed(disclosure.table_family, force)
        hidden, new = timed(suppression.suppressed_cells, values, equations, threshold=threshold)
        line = f"run {run}: load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {len(keys):,} cells, "
        line += f"{int(np.count_nonzero(hidden)):,} hidden; read {read:.2f} s; exact incremental {new:.2f} s"
        if not arguments.no_reference:
            reference, old = timed(suppression_reference.suppressed_cells, values, equations, threshold=threshold)
            same = "same cells" if np.array_equal(hidden, reference) else "DIFFERENT CELLS"
            line += f"; reference {old:.2f} s ({same}); ratio {old / new:.1f}x"
        PublicFamily.objects.filter(force=force).delete()
        cache.clear()
        made, cold = timed(disclosure.public_cells, force)
        cache.clear()
        stored, warm = timed(disclosure.public_cells, force)
        assert stored.hidden == made.hidden
        line += f"; public_cells: made and kept {cold:.2f} s, read back {warm * 1000:.0f} ms"
        print(line, flush=True)


if __name__ == "__main__":
    main()
