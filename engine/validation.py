"""Typed getters for JSON-like data that raise an error naming the field, e.g.
``song.tempo: must be a number greater than 0, got -3``.

They serve the bridge's requests in Live units (`ditto_bridge.translate.fields`, raising `RequestError`);
`engine.job` validates with pydantic and words its `JobError`s with the same `Fields.fail`.
Paths are dotted (``clip.warp_markers[2].beat_time``); values shown in messages are cut to 80 characters so an
error always fits in one OSC datagram.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

MISSING: Any = object()
MAX_LIST = 100_000
MAX_STRING = 4096
MAX_DEPTH = 32
"""Deepest nesting of lists and objects a request may have (a job needs 4; recursion stays far away)."""


def join(path: str, key: str | int) -> str:
    """``join("song", "tempo") == "song.tempo"``, ``join("notes", 3) == "notes[3]"``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def short(value: Any, limit: int = 80) -> str:
    """`repr(value)` cut to `limit` characters; never fails (huge integers, deep nesting, odd objects)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    try:
        text = repr(value)
    except (ValueError, RecursionError, OverflowError) as error:
        return f"a {type(value).__name__} that cannot be shown ({type(error).__name__})"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def nesting_depth(value: Any, *, stop: int = MAX_DEPTH + 1) -> int:
    """How deeply lists and mappings nest in `value` (a scalar is 0), counted up to `stop` without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest >= stop:
            return deepest
        pending.extend((child, depth) for child in children)
    return deepest


class Fields:
    """Validation helpers raising `error` (an exception class taking one message)."""

    def __init__(self, error: type[Exception]):
        self.error = error

    def fail(self, path: str, message: str, value: Any = MISSING) -> Exception:
        shown = "" if value is MISSING else f", got {short(value)}"
        return self.error(f"{path}: {message}{shown}")

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, "must be an object", value)
        return value

    def shallow(self, value: Any, path: str, *, max_depth: int = MAX_DEPTH) -> Any:
        """`value` when lists and objects nest in it at most `max_depth` deep; an error naming `path` otherwise."""
        depth = nesting_depth(value, stop=max_depth + 1)
        if depth > max_depth:
            raise self.fail(path, f"nests lists and objects more than {max_depth} deep; flatten it")
        return value

    def unknown_keys(self, data: Mapping[str, Any], allowed: set[str], path: str) -> None:
        extra = sorted(str(k) for k in set(data) - allowed)
        if extra:
            raise self.fail(join(path, extra[0]), f"is not a known field (known: {', '.join(sorted(allowed))})")

    def number(self, value: Any, path: str, *, minimum: float | None = None, maximum: float | None = None,
               positive: bool = False) -> float:
        """A finite number within the bounds; ints and floats only (no booleans, no strings)."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(path, "must be a number", value)
        try:
            value = float(value)
        except OverflowError:
            raise self.fail(path, "must be a finite number (this integer is too large)", value) from None
        if not math.isfinite(value):
            raise self.fail(path, "must be a finite number", value)
        if positive and value <= 0:
            raise self.fail(path, "must be a number greater than 0", value)
        if minimum is not None and value < minimum:
            raise self.fail(path, f"must be at least {minimum:g}", value)
        if maximum is not None and value > maximum:
            raise self.fail(path, f"must be at most {maximum:g}", value)
        return value

    def absent(self, data: Mapping[str, Any], key: str, path: str, default: Any) -> bool:
        """True when `key` is missing or null and has a default; raises "is required" when it has none."""
        if key in data and data[key] is not None:
            return False
        if default is MISSING:
            raise self.fail(join(path, key), "is required")
        return True

    def get_number(self, data: Mapping[str, Any], key: str, path: str, default: Any = MISSING, **bounds: Any) -> Any:
        if self.absent(data, key, path, default):
            return default
        return self.number(data[key], join(path, key), **bounds)

    def integer(self, value: Any, path: str, *, minimum: int, maximum: int) -> int:
        """An integer (a float with no fraction, as JSON from JavaScript may give, is accepted)."""
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, "must be an integer", value)
        if not minimum <= value <= maximum:
            raise self.fail(path, f"must be between {minimum} and {maximum}", value)
        return value

    def get_integer(self, data: Mapping[str, Any], key: str, path: str, default: Any = MISSING, *, minimum: int,
                    maximum: int) -> Any:
        if self.absent(data, key, path, default):
            return default
        return self.integer(data[key], join(path, key), minimum=minimum, maximum=maximum)

    def get_string(self, data: Mapping[str, Any], key: str, path: str, default: Any = MISSING, *,
                   choices: Sequence[str] | None = None, allow_empty: bool = False) -> Any:
        if self.absent(data, key, path, default):
            return default
        where = join(path, key)
        value = data[key]
        if not isinstance(value, str) or (not allow_empty and not value.strip()):
            raise self.fail(where, "must be a non-empty string", value)
        if len(value) > MAX_STRING:
            raise self.fail(where, f"is too long ({len(value)} characters, at most {MAX_STRING})")
        if choices is not None and value not in choices:
            raise self.fail(where, f"must be one of {', '.join(choices)}", value)
        return value

    def get_bool(self, data: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        value = data.get(key, default)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):  # Max sends 0/1 for toggles
            return bool(value)
        raise self.fail(join(path, key), "must be true or false", value)

    def get_list(self, data: Mapping[str, Any], key: str, path: str, default: Any = MISSING) -> Any:
        if self.absent(data, key, path, default):
            return default
        where = join(path, key)
        value = data[key]
        if not isinstance(value, (list, tuple)):
            raise self.fail(where, "must be a list", value)
        if len(value) > MAX_LIST:
            raise self.fail(where, f"has too many entries ({len(value)}, at most {MAX_LIST})")
        return value
