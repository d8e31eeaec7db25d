"""Preference studies: design, participant pages and honest statistics. May import ``void_eval``'s core types."""
