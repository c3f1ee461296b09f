"""Build, start, stop, restart and remove a generated app's containers; sync their status.

Everything goes through the docker SDK (no docker CLI). The app's compose file is read by
`tui.services.compose`; each service's image is built from its folder, its container is
created on a per-app network, published on 127.0.0.1 only — backend on the app's backend
port, frontend on its frontend port — with the CPU and memory limits from the settings, no
new privileges, a pid limit and a bounded restart policy. Every action writes its output to
a sink (the TUI's log panel, the CLI's stderr) and to the app's actions.log, and lands in
the audit log. An action that fails marks the app `failed` and leaves nothing running.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
from sqlalchemy import select, update

from tui.config import Settings
from tui.db import Database
from tui.db.locks import try_lock
from tui.db.models import AppStatus, GeneratedApplication, PortAllocation
from tui.db.types import utcnow
from tui.errors import AppStartError, ContainerError, NotFoundError, ThesisError, shown
from tui.secrets import redact
from tui.services.apps import PORTS_OF_APP
from tui.services.audit import audited
from tui.services.compose import ComposePlan, ServiceSpec, find_compose_file, load_compose
from tui.services.container_logs import ActionLog, LogFollower, LogSink, app_log_dir
from tui.services.container_status import StatusSync, SyncReport, observed_status
from tui.services.docker_engine import (
    connect,
    docker_errors,
    engine_id,
    engine_reach,
    ssh_transport,
)
from tui.services.docker_names import (
    LABEL_CONFIG,
    LABEL_ROLE,
    LABEL_SERVICE,
    app_filter,
    app_labels,
    config_hash,
    container_name,
    project_name,
)
from tui.services.images import build_images
from tui.services.instance import instance_id
from tui.services.owner import current
from tui.services.ports import allocate_ports, listening_ports
from tui.services.tunnels import Tunnels

START_GRACE = 1.0
"""Seconds a started container must stay up before the start counts as done."""
RESTART_POLICY = {"Name": "on-failure", "MaximumRetryCount": 3}
PIDS_LIMIT = 512
KEPT_CAPABILITIES = (
    "CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID", "NET_BIND_SERVICE", "KILL",
)  # fmt: skip
"""All an app container keeps of Docker's default capabilities: binding ports below 1024
(nginx on 80), and what an entrypoint running as root needs to hand files and itself to an
unprivileged user (chown, setuid/setgid, reading files of other users) and to signal its
workers. Dropped: MKNOD, NET_RAW (raw sockets, ARP spoofing), SETFCAP, SETPCAP, SYS_CHROOT,
AUDIT_WRITE, FSETID."""


@dataclass(frozen=True)
class AppTarget:
    """What the container service needs to know of one app."""

    id: int
    model_slug: str
    app_number: int
    source_path: Path | None
    status: AppStatus
    backend_port: int | None
    frontend_port: int | None

    @property
    def label(self) -> str:
        return f"{self.model_slug} app {self.app_number}"

    def host_port(self, role: str | None) -> int | None:
        return {"backend": self.backend_port, "frontend": self.frontend_port}.get(role or "")


@dataclass(frozen=True)
class ServiceState:
    service: str
    name: str
    state: str
    """Docker's word: running, exited, created, restarting, paused, dead."""
    host_port: int | None
    container_port: int | None


class ContainerService:
    """Container actions on apps. One instance is shared by the TUI's workers (thread-safe);
    the Docker client is made on first use, so the TUI starts without an engine."""

    @property
    def instance(self) -> str:
        """This database's instance id, which labels everything we create."""
        return instance_id(self.db)

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._client: docker.DockerClient | None = None
        self._lock = threading.Lock()
        self._busy: set[int] = set()
        self._tunnels: Tunnels | None = None
        self.status = StatusSync(db, settings)

    @property
    def client(self) -> docker.DockerClient:
        with self._lock:
            if self._client is None:
                self._client = connect(self.settings)
            return self._client

    def close(self) -> None:
        self.status.close()
        with self._lock:
            if self._tunnels is not None:
                self._tunnels.close()
                self._tunnels = None
            if self._client is not None:
                self._client.close()
                self._client = None

    def local_port(self, port: int) -> int:
        """Where this process reaches 127.0.0.1:`port` of the engine's machine (an app's
        published port): the port itself on this machine; the local end of a tunnel through
        the SSH connection for an ssh:// engine (tunnels.py). An engine reached over tcp://
        from another machine publishes out of reach: ContainerError."""
        host = self.settings.docker_host
        reach = engine_reach(host)
        if reach == "here":
            return port
        if reach == "away":
            raise ContainerError(
                f"The app's port {port} is published on the loopback of the engine's machine "
                f"({shown(host)}), out of this machine's reach: use an ssh:// "
                "THESIS_DOCKER_HOST (tunnelled) or run the worker on that machine"
            )
        client = self.client
        with self._lock:
            if self._tunnels is None:
                self._tunnels = Tunnels(lambda: ssh_transport(client), host)
            tunnels = self._tunnels
        return tunnels.local_port(port)

    def busy(self) -> set[int]:
        """The apps an action of this service is running on now."""
        with self._lock:
            return set(self._busy)

    # --- looking things up --------------------------------------------------------------

    def target(self, model_slug: str, app_number: int) -> AppTarget:
        g = GeneratedApplication
        with self.db.session() as session:
            found = session.execute(
                select(g, PortAllocation.backend_port, PortAllocation.frontend_port)
                .outerjoin(PortAllocation, PORTS_OF_APP)
                .where(g.model_slug == model_slug, g.app_number == app_number)
            ).first()
            if found is None:
                raise NotFoundError(f"No app {model_slug} app {app_number}; scan its folder first")
            app, backend, frontend = found
            return AppTarget(
                id=app.id,
                model_slug=app.model_slug,
                app_number=app.app_number,
                source_path=Path(app.source_path) if app.source_path else None,
                status=app.status,
                backend_port=backend,
                frontend_port=frontend,
            )

    def plan(self, target: AppTarget) -> ComposePlan:
        if target.source_path is None or not target.source_path.is_dir():
            raise ContainerError(f"{target.label}: its folder {target.source_path} is not on disk")
        return load_compose(target.source_path)

    def containers_of(self, target: AppTarget) -> dict[str, Any]:
        """service name -> container, for the app's existing containers."""
        with docker_errors(f"list the containers of {target.label}"):
            found = self.client.containers.list(
                all=True, filters=app_filter(target.model_slug, target.app_number)
            )
        return {c.labels.get(LABEL_SERVICE, c.name): c for c in found}

    def service_states(self, model_slug: str, app_number: int) -> list[ServiceState]:
        target = self.target(model_slug, app_number)
        states = []
        for service, container in sorted(self.containers_of(target).items()):
            role = container.labels.get(LABEL_ROLE) or None
            bindings = (container.attrs.get("HostConfig") or {}).get("PortBindings") or {}
            container_port = next((int(k.split("/")[0]) for k in bindings), None)
            states.append(
                ServiceState(
                    service=service,
                    name=container.name,
                    state=container.status,
                    host_port=target.host_port(role) if bindings else None,
                    container_port=container_port,
                )
            )
        return states

    # --- one action at a time per app ---------------------------------------------------

    @contextmanager
    def _action(self, action: str, target: AppTarget, sink: LogSink | None) -> Iterator[ActionLog]:
        """Hold the app for one action, log it to the sink and actions.log, audit it."""
        with self._lock:
            if target.id in self._busy:
                raise ContainerError(f"{target.label}: another action is still running on it")
            self._busy.add(target.id)
        folder = app_log_dir(self.settings.logs_dir, target.model_slug, target.app_number)
        try:
            with (
                try_lock(self.db, f"app:{self.instance}:{target.id}") as mine,
                ActionLog(folder, sink) as log,
                audited(
                    self.db,
                    f"container.{action}",
                    resource_id=f"{target.model_slug}/app{target.app_number}",
                    application_id=target.id,
                ) as note,
            ):
                log.note(f"== {action} {target.label}")
                if not mine:
                    raise ContainerError(
                        f"{target.label}: another thesis process is working on it right now "
                        "(a build, start or stop); try again when it is done"
                    )
                started = time.monotonic()
                try:
                    self.client  # noqa: B018 - connect first: no engine, no half-done work
                    yield log
                except ThesisError as exc:
                    log.note(f"!! {exc.msg}")
                    raise
                note.details["seconds"] = round(time.monotonic() - started, 2)
                log.note(f"== {action} done in {time.monotonic() - started:.1f}s")
        finally:
            with self._lock:
                self._busy.discard(target.id)

    def _set_status(self, target: AppTarget, status: AppStatus, detail: str | None = None) -> None:
        """The app's status and why (`detail`, for a failure). A build names this process as
        its owner, so a build whose process died is reset at the next start (reconcile)."""
        owner: dict[str, Any] = dict.fromkeys(("owner_host", "owner_pid", "owner_start"))
        if status == AppStatus.BUILDING:
            owner = {**current().columns(), "heartbeat_at": utcnow()}
        with self.db.write_session() as session:
            session.execute(
                update(GeneratedApplication)
                .where(GeneratedApplication.id == target.id)
                .values(
                    status=status,
                    status_detail=redact(detail) if detail else None,
                    last_status_check=utcnow(),
                    updated_at=utcnow(),
                    # The engine its containers live on: its tasks go to a worker on it.
                    docker_host=engine_id(self.settings.docker_host),
                    **owner,
                )
            )

    @contextmanager
    def _failing_marks_failed(self, target: AppTarget) -> Iterator[None]:
        try:
            yield
        except ThesisError as exc:
            self._set_status(target, AppStatus.FAILED, exc.msg)
            raise
        except BaseException:
            self._set_status(target, AppStatus.FAILED, "interrupted")
            raise

    # --- build ----------------------------------------------------------------------------

    def build(self, model_slug: str, app_number: int, sink: LogSink | None = None) -> list[str]:
        """Build every service's image (and make sure image-only ones are here); the tags."""
        target = self.target(model_slug, app_number)
        with self._action("build", target, sink) as log:
            plan = self.plan(target)
            self._set_status(target, AppStatus.BUILDING)
            with self._failing_marks_failed(target):
                tags = self._build_images(target, plan, log, only_missing=False)
            self._set_status(target, self._observed(target) or AppStatus.NOT_CREATED)
            return tags

    def _build_images(
        self, target: AppTarget, plan: ComposePlan, log: ActionLog, *, only_missing: bool
    ) -> list[str]:
        return build_images(
            self.client,
            self.settings,
            app_labels(target.model_slug, target.app_number, self.instance),
            plan,
            log,
            only_missing=only_missing,
        )

    # --- start ----------------------------------------------------------------------------

    def start(self, model_slug: str, app_number: int, sink: LogSink | None = None) -> AppTarget:
        """Build missing images, (re)create and start the containers in dependency order.

        Returns the app with its ports. The app is `running` when every container stayed
        up for START_GRACE seconds; otherwise it is `failed`, its containers are stopped,
        and the error says which service died and what it printed last.
        """
        target = self.target(model_slug, app_number)
        with self._action("start", target, sink) as log:
            plan = self.plan(target)
            target = self._with_ports(target, log)
            with self._failing_marks_failed(target):
                self._start(target, plan, log)
            self._set_status(target, AppStatus.RUNNING)
            return target

    def _with_ports(self, target: AppTarget, log: ActionLog) -> AppTarget:
        if target.backend_port is not None:
            return target
        ports = allocate_ports(
            self.db,
            target.model_slug,
            target.app_number,
            self.settings.backend_ports,
            self.settings.frontend_ports,
        )
        log(f"-- allocated ports: backend {ports.backend_port}, frontend {ports.frontend_port}")
        return self.target(target.model_slug, target.app_number)

    def _start(self, target: AppTarget, plan: ComposePlan, log: ActionLog) -> None:
        existing = self.containers_of(target)
        if not any(c.status == "running" for c in existing.values()):
            self._check_host_ports(target, plan)
        tags = self._build_images(target, plan, log, only_missing=True)
        network = self._ensure_network(target)
        started = []
        try:
            for spec, image in zip(plan.services, tags, strict=True):
                container = self._container_for(target, spec, image, network, existing, log)
                with docker_errors(f"start {spec.name}"):
                    # No restarts while we watch: a crash must show its own exit code.
                    container.update(restart_policy={"Name": "no"})
                _start_container(container, f"start {spec.name}")
                started.append((spec, container))
            self._watch_start(target, started, log)
            for spec, container in started:
                with docker_errors(f"set the restart policy of {spec.name}"):
                    container.update(restart_policy=RESTART_POLICY)
        except BaseException:
            self._stop_all([c for _, c in started], log)
            raise

    def _check_host_ports(self, target: AppTarget, plan: ComposePlan) -> None:
        if engine_reach(self.settings.docker_host) != "here":
            return  # another machine's ports: its engine says when one is taken
        wanted = {
            port: spec
            for spec in plan.services
            if (port := target.host_port(spec.role)) is not None and spec.container_port
        }
        busy = listening_ports(wanted)
        for port in sorted(busy):
            spec = wanted[port]
            raise ContainerError(
                f"{target.label}: host port {port} ({spec.role} of service {spec.name}) is "
                "already taken by another process; stop it, or release and re-allocate the "
                f"app's ports (thesis ports release {target.model_slug} {target.app_number})"
            )

    def _ensure_network(self, target: AppTarget) -> str:
        """The app's network (made if missing): its name, or its id when older versions left
        several of that name, whose unused extras are removed."""
        name = project_name(target.model_slug, target.app_number)
        with docker_errors(f"create network {name}"):
            # Docker's name filter also matches longer names (app1 finds app10): compare.
            found = [n for n in self.client.networks.list(names=[name]) if n.name == name]
            if not found:
                self.client.networks.create(
                    name,
                    driver="bridge",
                    labels=app_labels(target.model_slug, target.app_number, self.instance),
                )
                return name
        if len(found) == 1:
            return name
        found.sort(key=lambda network: str(network.attrs.get("Created", "")))
        for extra in found[1:]:
            with contextlib.suppress(ThesisError), docker_errors(f"remove network {name}"):
                extra.remove()
        return str(found[0].id)

    def _run_config(self, target: AppTarget, spec: ServiceSpec, image: str) -> dict[str, Any]:
        host_port = target.host_port(spec.role)
        ports = (
            {f"{spec.container_port}/tcp": ("127.0.0.1", host_port)}
            if host_port is not None and spec.container_port
            else {}
        )
        with docker_errors(f"inspect image {image}"):
            image_id = self.client.images.get(image).id
        return {
            "image": image_id,
            "command": spec.command,
            "entrypoint": spec.entrypoint,
            "working_dir": spec.working_dir,
            "environment": spec.environment,
            "ports": ports,
            "nano_cpus": int(self.settings.container_cpu_limit * 1e9),
            "mem_limit": f"{self.settings.container_memory_limit_mb}m",
            "cap_drop": ["ALL"],
            "cap_add": list(KEPT_CAPABILITIES),
        }

    def _container_for(
        self,
        target: AppTarget,
        spec: ServiceSpec,
        image: str,
        network: str,
        existing: dict[str, Any],
        log: ActionLog,
    ) -> Any:
        """The service's container: the existing one if made the same way, else a new one."""
        config = self._run_config(target, spec, image)
        digest = config_hash(config)
        current = existing.get(spec.name)
        if current is not None and current.labels.get(LABEL_CONFIG) == digest:
            return current
        if current is not None:
            log(f"-- recreate {spec.name} (its image or settings changed)")
            with docker_errors(f"remove the old {spec.name} container"):
                current.remove(force=True)
        name = container_name(target.model_slug, target.app_number, spec.name)
        published = next(iter(config["ports"].values()), None)
        log(
            f"-- create {name}"
            + (f" on http://127.0.0.1:{published[1]}/" if published else " (no published port)")
        )
        with docker_errors(f"create {spec.name}"):
            return self.client.containers.create(
                **config,
                name=name,
                hostname=spec.name,
                labels={
                    **app_labels(target.model_slug, target.app_number, self.instance),
                    LABEL_SERVICE: spec.name,
                    LABEL_ROLE: spec.role or "",
                    LABEL_CONFIG: digest,
                },
                network=network,
                networking_config={
                    network: self.client.api.create_endpoint_config(aliases=[spec.name])
                },
                init=True,  # forwards SIGTERM, so a stop takes 0.2 s, not the timeout
                restart_policy={"Name": "no"},  # set once it has stayed up
                pids_limit=PIDS_LIMIT,
                security_opt=["no-new-privileges:true"],
                detach=True,
            )

    def _watch_start(
        self, target: AppTarget, started: list[tuple[ServiceSpec, Any]], log: ActionLog
    ) -> None:
        """Fail if any container exits (or restarts) within START_GRACE seconds."""
        deadline = time.monotonic() + START_GRACE
        while True:
            for spec, container in started:
                with docker_errors(f"inspect {spec.name}"):
                    container.reload()
                state = container.attrs.get("State") or {}
                if container.status != "running":
                    with docker_errors(f"read the logs of {spec.name}"):
                        output = container.logs(tail=5).decode("utf-8", "replace").splitlines()
                    for line in output:
                        log(f"{spec.name} | {line}")
                    last = output[-1].strip() if output else "no output"
                    raise AppStartError(
                        f"{target.label}: service {spec.name} exited at once with code "
                        f"{state.get('ExitCode')} ({last})"
                    )
            if time.monotonic() >= deadline:
                return
            time.sleep(0.1)  # no event says "stayed up": poll Docker's state until the deadline

    # --- stop, restart, remove ------------------------------------------------------------

    def _stop_all(self, containers: list[Any], log: ActionLog) -> None:
        for container in reversed(containers):
            with docker_errors(f"stop {container.name}"):
                container.reload()
                if container.status in ("running", "restarting", "paused"):
                    log(f"-- stop {container.name}")
                    container.stop(timeout=self.settings.stop_timeout)

    def stop(self, model_slug: str, app_number: int, sink: LogSink | None = None) -> int:
        """Stop the app's containers, dependents first. Returns how many it has."""
        target = self.target(model_slug, app_number)
        with self._action("stop", target, sink) as log:
            containers = self._in_start_order(target)
            self._stop_all(containers, log)
            if not containers:
                log("-- no containers to stop")
            self._set_status(target, self._observed(target) or self._without_containers(target))
            return len(containers)

    def restart(self, model_slug: str, app_number: int, sink: LogSink | None = None) -> AppTarget:
        """Stop the app's containers and start them again (recreating changed ones)."""
        target = self.target(model_slug, app_number)
        with self._action("restart", target, sink) as log:
            plan = self.plan(target)
            target = self._with_ports(target, log)
            with self._failing_marks_failed(target):
                self._stop_all(self._in_start_order(target, plan), log)
                self._start(target, plan, log)
            self._set_status(target, AppStatus.RUNNING)
            return target

    def remove(
        self, model_slug: str, app_number: int, sink: LogSink | None = None, *, images: bool = False
    ) -> int:
        """Remove the app's containers and network (and its built images, if asked)."""
        target = self.target(model_slug, app_number)
        with self._action("remove", target, sink) as log:
            containers = self.containers_of(target)
            for service, container in containers.items():
                log(f"-- remove {container.name}")
                with docker_errors(f"remove {service}"):
                    container.remove(force=True)
            with docker_errors("remove the app's network"):
                for network in self.client.networks.list(
                    filters=app_filter(target.model_slug, target.app_number)
                ):
                    log(f"-- remove network {network.name}")
                    network.remove()
            if images:
                with docker_errors("remove the app's images"):
                    for image in self.client.images.list(
                        filters=app_filter(target.model_slug, target.app_number)
                    ):
                        log(f"-- remove image {', '.join(image.tags) or image.short_id}")
                        self.client.images.remove(image.id, force=True)
            self._set_status(target, self._without_containers(target))
            return len(containers)

    def _in_start_order(self, target: AppTarget, plan: ComposePlan | None = None) -> list[Any]:
        containers = self.containers_of(target)
        try:
            order = [spec.name for spec in (plan or self.plan(target)).services]
        except Exception:  # a broken compose file must not block a stop
            order = []
        known = [containers[name] for name in order if name in containers]
        return known + [c for name, c in sorted(containers.items()) if name not in order]

    def _without_containers(self, target: AppTarget) -> AppStatus:
        has_compose = target.source_path is not None and find_compose_file(target.source_path)
        return AppStatus.NOT_CREATED if has_compose else AppStatus.NO_COMPOSE

    def _observed(self, target: AppTarget) -> AppStatus | None:
        return observed_status([c.status for c in self.containers_of(target).values()])

    # --- status sync ------------------------------------------------------------------------

    def sync_status(self) -> SyncReport:
        """One Docker call lists every app container; every app's status is updated at once.

        Apps with an action in progress here are left to that action.
        """
        return self.status.sync(skip=self.busy())

    # --- logs -------------------------------------------------------------------------------

    def follow_logs(self, model_slug: str, app_number: int, *, follow: bool = True) -> LogFollower:
        """A follower of the app's container logs (`service | line`); close() it when done."""
        target = self.target(model_slug, app_number)
        containers = self._in_start_order(target)
        if not containers:
            raise ContainerError(f"{target.label} has no containers yet; start it first")
        folder = app_log_dir(self.settings.logs_dir, target.model_slug, target.app_number)
        return LogFollower(
            [(c.labels.get(LABEL_SERVICE, c.name), c) for c in containers], folder, follow=follow
        )


PORT_RELEASE_SECONDS = 3.0
"""How long Docker may still call a host port "already allocated" after the container that
held it stopped: the engine releases it asynchronously, so a quick stop-then-start races."""


def _start_container(container: Any, what: str) -> None:
    """`container.start()`, retried while its host port is still being released."""
    deadline = time.monotonic() + PORT_RELEASE_SECONDS
    delay = 0.1
    while True:
        try:
            with docker_errors(what):
                container.start()
            return
        except ContainerError as exc:
            if "port is already allocated" not in exc.msg or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.8)
