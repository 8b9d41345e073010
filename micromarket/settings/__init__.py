"""Settings profiles.

- ``base``: everything, driven by environment variables, secure by default.
- ``development``: ``make run`` (DEBUG on localhost, email printed to the console).
- ``test``: pytest (fast password hashing, in-memory email, tasks run immediately).
- ``production``: ``check --deploy`` clean; refuses to start without real secrets and hosts.
"""
