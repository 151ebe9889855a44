# The settings package: development values in base, as `startproject` and most
# tutorials leave them.
from .base import *  # noqa: F401,F403
