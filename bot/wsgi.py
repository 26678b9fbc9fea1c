"""gunicorn's entry point: `gunicorn bot.wsgi:app`. Settings come from the environment.

A bad setting or an unreachable Redis / MongoDB prints one line naming it and stops gunicorn
(exit status 4 is gunicorn's "App failed to load": it halts instead of respawning the worker).
"""
import sys

from bot.app import create_app
from bot.common.logs import configure
from bot.config import SettingsError, load_settings
from bot.connections import ServiceUnreachable
from bot.runtime import build

try:
    settings = load_settings()
    configure(settings.LOG_LEVEL, settings.LOG_FORMAT)
    app = create_app(build(settings))
except (SettingsError, ServiceUnreachable) as exc:
    print(f"orderline: {exc}", file=sys.stderr, flush=True)
    sys.exit(4)
