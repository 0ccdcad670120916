"""pytest plugin (entry point ``pytest11``) giving a ``pardot_simulator`` fixture."""
