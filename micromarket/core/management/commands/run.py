"""``micromarket run``: the web server and the worker side by side; Ctrl-C stops both."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


class Command(BaseCommand):
    help = "Serve the site and run the background worker until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport: str, **options):
        python = [sys.executable, "-m", "micromarket"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # Each child leads its own process group, so stopping it also stops what it started
        # (runserver's autoreloader runs the server in a grandchild process).
        children = {
            name: subprocess.Popen(cmd, env=env, start_new_session=True)  # noqa: S603
            for name, cmd in (
                ("web", [*python, "runserver", addrport]),
                ("worker", [*python, "worker"]),
            )
        }
        self.stdout.write(
            self.style.SUCCESS(f"micromarket is running at http://{addrport}/ — Ctrl-C stops it.")
        )

        def stop(*_):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGHUP, stop)
        signal.signal(signal.SIGINT, stop)
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
                _signal_group(proc, signal.SIGTERM)
            deadline = time.monotonic() + 10
            for proc in children.values():
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                _signal_group(proc, signal.SIGKILL)
            self.stdout.write("micromarket stopped.")
        if exit_code:
            sys.exit(exit_code)
