"""gunicorn's entry point: `gunicorn bot.wsgi:app`. Settings come from the environment."""
from .app import create_app
from .config import load_settings
from .logs import configure

settings = load_settings()
configure(settings.LOG_LEVEL, settings.LOG_FORMAT)
app = create_app(settings)
