"""ditto-bridge: the local daemon between Ableton Live (a Max for Live device) and the DITTO engine.

DAW units (beats, bars, tempo, warp markers, 0-1 parameter values) stop at `ditto_bridge.translate`; past it,
jobs are the engine's seconds-based `engine.job.Job`.
"""

__version__ = "0.1.0"
