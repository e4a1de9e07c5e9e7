"""Typed getters for requests in Live units that raise `RequestError` naming the field, e.g.
``song.tempo: must be a number greater than 0, got -3``.

The checks are the engine's (`engine.validation`), bound to the bridge's error family.
"""

from __future__ import annotations

from engine.validation import MAX_LIST, MAX_STRING, MISSING, Fields, join, short
from ditto_bridge.errors import RequestError

_FIELDS = Fields(RequestError)
fail = _FIELDS.fail
mapping = _FIELDS.mapping
shallow = _FIELDS.shallow
unknown_keys = _FIELDS.unknown_keys
number = _FIELDS.number
get_number = _FIELDS.get_number
integer = _FIELDS.integer
get_integer = _FIELDS.get_integer
get_string = _FIELDS.get_string
get_bool = _FIELDS.get_bool
get_list = _FIELDS.get_list

__all__ = ["MAX_LIST", "MAX_STRING", "MISSING", "join", "short", "fail", "mapping", "shallow", "unknown_keys",
           "number", "get_number", "integer", "get_integer", "get_string", "get_bool", "get_list"]
