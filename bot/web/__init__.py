"""The bot's own HTTP areas (health, products, the dev chat page). Channels live in `channels/`."""
