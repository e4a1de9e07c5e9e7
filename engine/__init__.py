"""DITTO engine: optimize a diffusion model's initial noise through its sampler so the output follows controls.

Knows nothing of OSC, MIDI or Live. Everything here is seconds at the model's sample rate and frames of the
model's representation. Entry point for callers: `engine.api.run_job`.
"""

__version__ = "0.1.0"
