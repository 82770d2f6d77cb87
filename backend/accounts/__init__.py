"""Users, registration, API tokens and per-user settings."""
