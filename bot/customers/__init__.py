"""Services about one customer: one-time codes (codes.py), a person taking over the conversation
(handoff.py), telling them their order moved on (notify.py), and their data shown or erased
(privacy.py)."""
