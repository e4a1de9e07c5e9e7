"""Tiny random-weight versions of the three pipelines, built offline from configs in code.

They have the real diffusers / transformers classes (StableAudioDiTModel, AutoencoderOobleck,
AudioLDM2UNet2DConditionModel, AutoencoderKL, SpeechT5HifiGan, CLAP, T5, GPT-2) at toy sizes (the sizes diffusers'
own pipeline tests use, with one layer per UNet block and larger VAE / vocoder strides, so that a second of audio
stays small and fast on one CPU thread), and tokenizers built in memory from a small word list (unknown words map to
<unk>). Audio is 8 kHz. They exercise every code path of the adapters (conditioning, guidance, sampling,
differentiable decoding, save / load of a pipeline folder) in seconds on a CPU; their output is noise.
"""

from __future__ import annotations

from typing import Callable

import torch

from engine.models.adapters.common import DiffusersAdapter, PrecomputedPrompts, mel_for_rate

TINY_SAMPLE_RATE = 8000
TINY_MEL = mel_for_rate(TINY_SAMPLE_RATE)
"""Feature domain of the tiny models (the adapters' default at 8 kHz): 8 ms hop, 32 bins."""
TINY_VOCODER_BINS = 8

WORDS = ("ambient", "techno", "piano", "drums", "bass", "guitar", "synth", "pad", "calm", "loud", "slow", "fast",
         "warm", "bright", "dark", "loop")
TINY_PROMPTS = ("", "calm ambient pad", "fast techno drums")
KINDS = ("stable-audio-open", "audioldm2-music", "musicldm")


def _t5_tokenizer(max_length: int):
    from transformers import T5Tokenizer

    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + [("\u2581" + word, -1.0) for word in WORDS]
    return T5Tokenizer(vocab=vocab, extra_ids=0, model_max_length=max_length)


def _roberta_tokenizer(max_length: int):
    """Byte-level BPE without merges: one token per character."""
    from tokenizers import pre_tokenizers
    from transformers import RobertaTokenizer

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    vocab = {token: i for i, token in enumerate(specials + pre_tokenizers.ByteLevel.alphabet())}
    return RobertaTokenizer(vocab=vocab, merges=[], model_max_length=max_length)


def _clap(projection_dim: int, text_projection: int | None):
    from transformers import ClapAudioConfig, ClapConfig, ClapModel, ClapTextConfig

    text = dict(bos_token_id=0, eos_token_id=2, hidden_size=16, intermediate_size=37, layer_norm_eps=1e-05,
                num_attention_heads=2, num_hidden_layers=2, pad_token_id=1, vocab_size=1000)
    if text_projection is not None:
        text["projection_dim"] = text_projection
    audio = dict(spec_size=64, window_size=4, num_mel_bins=64, intermediate_size=37, layer_norm_eps=1e-05,
                 depths=[2, 2], num_attention_heads=[2, 2], num_hidden_layers=2, hidden_size=192, patch_size=2,
                 patch_stride=2, patch_embed_input_channels=4)
    config = ClapConfig(text_config=ClapTextConfig(**text).to_dict(), audio_config=ClapAudioConfig(**audio).to_dict(),
                        projection_dim=projection_dim)
    return ClapModel(config)


def _mel_vae():
    from diffusers import AutoencoderKL

    return AutoencoderKL(block_out_channels=[32, 64], in_channels=1, out_channels=1,
                         down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
                         up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"], latent_channels=4)


def _vocoder():
    from transformers import SpeechT5HifiGan, SpeechT5HifiGanConfig

    vocoder = SpeechT5HifiGan(SpeechT5HifiGanConfig(
        model_in_dim=TINY_VOCODER_BINS, sampling_rate=TINY_SAMPLE_RATE, upsample_initial_channel=16,
        upsample_rates=[4, 8], upsample_kernel_sizes=[8, 16], resblock_kernel_sizes=[3, 7],
        resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5]], normalize_before=False))
    # transformers draws these convolutions with std 0.01: a random vocoder then outputs ~1e-5, below the log-mel
    # floor, where the floor's clamp passes no gradient. PyTorch's default initialization gives audio near 0.1.
    for module in vocoder.modules():
        if isinstance(module, (torch.nn.Conv1d, torch.nn.ConvTranspose1d)):
            module.reset_parameters()
    return vocoder


def _ddim():
    from diffusers import DDIMScheduler

    return DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                         set_alpha_to_one=False)


def _eval(pipe):
    """Networks in inference mode (no dropout), as `from_pretrained` leaves them."""
    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            component.eval()
    return pipe


def tiny_stable_audio_pipeline(seed: int = 0):
    """A complete `StableAudioPipeline` with random weights: 3 latent channels, VAE hop 64 at 8 kHz, stereo, a
    window of 1024 latent frames (8.2 s)."""
    from diffusers import (AutoencoderOobleck, EDMDPMSolverMultistepScheduler, StableAudioDiTModel,
                           StableAudioPipeline, StableAudioProjectionModel)
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(seed)
    transformer = StableAudioDiTModel(sample_size=1024, in_channels=3, num_layers=2, attention_head_dim=4,
                                      num_attention_heads=4, num_key_value_attention_heads=2, out_channels=3,
                                      cross_attention_dim=4, time_proj_dim=8, global_states_input_dim=8,
                                      cross_attention_input_dim=4)
    vae = AutoencoderOobleck(encoder_hidden_size=6, downsampling_ratios=[2, 4, 8], channel_multiples=[1, 2, 4],
                             decoder_channels=3, decoder_input_channels=3, audio_channels=2,
                             sampling_rate=TINY_SAMPLE_RATE)
    text_encoder = T5EncoderModel(T5Config(vocab_size=len(WORDS) + 3, d_model=16, d_ff=37, d_kv=8, num_heads=2,
                                           num_layers=2))
    projection_model = StableAudioProjectionModel(text_encoder_dim=16, conditioning_dim=4, min_value=0, max_value=32)
    # The released pipeline names CosineDPMSolverMultistepScheduler, which needs torchsde; the adapter only reads
    # sigma_max from it, so the tiny pipeline carries its sibling with the same sigma settings.
    scheduler = EDMDPMSolverMultistepScheduler(sigma_min=0.3, sigma_max=500.0, sigma_data=1.0,
                                               prediction_type="v_prediction")
    return _eval(StableAudioPipeline(vae=vae, text_encoder=text_encoder, projection_model=projection_model,
                                     tokenizer=_t5_tokenizer(16), transformer=transformer, scheduler=scheduler))


def tiny_audioldm2_pipeline(seed: int = 0):
    """A complete `AudioLDM2Pipeline` with random weights: 4 latent channels, 8 mel bins, vocoder hop 32 at 8 kHz."""
    from diffusers import AudioLDM2Pipeline, AudioLDM2ProjectionModel, AudioLDM2UNet2DConditionModel
    from transformers import ClapFeatureExtractor, GPT2Config, GPT2Model, T5Config, T5EncoderModel

    torch.manual_seed(seed)
    unet = AudioLDM2UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=1, sample_size=32,
                                         in_channels=4, out_channels=4,
                                         down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                         up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
                                         cross_attention_dim=([None, 16, 32], [None, 16, 32]))
    vae = _mel_vae()
    text_encoder = _clap(projection_dim=16, text_projection=16)
    text_encoder_2 = T5EncoderModel(T5Config(vocab_size=len(WORDS) + 3, d_model=32, d_ff=37, d_kv=8, num_heads=2,
                                             num_layers=2))
    language_model = GPT2Model(GPT2Config(n_embd=16, n_head=2, n_layer=2, vocab_size=1000, n_ctx=99, n_positions=99))
    language_model.config.max_new_tokens = 8
    projection_model = AudioLDM2ProjectionModel(text_encoder_dim=16, text_encoder_1_dim=32, langauge_model_dim=16)
    return _eval(AudioLDM2Pipeline(vae=vae, text_encoder=text_encoder, text_encoder_2=text_encoder_2,
                                   projection_model=projection_model, language_model=language_model,
                                   tokenizer=_roberta_tokenizer(77), tokenizer_2=_t5_tokenizer(16),
                                   feature_extractor=ClapFeatureExtractor(), unet=unet, scheduler=_ddim(),
                                   vocoder=_vocoder()))


def tiny_musicldm_pipeline(seed: int = 0):
    """A complete `MusicLDMPipeline` with random weights: CLAP features (32) as the UNet's class embedding."""
    from diffusers import MusicLDMPipeline, UNet2DConditionModel
    from transformers import ClapFeatureExtractor

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=1, sample_size=32, in_channels=4,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=(32, 64),
                                class_embed_type="simple_projection", projection_class_embeddings_input_dim=32,
                                class_embeddings_concat=True)
    vae = _mel_vae()
    text_encoder = _clap(projection_dim=32, text_projection=None)
    return _eval(MusicLDMPipeline(vae=vae, text_encoder=text_encoder, tokenizer=_roberta_tokenizer(77),
                                  feature_extractor=ClapFeatureExtractor(), unet=unet, scheduler=_ddim(),
                                  vocoder=_vocoder()))


PIPELINES: dict[str, Callable] = {"stable-audio-open": tiny_stable_audio_pipeline,
                                  "audioldm2-music": tiny_audioldm2_pipeline, "musicldm": tiny_musicldm_pipeline}


def tiny_prompt_embeddings(kind: str, seed: int = 1) -> PrecomputedPrompts:
    """Seeded random embeddings shaped as each pipeline's text encoders output them, for `TINY_PROMPTS`."""
    generator = torch.Generator().manual_seed(seed)

    def randn(*shape):
        return torch.randn(*shape, generator=generator)

    table = {}
    for prompt in TINY_PROMPTS:
        if kind == "stable-audio-open":
            table[prompt] = {"text": randn(1, 6, 16), "mask": torch.ones(1, 6, dtype=torch.long)}
        elif kind == "audioldm2-music":
            table[prompt] = {"generated": randn(1, 8, 16), "t5": randn(1, 5, 32),
                             "t5_mask": torch.ones(1, 5, dtype=torch.long)}
        elif kind == "musicldm":
            table[prompt] = {"clap": torch.nn.functional.normalize(randn(1, 32), dim=-1)}
        else:
            raise ValueError(f"unknown tiny model kind {kind!r}; choose one of {', '.join(KINDS)}")
    return PrecomputedPrompts(table)


def tiny_adapter(kind: str, *, text_encoders: bool = False, seed: int = 0, **kwargs) -> DiffusersAdapter:
    """The tiny pipeline of `kind` wrapped by its adapter.

    `text_encoders=True` keeps the pipeline's tiny tokenizers and text encoders (any prompt works); otherwise the
    adapter gets `tiny_prompt_embeddings(kind)` (only `TINY_PROMPTS` work).
    """
    from engine.models.adapters.audioldm2 import AudioLDM2Adapter
    from engine.models.adapters.musicldm import MusicLDMAdapter
    from engine.models.adapters.stable_audio import StableAudioAdapter

    pipe = PIPELINES[kind](seed)
    kwargs = {"trained": False, "name": f"{kind}-tiny", **kwargs}
    if text_encoders:
        cls = {"stable-audio-open": StableAudioAdapter, "audioldm2-music": AudioLDM2Adapter,
               "musicldm": MusicLDMAdapter}[kind]
        return cls.from_pipeline(pipe, **kwargs)
    prompts = tiny_prompt_embeddings(kind)
    if kind == "stable-audio-open":
        return StableAudioAdapter(pipe.transformer, pipe.vae, pipe.projection_model, prompt_encoder=prompts, **kwargs)
    cls = AudioLDM2Adapter if kind == "audioldm2-music" else MusicLDMAdapter
    return cls(pipe.unet, pipe.vae, pipe.vocoder, dict(pipe.scheduler.config), prompt_encoder=prompts, **kwargs)
