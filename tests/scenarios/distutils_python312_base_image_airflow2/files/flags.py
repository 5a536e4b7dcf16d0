"""Feature flags from the environment."""
import os
from distutils.util import strtobool


def feature_enabled(name):
    return bool(strtobool(os.environ.get(name, "false")))
