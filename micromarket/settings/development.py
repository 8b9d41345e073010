"""``make run``: the base settings with DEBUG on (served on localhost only)."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
