"""Images of a generated app: built from each service's folder, or found / pulled by name.

Builds stream their output line by line to the action's log and stop at
THESIS_BUILD_TIMEOUT; free disk is checked first, because a full disk makes Docker fail
in ways that say little.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import docker

from tui.config import Settings
from tui.errors import AppStartError, ContainerError, ThesisError
from tui.services.compose import ComposePlan, ServiceSpec
from tui.services.container_logs import ActionLog
from tui.services.docker_engine import docker_errors
from tui.services.docker_names import LABEL_APP, LABEL_MODEL, LABEL_SERVICE, image_tag
from tui.services.untrusted import read_app_file

MIN_FREE_DISK = 512 * 1024 * 1024
MAX_DOCKERFILE_BYTES = 256 * 1024


def build_images(
    client: docker.DockerClient,
    settings: Settings,
    labels: dict[str, str],
    plan: ComposePlan,
    log: ActionLog,
    *,
    only_missing: bool,
) -> list[str]:
    """The image of every service, in the plan's order: built (or, with `only_missing`,
    built only where it is not there yet), or for `image:` services found or pulled.
    `labels` (the app's, see docker_engine.app_labels) name the app and the instance."""
    model_slug, app_number = labels[LABEL_MODEL], int(labels[LABEL_APP])
    for note in plan.notes:
        log(f"note: {note}")
    tags = []
    for spec in plan.services:
        if spec.build_context is None:
            tags.append(_ensure_image(client, spec, log))
            continue
        tag = image_tag(model_slug, app_number, spec.name)
        tags.append(tag)
        if only_missing and image_exists(client, tag):
            continue
        _check_disk(client)
        _build_one(client, settings, plan.app_dir, labels, spec, tag, log)
    return tags


def image_exists(client: docker.DockerClient, reference: str) -> bool:
    with docker_errors(f"look up image {reference}"):
        try:
            client.images.get(reference)
        except docker.errors.ImageNotFound:
            return False
    return True


def _ensure_image(client: docker.DockerClient, spec: ServiceSpec, log: ActionLog) -> str:
    image = spec.image or ""
    if image_exists(client, image):
        return image
    log(f"-- pull {image} for service {spec.name}")
    try:
        with docker_errors(f"pull {image}"):
            client.images.pull(image)
    except ContainerError as exc:
        raise ContainerError(
            f"service {spec.name} uses image {image}, which is not on this machine and "
            f"cannot be pulled ({exc.msg.partition(': ')[2]})"
        ) from None
    return image


def base_images(context: Path, dockerfile: str) -> list[str]:
    """The images a Dockerfile builds FROM (not `scratch`, not its own earlier stages)."""
    try:
        text = read_app_file(context, Path(dockerfile), MAX_DOCKERFILE_BYTES, "the Dockerfile")
    except ThesisError:
        return []
    images: list[str] = []
    stages: set[str] = set()
    for line in text.decode("utf-8", "replace").splitlines():
        words = line.split()
        if len(words) < 2 or words[0].upper() != "FROM":
            continue
        words = [word for word in words[1:] if not word.startswith("--")]
        if not words:
            continue
        image = words[0]
        if len(words) >= 3 and words[1].upper() == "AS":
            stages.add(words[2].lower())
        if image.lower() != "scratch" and image.lower() not in stages and "$" not in image:
            images.append(image if ":" in image.rsplit("/", 1)[-1] else f"{image}:latest")
    return list(dict.fromkeys(images))


def _missing_base(service: str, missing: list[str], reason: str) -> str:
    shown_images = ", ".join(missing)
    return (
        f"build of {service} failed: its base image {shown_images} is not on this machine and "
        f"could not be pulled ({reason[:160]}). Offline, bring it here with `docker save` on a "
        f"connected machine and `docker load` on this one, or change the Dockerfile's FROM to "
        f"an image this machine has"
    )


def _check_disk(client: docker.DockerClient) -> None:
    with docker_errors("read the engine's info"):
        root = Path(client.info().get("DockerRootDir") or "/var/lib/docker")
    if root.is_dir():  # a remote engine's disk is not ours to measure
        free = shutil.disk_usage(root).free
        if free < MIN_FREE_DISK:
            raise ContainerError(
                f"only {free // 2**20} MiB free on {root}; free some space "
                "(docker image prune) before building"
            )


def _build_one(
    client: docker.DockerClient,
    settings: Settings,
    app_dir: Path,
    labels: dict[str, str],
    spec: ServiceSpec,
    tag: str,
    log: ActionLog,
) -> None:
    context = spec.build_context or app_dir
    log(f"-- build {spec.name} from {context.relative_to(app_dir.resolve())}/{spec.dockerfile}")
    deadline = time.monotonic() + settings.build_timeout
    with docker_errors(f"build {spec.name}"):
        stream = client.api.build(
            path=str(context),
            dockerfile=spec.dockerfile,
            tag=tag,
            rm=True,
            forcerm=True,
            decode=True,
            buildargs=spec.build_args or None,
            labels={**labels, LABEL_SERVICE: spec.name},
            timeout=settings.build_timeout,
        )
        try:
            for chunk in stream:
                for line in str(chunk.get("stream") or "").splitlines():
                    if line.strip():
                        log(line)
                if "error" in chunk:
                    reason = " ".join(str(chunk["error"]).split())
                    missing = [
                        image
                        for image in base_images(context, spec.dockerfile or "Dockerfile")
                        if not image_exists(client, image)
                    ]
                    if missing:
                        raise ContainerError(_missing_base(spec.name, missing, reason))
                    raise AppStartError(f"build of {spec.name} failed: {reason}")
                if time.monotonic() > deadline:
                    raise ContainerError(
                        f"build of {spec.name} took longer than {settings.build_timeout:g}s "
                        "(THESIS_BUILD_TIMEOUT); stopped"
                    )
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
