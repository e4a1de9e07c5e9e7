"""The listener's loudness meter the intensity control judges renders with."""

import numpy as np

from engine.evaluation import producer_metrics
from engine.features.intensity import meter_db


def test_the_listener_meter_reads_a_wav_as_the_evaluation_reads_it():
    rate = 22050
    audio = 0.1 * np.random.default_rng(0).standard_normal(4 * rate)
    audio[2 * rate:] *= 0.05  # a 26-dB drop at 2 s
    independent = producer_metrics.loudness_db(audio, rate)
    times = np.arange(independent.size) * producer_metrics.HOP / rate
    assert np.abs(meter_db(audio, rate, times) - independent).max() < 1e-9


def test_the_listener_meter_reads_a_step_as_a_ramp_about_a_third_of_a_second_long():
    rate = 22050
    audio = 0.1 * np.random.default_rng(1).standard_normal(4 * rate)
    audio[2 * rate:] *= 0.05
    times = np.array([1.7, 1.9, 2.0, 2.1, 2.3])
    levels = meter_db(audio, rate, times)
    loud, quiet = levels[0], levels[-1]
    assert abs((loud - quiet) - 26.0) < 1.0  # settled a sixth of a second either side
    assert quiet + 5 < levels[1] < loud and quiet < levels[3] < loud - 5  # still moving 0.1 s either side
