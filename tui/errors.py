"""Errors a user can cause, each with a message a person can act on.

The UI shows `.msg` in a notification; the CLI prints it on one line and exits 1.
"""

from tui.secrets import redact


def shown(text: str) -> str:
    """`text` safe to print on a terminal and on one line: control characters (newlines,
    escape sequences) and undecodable bytes appear escaped instead of acting."""
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape", "backslashreplace").decode()
        for char in text
    )


class ThesisError(Exception):
    """Base of every user-facing error. Its message is always one printable line: names
    from generated apps (a service called `web\n`, a folder with an escape sequence) are
    escaped, never able to break a line or act on the terminal."""

    title = "Error"

    def __init__(self, msg: str) -> None:
        msg = shown(redact(msg))
        super().__init__(msg)
        self.msg = msg

    def __str__(self) -> str:
        return self.msg


class ConfigError(ThesisError):
    """A setting (environment variable or .env entry) has an invalid value."""

    title = "Invalid setting"


class DatabaseError(ThesisError):
    """The database cannot be reached, opened or migrated."""

    title = "Database error"


class ValidationError(ThesisError):
    """Input that breaks a rule of the data model (duplicate, out of range, bad name)."""

    title = "Invalid input"


class NotFoundError(ThesisError):
    """The thing asked for does not exist."""

    title = "Not found"


class DockerUnavailableError(ThesisError):
    """No Docker engine answers."""

    title = "Docker unavailable"


class RemoteServiceError(ThesisError):
    """A remote API (OpenRouter, ZAP) refused, failed, timed out or answered nonsense."""

    title = "Remote service error"


class PortsExhaustedError(ThesisError):
    """No free port pair is left in the configured ranges."""

    title = "No free ports"


class ScanError(ThesisError):
    """A folder of generated apps cannot be scanned at all (missing, not a folder)."""

    title = "Scan failed"


class ComposeError(ThesisError):
    """An app's compose file is missing, malformed, or asks for something we cannot run."""

    title = "Compose file"


class ContainerError(ThesisError):
    """A container action failed: a build, a start, a port, an image, a container that died."""

    title = "Container action failed"


class AppStartError(ContainerError):
    """The app itself would not run: its build failed or a service exited at once (not the
    engine, a busy port or another process at work on it). An analysis that needs the app
    up may read this as its result (no endpoint answered)."""
