#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oversight.settings")
    from django.core.management import execute_from_command_line

    from oversight.logging import new_id, request_id

    request_id.set(f"{sys.argv[1] if len(sys.argv) > 1 else 'manage'}-{new_id()[:12]}")  # the command's log lines
    execute_from_command_line(sys.argv)
