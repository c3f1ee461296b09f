"""Domain services: plain Python over the database, Docker and tools. No Textual here."""
