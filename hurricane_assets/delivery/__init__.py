"""Delivery of agreed shares: project, filter, mask, write the consumer's Delta table; revoke and expire."""
