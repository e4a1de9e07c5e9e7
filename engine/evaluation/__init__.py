"""Evaluation of DITTO and its baselines on output audio: metrics, the evaluation set and the runner."""
