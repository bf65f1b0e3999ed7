"""Settings (environment and ``.env``) and trading profiles."""

from engine.config.profiles import PROFILES, Profile, ProfileName, build_profile
from engine.config.settings import Settings, load_settings

__all__ = ["PROFILES", "Profile", "ProfileName", "Settings", "build_profile", "load_settings"]
