"""Finding and loading pipeline folders from this disk: real `save_pretrained` folders of the tiny pipelines, laid
out as a producer would have them (a folder, DITTO_BRIDGE_MODELS, the Hugging Face cache), never downloaded."""

import json
import os
import shutil
import socket
from pathlib import Path

import pytest
import torch

from engine.errors import ModelNotFoundError
from engine.models.adapters import AudioLDM2Adapter, MusicLDMAdapter, StableAudioAdapter
from engine.models.adapters.loading import load_adapter
from engine.models.adapters.resolve import MODELS_ENV, inspect_folder, resolve_known, resolve_path
from engine.models.adapters.tiny import PIPELINES
from engine.models.registry import load_model, model_names

ADAPTER_CLASSES = {"stable-audio-open": StableAudioAdapter, "audioldm2-music": AudioLDM2Adapter,
                   "musicldm": MusicLDMAdapter}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """{kind: (in-memory tiny pipeline, the folder it was saved to)}."""
    out = {}
    for kind, build in PIPELINES.items():
        pipe = build(0)
        folder = tmp_path_factory.mktemp(kind) / kind
        pipe.save_pretrained(folder)
        out[kind] = (pipe, folder)
    return out


@pytest.fixture
def empty_places(tmp_path, monkeypatch):
    """No model folder and empty Hugging Face caches: only what a test puts there exists."""
    for variable in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME", MODELS_ENV):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def _as_cache(folder: Path, cache: Path, repo_id: str, revision: str = "0123abcd") -> Path:
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / revision
    shutil.copytree(folder, snapshot)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)
    return snapshot


@pytest.mark.parametrize("kind", list(PIPELINES))
def test_pipeline_folder_loads_into_its_adapter_with_text_encoders(kind, saved):
    pipe, folder = saved[kind]
    model = load_model(str(folder), "cpu")
    assert isinstance(model, ADAPTER_CLASSES[kind]) and model.info.trained and str(folder) in model.info.description
    conditioning = model.condition(prompt="warm bright piano loop, with words it never saw", guidance_scale=2.0,
                                   batch=2)
    assert conditioning.uncond is not None
    x = torch.randn(2, *model.latent_shape(0.25), generator=torch.Generator().manual_seed(0))
    t = torch.tensor([400, 400])
    with torch.no_grad():
        loaded = model.denoise(x, t, conditioning.cond)
        pipe_networks = ADAPTER_CLASSES[kind].from_pipeline(pipe)
        in_memory = pipe_networks.denoise(x, t, pipe_networks.condition(
            prompt="warm bright piano loop, with words it never saw", guidance_scale=2.0, batch=2).cond)
    torch.testing.assert_close(loaded, in_memory)


def test_stable_audio_text_path_matches_the_pipelines_encode_prompt(saved):
    pipe, _ = saved["stable-audio-open"]
    model = StableAudioAdapter.from_pipeline(pipe)
    ours = model.condition(prompt="calm ambient pad").cond["text"]
    with torch.no_grad():
        theirs = pipe.encode_prompt("calm ambient pad", "cpu", do_classifier_free_guidance=False)
    torch.testing.assert_close(ours, theirs.float())


def test_audioldm2_text_path_matches_the_pipelines_encode_prompt(saved):
    """The pipeline's own encode_prompt needs GPT-2's generation helpers: give it a GPT2LMHeadModel with the same
    weights; our loop must produce the same states for the prompt and for the empty prompt."""
    from transformers import GPT2LMHeadModel

    pipe, _ = saved["audioldm2-music"]
    model = AudioLDM2Adapter.from_pipeline(pipe)
    conditioning = model.condition(prompt="fast techno drums", guidance_scale=3.0)
    with_head = GPT2LMHeadModel(pipe.language_model.config).eval()
    with_head.transformer.load_state_dict(pipe.language_model.state_dict())
    original, pipe.language_model = pipe.language_model, with_head
    try:
        with torch.no_grad():
            t5, mask, generated = pipe.encode_prompt(["fast techno drums"], "cpu", 1, True)
    finally:
        pipe.language_model = original
    torch.testing.assert_close(conditioning.cond["generated"], generated[1:])
    torch.testing.assert_close(conditioning.uncond["generated"], generated[:1])
    torch.testing.assert_close(conditioning.cond["t5"], t5[1:])
    assert torch.equal(conditioning.uncond["t5_mask"], mask[:1])


def test_known_name_is_found_in_the_hugging_face_cache_without_network(saved, empty_places, monkeypatch):
    cache = empty_places / "cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    snapshot = _as_cache(saved["stable-audio-open"][1], cache, "stabilityai/stable-audio-open-1.0")

    def no_network(*args, **kwargs):
        raise AssertionError("loading a model from the cache tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    folder = resolve_known("stable-audio-open")
    assert folder.path == snapshot and folder.pipeline_class == "StableAudioPipeline"
    model = load_adapter(folder, "cpu")
    assert isinstance(model, StableAudioAdapter) and model.info.name == "stable-audio-open"
    assert resolve_path("stabilityai/stable-audio-open-1.0").path == snapshot
    assert resolve_path(str(snapshot.parent.parent)).path == snapshot


def test_known_name_is_found_in_the_models_folder(saved, empty_places, monkeypatch):
    models = empty_places / "models"
    shutil.copytree(saved["musicldm"][1], models / "musicldm")
    monkeypatch.setenv(MODELS_ENV, str(models))
    assert resolve_known("musicldm").path == models / "musicldm"


def test_missing_weights_are_named_with_every_place_searched(saved, empty_places, monkeypatch):
    models = empty_places / "models"
    folder = models / "audioldm2-music"
    shutil.copytree(saved["audioldm2-music"][1], folder)
    for weights in (folder / "vocoder").glob("*.safetensors"):
        weights.unlink()
    monkeypatch.setenv(MODELS_ENV, str(models))
    with pytest.raises(ModelNotFoundError) as caught:
        resolve_known("audioldm2-music")
    message = str(caught.value)
    assert "missing vocoder/ weights" in message
    assert str(folder) in message
    assert str(empty_places / "hf-home" / "hub" / "models--cvssp--audioldm2-music") in message
    assert "(does not exist)" in message and "hf download cvssp/audioldm2-music" in message
    assert "CC BY-NC-SA 4.0" in message


def test_an_interrupted_cache_download_counts_as_missing(saved, empty_places, monkeypatch):
    cache = empty_places / "cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    snapshot = _as_cache(saved["musicldm"][1], cache, "ucsd-reach/musicldm")
    weights = next((snapshot / "unet").glob("*.safetensors"))
    weights.unlink()
    os.symlink(cache / "blobs" / "never-finished", weights)  # the cache links snapshots to blobs
    with pytest.raises(ModelNotFoundError, match="missing unet/ weights"):
        load_model(str(snapshot), "cpu")


def test_unsupported_or_foreign_folders_are_refused(saved, tmp_path):
    folder = tmp_path / "other"
    shutil.copytree(saved["musicldm"][1], folder)
    index = json.loads((folder / "model_index.json").read_text())
    (folder / "model_index.json").write_text(json.dumps({**index, "_class_name": "StableDiffusionPipeline"}))
    with pytest.raises(ModelNotFoundError, match="StableDiffusionPipeline is not supported"):
        inspect_folder(folder)
    with pytest.raises(ModelNotFoundError, match="no model_index.json"):
        load_model(str(tmp_path), "cpu")
    with pytest.raises(ModelNotFoundError, match="not a known model"):
        load_model(str(tmp_path / "no-such-file.bin"), "cpu")


def test_registry_lists_the_diffusers_models_and_their_tiny_versions():
    names = model_names()
    for kind in PIPELINES:
        assert kind in names and f"{kind}-tiny" in names
    model = load_model("musicldm-tiny", "cpu")
    assert not model.info.trained and model.condition(prompt="any prompt at all").cond["clap"].shape == (1, 32)
