"""The engine's error family. Messages name the field or file at fault and what to do next."""


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""


class JobError(EngineError, ValueError):
    """A job is malformed: the message starts with the offending field, e.g. ``controls[0].db[2]: ...``."""


class ReferenceAudioError(EngineError):
    """A reference audio file is missing, unreadable or empty."""


class ModelNotFoundError(EngineError):
    """Model weights are not on this disk; the message says where the engine looked."""


class FeatureInputError(EngineError, ValueError):
    """A feature function got a signal of the wrong rank, dtype or with non-finite values."""


class CancelledError(EngineError):
    """The optimization was cancelled between two steps."""
