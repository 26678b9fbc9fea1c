"""The operators' HTTP side and the web's plumbing; the channels' webhooks live in `channels/`.

    current        the runtime of the app handling a request (the accessor every blueprint uses)
    bearer         Bearer tokens: who is calling (named tokens, compared in constant time)
    json_body      a JSON body read strictly, with a 400 that names what is wrong
    access_log     gunicorn's access log with phone numbers masked
    health         /healthz, /readyz
    products       /api/products (the catalog, for integrators and operators)
    stats, metrics /stats and Prometheus /metrics
    dashboard      /dashboard, the operators' console, and the /api/dashboard it polls
    operator_api   /api/orders, /api/slots, /api/products edits, /api/customers (history, export, erase), /api/audit
    operator_inbox /api/handoffs and /api/deadletters
    operators      what those two share: who is acting, the audit trail, phone and integer arguments
    orders_query   finding and filtering orders for them
    stripe_webhook /webhooks/stripe
    devchat        / and /dev/*, the dev chat page (embedded default only)
"""
