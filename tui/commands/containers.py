"""`thesis containers ...`: build, start, stop, restart, remove an app's containers; status; logs.

Action output streams to stderr as it happens; the outcome is one line on stdout.
"""

from __future__ import annotations

from typing import Any

import click

from tui.commands.base import Context, fail, handles_errors, pass_context
from tui.errors import DockerUnavailableError, shown
from tui.services.containers import ContainerService
from tui.services.health import check_health, verdict


def _service(context: Context) -> ContainerService:
    return ContainerService(context.database(), context.settings)


def _progress(line: str) -> None:
    click.echo(line, err=True)


def _check(service: ContainerService, model: str, number: int) -> None:
    """Probe the started app; exit 1 naming the service that does not answer."""
    results = check_health(service, model, number, _progress)
    for result in results:
        click.echo(result.summary())
    verdict(results, failure_prefix=f"{model} app {number} started, but ")


def app_arguments(command):
    """MODEL NUMBER: which app (its model slug and its number, 1-30)."""
    command = click.argument("number", type=click.IntRange(1, 30))(command)
    return click.argument("model")(command)


@click.group()
def containers() -> None:
    """Run generated apps in Docker: build, start, stop, restart, remove, status, logs."""


@containers.command("build")
@app_arguments
@pass_context
@handles_errors
def build(context: Context, model: str, number: int) -> None:
    """Build the images of app NUMBER of MODEL (output on stderr)."""
    tags = _service(context).build(model, number, _progress)
    click.echo(f"Built {len(tags)} images for {model} app {number}: {', '.join(tags)}")


@containers.command("start")
@app_arguments
@click.option("--no-check", is_flag=True, help="Do not probe the services over HTTP after.")
@pass_context
@handles_errors
def start(context: Context, model: str, number: int, no_check: bool) -> None:
    """Build what is missing, start the app's containers, then check they answer."""
    service = _service(context)
    target = service.start(model, number, _progress)
    click.echo(
        f"{target.label} is running: backend http://127.0.0.1:{target.backend_port}/, "
        f"frontend http://127.0.0.1:{target.frontend_port}/"
    )
    _say_where(context, target)
    if not no_check:
        _check(service, model, number)


def _say_where(context: Context, target: Any) -> None:
    """For an engine on another machine: how to open the app's addresses from here."""
    from tui.services.docker_engine import reach_hint

    ports = [p for p in (target.backend_port, target.frontend_port) if p is not None]
    hint = reach_hint(context.settings.docker_host, ports)
    if hint:
        click.echo(shown(hint))


@containers.command("restart")
@app_arguments
@click.option("--no-check", is_flag=True, help="Do not probe the services over HTTP after.")
@pass_context
@handles_errors
def restart(context: Context, model: str, number: int, no_check: bool) -> None:
    """Stop the app's containers and start them again."""
    service = _service(context)
    target = service.restart(model, number, _progress)
    click.echo(f"{target.label} restarted")
    if not no_check:
        _check(service, model, number)


@containers.command("stop")
@app_arguments
@pass_context
@handles_errors
def stop(context: Context, model: str, number: int) -> None:
    """Stop the app's containers (they are kept, with their logs)."""
    count = _service(context).stop(model, number, _progress)
    click.echo(f"Stopped {count} containers of {model} app {number}")


@containers.command("remove")
@app_arguments
@click.option("--images", is_flag=True, help="Also remove the images built for the app.")
@pass_context
@handles_errors
def remove(context: Context, model: str, number: int, images: bool) -> None:
    """Remove the app's containers and network (and, with --images, its images)."""
    count = _service(context).remove(model, number, _progress, images=images)
    click.echo(
        f"Removed {count} containers of {model} app {number}"
        + (" and its images" if images else "")
    )


@containers.command("status")
@click.argument("model", required=False)
@click.argument("number", required=False, type=click.IntRange(1, 30))
@pass_context
@handles_errors
def status(context: Context, model: str | None, number: int | None) -> None:
    """Sync every app's status with Docker; with MODEL NUMBER, show that app's containers."""
    service = _service(context)
    report = service.sync_status()
    if model is None:
        click.echo(report.summary())
        return
    if number is None:
        raise click.UsageError("give both MODEL and NUMBER, or neither")
    target = service.target(model, number)
    click.echo(f"{target.label}: {target.status}")
    for state in service.service_states(model, number):
        where = f"127.0.0.1:{state.host_port} -> {state.container_port}" if state.host_port else ""
        click.echo(f"  {state.service:<16} {state.state:<10} {state.name}  {where}".rstrip())


@containers.command("logs")
@app_arguments
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines (ctrl+c stops).")
@pass_context
@handles_errors
def logs(context: Context, model: str, number: int, follow: bool) -> None:
    """Print the app's container logs as `service | line` (also saved in THESIS_LOGS_DIR)."""
    service = _service(context)
    follower = service.follow_logs(model, number, follow=follow)
    interrupted = False
    try:
        for line in follower.lines():
            click.echo(line)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        follower.close()
    if follow and not interrupted:
        # The streams ended by themselves: the containers stopped, or the engine went away.
        service.close()
        try:
            service.client  # noqa: B018 - connects again: is the engine still there?
        except DockerUnavailableError:
            fail("Docker is unavailable: the engine went away while following the logs")
        if follower.error:
            fail(f"the log stream ended: {follower.error}")
