"""The shop's own domain, as data: its catalog (catalog.py; a shop's file read by catalog_import.py),
its rules from the shop file (rules_source.py, checked against rules_schema.py) and its FAQ (faq.py).
Nothing here holds a connection: the store and the workers read the shop through these types."""
