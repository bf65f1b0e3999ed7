"""Settings (environment and ``.env``) and trading profiles."""

from engine.config.profiles import PROFILES, Profile, ProfileName, build_profile, profile_name
from engine.config.settings import Settings, load_settings, settings_for_command

__all__ = [
    "PROFILES",
    "Profile",
    "ProfileName",
    "Settings",
    "build_profile",
    "load_settings",
    "profile_name",
    "settings_for_command",
]
