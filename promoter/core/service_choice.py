"""Which service and version a command means, from --service/--tag/--digest
or from one --image reference."""

from __future__ import annotations

from promoter.core.config.model import Config, Service
from promoter.core.images import parse_reference, validate_digest, validate_tag
from promoter.errors import InputError


def needed(service: str | None, image: str | None) -> tuple[list[str] | None, list[str] | None]:
    """load_config's (services, images) for a command naming these: a warm
    config cache then loads only what the command touches."""
    if service is not None:
        return [service], None
    if image is not None:
        return None, [parse_reference(image).canonical]
    return None, None


def resolve_service(
    config: Config,
    service: str | None,
    tag: str | None,
    digest: str | None,
    image: str | None,
) -> tuple[Service, str | None, str | None]:
    """(service, tag, digest), validated; InputError says which flag is wrong."""
    if image is not None:
        ref = parse_reference(image)
        if ref.tag is None and ref.digest is None:
            raise InputError(
                f"--image {image!r} has no tag or digest",
                hint="e.g. --image ghcr.io/acme/api:1.4.2",
            )
        if tag is not None and tag != ref.tag:
            raise InputError("--tag disagrees with the tag in --image; give one of them")
        if digest is not None and ref.digest is not None and digest != ref.digest:
            raise InputError("--digest disagrees with the digest in --image; give one of them")
        matches = [s for s in config.services if ref.same_repository(s.image)]
        if service is not None:
            chosen = config.service(service)
            if chosen not in matches:
                raise InputError(
                    f"--image {ref.repository} is not the image of service "
                    f"{service!r} ({chosen.image})"
                )
        elif not matches:
            known = ", ".join(f"{s.name}={s.image}" for s in config.services) or "none"
            raise InputError(
                f"no service in promoter.yaml has the image {ref.repository}",
                hint=f"known services: {known}",
            )
        elif len(matches) > 1:
            names = ", ".join(s.name for s in matches)
            raise InputError(
                f"several services use {ref.repository} ({names})", hint="add --service"
            )
        else:
            chosen = matches[0]
        return chosen, ref.tag, digest or ref.digest
    if service is None:
        raise InputError("give --service with --tag/--digest, or --image REF")
    if tag is None and digest is None:
        raise InputError("give --tag (and optionally --digest), or --image REF")
    chosen = config.service(service)
    return (
        chosen,
        validate_tag(tag) if tag is not None else None,
        (validate_digest(digest) if digest is not None else None),
    )
