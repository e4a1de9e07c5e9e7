"""Find a diffusers pipeline folder on this disk. Nothing here touches the network.

A model is named three ways:
- a known name (`stable-audio-open`, `audioldm2-music`, `musicldm`): looked for, in order, in each folder of the
  `DITTO_BRIDGE_MODELS` environment variable (as `<folder>/<name>` or `<folder>/<repository name>`, e.g.
  `~/models/stable-audio-open-1.0`), then in the local Hugging Face cache (`$HF_HUB_CACHE`, `$HF_HOME/hub`,
  `~/.cache/huggingface/hub`) as `models--<owner>--<repository>/snapshots/<revision>`;
- a folder: a pipeline folder (it holds `model_index.json`), or a cache folder `models--<owner>--<repository>`;
- a Hugging Face repository id (`owner/repository`) already in the local cache.

A folder is usable when `model_index.json` names a supported pipeline and every component it lists is present
(config and weights for networks, the scheduler's config, the tokenizer's files). Otherwise `ModelNotFoundError`
says what is missing and lists every place that was searched.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import ModelNotFoundError

MODELS_ENV = "DITTO_BRIDGE_MODELS"


@dataclass(frozen=True)
class KnownModel:
    """A released model the engine has an adapter for."""

    name: str
    repo_id: str
    pipeline_class: str
    licence: str


KNOWN_MODELS: dict[str, KnownModel] = {
    "stable-audio-open": KnownModel("stable-audio-open", "stabilityai/stable-audio-open-1.0", "StableAudioPipeline",
                                    "Stability AI Community License (gated repository; commercial use needs a "
                                    "Stability AI membership)"),
    "audioldm2-music": KnownModel("audioldm2-music", "cvssp/audioldm2-music", "AudioLDM2Pipeline", "CC BY-NC-SA 4.0"),
    "musicldm": KnownModel("musicldm", "ucsd-reach/musicldm", "MusicLDMPipeline", "CC BY-NC-SA 4.0"),
}
PIPELINE_TO_MODEL = {model.pipeline_class: name for name, model in KNOWN_MODELS.items()}

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".ckpt")


@dataclass(frozen=True)
class PipelineFolder:
    """A complete pipeline folder: its path, pipeline class, the known model it is, the weights variant to load."""

    path: Path
    pipeline_class: str
    model: str
    components: dict[str, tuple[str, str]] = field(default_factory=dict)
    variant: str | None = None


def hub_cache_dirs() -> list[Path]:
    """Hugging Face hub caches this machine may have, in the order huggingface_hub itself would pick them."""
    candidates = []
    for variable in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(variable):
            candidates.append(Path(os.environ[variable]))
    if os.environ.get("HF_HOME"):
        candidates.append(Path(os.environ["HF_HOME"]) / "hub")
    if os.environ.get("XDG_CACHE_HOME"):
        candidates.append(Path(os.environ["XDG_CACHE_HOME"]) / "huggingface" / "hub")
    candidates.append(Path.home() / ".cache" / "huggingface" / "hub")
    unique = []
    for path in candidates:
        path = path.expanduser()
        if path not in unique:
            unique.append(path)
    return unique


def model_dirs() -> list[Path]:
    """Folders named by `DITTO_BRIDGE_MODELS` (os.pathsep-separated)."""
    return [Path(p).expanduser() for p in os.environ.get(MODELS_ENV, "").split(os.pathsep) if p.strip()]


def cache_repo_dir(cache: Path, repo_id: str) -> Path:
    return cache / ("models--" + repo_id.replace("/", "--"))


def snapshots(repo_dir: Path) -> list[Path]:
    """Snapshot folders of a cache repository: the one `refs/main` points to first, then the newest others."""
    base = repo_dir / "snapshots"
    if not base.is_dir():
        return []
    found = sorted((p for p in base.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    ref = repo_dir / "refs" / "main"
    if ref.is_file():
        main = base / ref.read_text().strip()
        if main in found:
            found.remove(main)
            found.insert(0, main)
    return found


def _component_kind(class_name: str) -> str:
    if class_name.endswith("Scheduler"):
        return "scheduler"
    if "Tokenizer" in class_name or class_name == "TokenizersBackend":
        return "tokenizer"
    if class_name.endswith(("FeatureExtractor", "Processor")):
        return "preprocessor"
    return "network"


def _weights(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES)] if folder.is_dir() else []


def missing_files(path: Path, components: dict[str, tuple[str, str]]) -> list[str]:
    """What a pipeline folder lacks, one entry per missing file or folder (relative to `path`)."""
    missing = []
    for name, (library, class_name) in components.items():
        folder = path / name
        kind = _component_kind(class_name)
        if not folder.is_dir():
            missing.append(f"{name}/ ({library}.{class_name})")
            continue
        if kind == "scheduler" and not (folder / "scheduler_config.json").is_file():
            missing.append(f"{name}/scheduler_config.json")
        elif kind == "preprocessor" and not (folder / "preprocessor_config.json").is_file():
            missing.append(f"{name}/preprocessor_config.json")
        elif kind == "tokenizer" and not any(p.is_file() for p in folder.iterdir()):
            missing.append(f"{name}/ tokenizer files (tokenizer.json, spiece.model or vocab.json)")
        elif kind == "network":
            if not (folder / "config.json").is_file():
                missing.append(f"{name}/config.json")
            missing.extend(_missing_weights(folder, name))
    return missing


def _missing_weights(folder: Path, name: str) -> list[str]:
    """A network folder needs a weights file; a sharded one needs every shard its index names (a download cut short
    leaves broken links in the cache: those count as missing)."""
    indexes = [p for p in folder.iterdir() if p.name.endswith(".index.json") and p.is_file()]
    for index in indexes:
        try:
            shards = set(json.loads(index.read_text()).get("weight_map", {}).values())
        except (OSError, ValueError):
            return [f"{name}/{index.name} (unreadable)"]
        absent = sorted(s for s in shards if not (folder / s).is_file())
        if absent:
            return [f"{name}/{s}" for s in absent]
        return []
    if not _weights(folder):
        return [f"{name}/ weights (*.safetensors or *.bin)"]
    return []


def _variant(path: Path, components: dict[str, tuple[str, str]]) -> str | None:
    """"fp16" when the networks only have `*.fp16.*` weight files (diffusers' variant naming), else None."""
    names = [p.name for name, (_, cls) in components.items() if _component_kind(cls) == "network"
             for p in _weights(path / name)]
    if names and all(".fp16." in n for n in names):
        return "fp16"
    return None


def inspect_folder(path: Path) -> PipelineFolder:
    """Check that `path` is a complete, supported pipeline folder; raise ModelNotFoundError saying what is not."""
    index_file = path / "model_index.json"
    if not index_file.is_file():
        raise ModelNotFoundError(f"{path}: no model_index.json (not a diffusers pipeline folder)")
    try:
        index = json.loads(index_file.read_text())
    except (OSError, ValueError) as error:
        raise ModelNotFoundError(f"{index_file}: unreadable ({error})") from error
    pipeline_class = index.get("_class_name", "")
    if pipeline_class not in PIPELINE_TO_MODEL:
        raise ModelNotFoundError(f"{path}: pipeline {pipeline_class or '(unnamed)'} is not supported; supported: "
                                 f"{', '.join(sorted(PIPELINE_TO_MODEL))}")
    components = {name: (spec[0], spec[1]) for name, spec in index.items()
                  if not name.startswith("_") and isinstance(spec, list) and len(spec) == 2 and spec[0] and spec[1]}
    missing = missing_files(path, components)
    if missing:
        raise ModelNotFoundError(f"{path}: incomplete {pipeline_class} folder, missing {', '.join(missing)}")
    return PipelineFolder(path=path, pipeline_class=pipeline_class, model=PIPELINE_TO_MODEL[pipeline_class],
                          components=components, variant=_variant(path, components))


def _search(places: list[tuple[str, Path]], what: str) -> PipelineFolder:
    """First complete pipeline folder among `places` ((description, path) pairs); else one error listing them all."""
    tried = []
    for description, path in places:
        if not path.exists():
            tried.append(f"  {description}: {path} (does not exist)")
            continue
        candidates = snapshots(path) if (path / "snapshots").is_dir() else [path]
        if not candidates:
            tried.append(f"  {description}: {path} (no snapshot)")
        for candidate in candidates:
            try:
                return inspect_folder(candidate)
            except ModelNotFoundError as error:
                tried.append(f"  {description}: {error}")
    raise ModelNotFoundError(f"{what}: no complete copy on this disk (downloads are off). Looked in:\n"
                             + "\n".join(tried))


def resolve_known(name: str) -> PipelineFolder:
    """The pipeline folder of the known model `name`, from `DITTO_BRIDGE_MODELS` or the local Hugging Face cache."""
    model = KNOWN_MODELS[name]
    repo_name = model.repo_id.split("/")[-1]
    places = []
    for folder in model_dirs():
        for sub in dict.fromkeys((name, repo_name)):
            places.append((f"${MODELS_ENV}", folder / sub))
    for cache in hub_cache_dirs():
        places.append(("Hugging Face cache", cache_repo_dir(cache, model.repo_id)))
    try:
        return _search(places, f"model {name!r} ({model.repo_id})")
    except ModelNotFoundError as error:
        raise ModelNotFoundError(
            f"{error}\nTo use it, download {model.repo_id} on a machine with internet access (licence: "
            f"{model.licence}), e.g. `hf download {model.repo_id}`, then copy the folder into one of "
            f"the places above, or into a folder named by the {MODELS_ENV} environment variable, or point "
            "--model at it.") from None


def resolve_path(text: str) -> PipelineFolder:
    """A pipeline folder, a cache repository folder, or an `owner/repository` id in the local cache."""
    path = Path(text).expanduser()
    if path.is_dir():
        if (path / "snapshots").is_dir():
            return _search([("cache repository", path)], f"model {text!r}")
        return inspect_folder(path)
    if text.count("/") == 1 and not text.startswith((".", "/", "~")):
        places = [("Hugging Face cache", cache_repo_dir(cache, text)) for cache in hub_cache_dirs()]
        return _search(places, f"model {text!r}")
    raise ModelNotFoundError(f"model {text!r}: not a folder on this disk")
