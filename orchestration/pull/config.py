"""Reading one source's section of `sources:` in storeops.yml, the same way for every
source: unknown keys named (with the known ones), required keys asked for, whole
numbers and freshness hours checked, defaults from the source's settings dataclass."""

from __future__ import annotations

from dataclasses import MISSING, fields


def section_values(cls, config, *, source: str, where: str, required: tuple[str, ...],
                   needs: str, bounds: dict[str, int] | None = None) -> dict:
    """The values of `sources: <source>:` for the settings dataclass `cls`: every field of
    `cls`, from `config` or the field's default.

    required: keys that must be set (non-empty), asked for as `needs` ("account_id: <ad
    account id>"); bounds: whole-number keys and their largest value (the smallest is 1).
    `freshness_hours`, when `cls` has it, must be a number above 0.

    Raises ValueError naming `where`, the source and the key: an unknown key (with the
    known ones), a missing required key, a value out of bounds.
    """
    config = config if isinstance(config, dict) else {}
    known = [f.name for f in fields(cls)]
    unknown = sorted(set(config) - set(known))
    if unknown:
        raise ValueError(f"{where}: sources: {source}: unknown keys {unknown} "
                         f"(known: {', '.join(sorted(known))})")
    if any(not config.get(key) for key in required):
        raise ValueError(f"{where}: sources: {source}: needs {needs}")
    values = {}
    for field in fields(cls):
        default = field.default if field.default is not MISSING else None
        values[field.name] = config.get(field.name, default)
    for key, high in (bounds or {}).items():
        value = values[key]
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
            raise ValueError(f"{where}: sources: {source}: {key} must be a whole number "
                             f"from 1 to {high:,}, got {value!r}")
    if "freshness_hours" in values:
        hours = values["freshness_hours"]
        if not isinstance(hours, int | float) or isinstance(hours, bool) or hours <= 0:
            raise ValueError(f"{where}: sources: {source}: freshness_hours must be a number "
                             f"of hours above 0, got {hours!r}")
        values["freshness_hours"] = float(hours)
    return values
