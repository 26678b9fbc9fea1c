"""Paying online with Stripe Checkout: the SDK edge (gateway.py), the link for an order
(links.py), Stripe's signed webhook (webhook.py) and the expiry of unpaid orders (expiry.py).

The amount always comes from the stored order (never from text or the model), the order becomes
paid only through a webhook whose signature the SDK verified (or Stripe's own answer about the
session, when the expiry sweep asks), and every step is idempotent.
"""
