"""Orderline's core. Start-up lives here at the top (config, runtime, app, wsgi, cli, connections,
doctor); everything else is in sub-packages by role, lowest first: common (errors, logs, phones,
text, tokens, Redis key names), shop (the shop's domain as data), pipeline and store (Redis and
MongoDB), the services (nlu, customers, outreach, payments, operations) and web (the operators'
HTTP side). docs/architecture.md draws the layers and the imports allowed between them."""
