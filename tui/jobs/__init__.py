"""Job runner: concurrency, timeouts, cancel, retries, resume. No Textual."""
