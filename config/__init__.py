"""Settings for every part of the service; imported by all packages, importing none of them."""

from config.env import SettingsError
from config.settings import Settings, load_settings

__all__ = ["Settings", "SettingsError", "load_settings"]
