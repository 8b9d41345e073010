"""The ``micromarket`` command: Django's management commands with micromarket's settings.

micromarket run      serve the site and the worker (what ``make run`` calls)
micromarket worker   background tasks and the deadline sweeper
micromarket demo     build the demo marketplace and print its logins
micromarket <any manage.py command>
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "micromarket.settings.development")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
