"""What every layer above the conversation may use: the error hierarchy, logging that masks phone
numbers, phone numbers, customer text, named tokens, and the names of Redis keys."""
