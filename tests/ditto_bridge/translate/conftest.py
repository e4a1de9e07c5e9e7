"""The translation context every translation test uses: an inbox, one allowed audio folder, a references folder."""

import pytest

from ditto_bridge.translate.live_job import TranslateContext


@pytest.fixture
def ctx(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    audio = tmp_path / "project"
    audio.mkdir()
    return TranslateContext(model="builtin-tiny", audio_roots=(audio,), inbox=inbox,
                            reference_dir=tmp_path / "refs")
