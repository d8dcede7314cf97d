#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oversight.settings")
    from oversight.commandline import main

    main(sys.argv)
