"""The header every exactprune instance file carries: format name and version."""

from typing import Any

from exactprune.instances.errors import InputError

FORMAT = "exactprune.instance"
VERSION = 1


def check_header(data: Any, kind: str | None = None) -> None:
    """InputError unless `data` is a JSON object with our format and version (both optional)
    and, when `kind` is given, that kind (or none)."""
    if not isinstance(data, dict):
        raise InputError("an instance file must hold a JSON object" if kind is None
                         else f"a {kind} instance must be a JSON object")
    if data.get("format", FORMAT) != FORMAT:
        raise InputError(f"not an exactprune instance (format {data.get('format')!r})")
    version = data.get("version", VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version != VERSION:
        raise InputError(f"unsupported instance version {data.get('version')!r} "
                         "(this version reads the integer 1)")
    if kind is not None and data.get("kind", kind) != kind:
        raise InputError(f"expected kind {kind!r}, got {data.get('kind')!r}")
