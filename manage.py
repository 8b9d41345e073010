#!/usr/bin/env python
"""Django's manage.py; the same as the ``micromarket`` command."""

from micromarket.cli import main

if __name__ == "__main__":
    main()
