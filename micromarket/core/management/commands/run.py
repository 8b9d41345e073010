"""``micromarket run``: the web server and the worker side by side; Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the site and run the background worker until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport: str, **options):
        python = [sys.executable, "-m", "micromarket"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        children = {
            "web": subprocess.Popen([*python, "runserver", addrport], env=env),  # noqa: S603
            "worker": subprocess.Popen([*python, "worker"], env=env),  # noqa: S603
        }
        self.stdout.write(
            self.style.SUCCESS(f"micromarket is running at http://{addrport}/ — Ctrl-C stops it.")
        )

        def stop(*_):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        try:
            while True:
                for name, proc in children.items():
                    code = proc.poll()
                    if code is not None:
                        self.stderr.write(f"{name} exited with code {code}; stopping.")
                        exit_code = code or 1
                        raise KeyboardInterrupt
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for proc in children.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
            deadline = time.monotonic() + 10
            for proc in children.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
            self.stdout.write("micromarket stopped.")
        if exit_code:
            sys.exit(exit_code)
