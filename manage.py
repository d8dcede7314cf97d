#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oversight.settings")
    from oversight.commandline import main
    from oversight.logging import new_id, request_id

    request_id.set(f"{sys.argv[1] if len(sys.argv) > 1 else 'manage'}-{new_id()[:12]}")  # the command's log lines
    main(sys.argv)
