"""Shapes of common model families, matched from Hugging Face ids and torchtune builders.

Figures are the published `config.json` values of each model on the Hugging Face Hub.
An unknown model still gets a size when its name states one ("...-13b"), and is marked
`known=False` so the projection can say what it could not know.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from .schemas import ModelShape


class _Row(NamedTuple):
    pattern: str
    family: str
    params_b: float
    n_layers: int
    hidden: int
    n_heads: int
    n_kv_heads: int
    intermediate: int
    vocab: int
    active_params_b: float | None = None
    n_experts: int | None = None  # MoE: routed experts per layer
    experts_per_token: int | None = None  # MoE: routed experts per token
    vision_params_b: float | None = None  # a vision-language row: its vision tower and projector, within params_b


def _dense(
    pattern: str,
    family: str,
    layers: int,
    hidden: int,
    heads: int,
    kv: int,
    inter: int,
    vocab: int,
    *,
    tied: bool,
    gated: bool = True,
    head_dim: int | None = None,
) -> _Row:
    """A dense row from a config.json's numbers; the parameter count is computed from them as
    hubconfig.shape_from_config does (attention, MLP: three matrices when gated (SwiGLU/GeGLU),
    two otherwise, embeddings once when tied), norms and biases left out."""
    d = head_dim or hidden // heads
    attn = hidden * d * (2 * heads + 2 * kv)
    mlp = (3 if gated else 2) * hidden * inter
    params = layers * (attn + mlp) + vocab * hidden * (1 if tied else 2)
    return _Row(pattern, family, round(params / 1e9, 3), layers, hidden, heads, kv, inter, vocab)


# MLC = the config.json copies in mlc-ai/mlc-llm python/mlc_llm/model/model_preset.py@79d603f085f5
# (MODEL_PRESETS; the line of each preset is given). They also confirm the rows above them for
# Llama 2 7B/13B/70B (:6/:31/:57), Llama 3.1 8B/70B (:1427/:1459), Llama 3.2 1B/3B (:1491/:1524),
# Mistral 7B (:204), Mixtral 8x7B (:388), Qwen2 0.5B/1.5B/7B (:1625/:1650/:1700), Qwen2.5 3B
# (:1675), Qwen3 0.6B/1.7B (:1725/:1753), Gemma 2B (:1128), Gemma 2 2B/9B/27B (:1153/:1213/:1276),
# Gemma 3 1B (:1244) and Phi-3.5-mini (:497).
_GROWN: tuple[_Row, ...] = (
    _dense(r"code-?llama-7b", "llama2", 32, 4096, 32, 32, 11008, 32016, tied=False),  # MLC :80 codellama/CodeLlama-7b-hf
    _dense(r"code-?llama-13b", "llama2", 40, 5120, 40, 40, 13824, 32016, tied=False),  # MLC :106
    _dense(r"code-?llama-34b", "llama2", 48, 8192, 64, 8, 22016, 32016, tied=False),  # MLC :131
    _dense(r"tinyllama-1[.-]1b", "llama", 22, 2048, 32, 4, 5632, 32000, tied=False),  # MLC :180 (chat v1.0)
    # TinyLlama_v1.1 has the same numbers: the config.json of TinyLlama/TinyLlama_v1.1 kept as a test fixture in a copy of
    # ai-dynamo/dynamo (connorcarpenter15/dynamo lib/llm/tests/data/sample-models/TinyLlama_v1.1/config.json:9-22@784c97659bdf).
    _dense(r"tinyllama-v1[.-]1(?![\d.])", "llama", 22, 2048, 32, 4, 5632, 32000, tied=False),
    _dense(r"mistral-7b-(instruct-)?v0[.-]3", "mistral", 32, 4096, 32, 8, 14336, 32768, tied=False),  # MLC :228
    _dense(r"(^|/)gpt-?2$", "gpt2", 12, 768, 12, 12, 3072, 50257, tied=True, gated=False),  # MLC :308; n_inner unset: 4 x n_embd
    _dense(r"(^|/)gpt-?2-medium$", "gpt2", 24, 1024, 16, 16, 4096, 50257, tied=True, gated=False),  # MLC :332
    _dense(r"phi-1[.-]5(?![\d.])", "phi", 24, 2048, 32, 32, 8192, 51200, tied=False, gated=False),  # MLC :438 microsoft/phi-1_5
    _dense(r"phi-2(?![\d.])", "phi", 32, 2560, 32, 32, 10240, 51200, tied=False, gated=False),  # MLC :467 microsoft/phi-2
    _dense(r"phi-?4-mini", "phi3", 32, 3072, 24, 8, 8192, 200064, tied=True),  # MLC :782 Phi-4-mini-instruct
    _dense(r"internlm2[.-]5-7b", "internlm2", 32, 4096, 32, 8, 14336, 92544, tied=False),  # MLC :1806
    _dense(r"smollm2-135m", "smollm2", 30, 576, 9, 3, 1536, 49152, tied=True),  # MLC :1948
    _dense(r"smollm2-360m", "smollm2", 32, 960, 15, 5, 2560, 49152, tied=True),  # MLC :2021
    _dense(r"olmo-?2-(\d{4}-)?7b", "olmo2", 32, 4096, 32, 32, 11008, 100352, tied=False),  # MLC :2220
    _dense(r"olmo-?2-(\d{4}-)?13b", "olmo2", 40, 5120, 40, 40, 13824, 100352, tied=False),  # MLC :2238
    _dense(r"olmo-?2-(\d{4}-)?32b", "olmo2", 64, 5120, 40, 8, 27648, 100352, tied=False),  # MLC :2256
    # GP = the config.json excerpts by Hub id in RahulSChand/gpu_poor public/all_configs.json@ad2fc0ef0e6c
    # (layers, widths, heads, vocabulary); not in them, from transformers 5.25.0's config defaults:
    # GPTNeoXConfig tie_word_embeddings False (models/gpt_neox/configuration_gpt_neox.py:77, no GQA),
    # GPT2Config tie_word_embeddings True (models/gpt2/configuration_gpt2.py:102), n_inner unset is
    # 4 x n_embd (models/gpt2/modeling_gpt2.py:252).
    _dense(r"(^|/)gpt-?2-large$", "gpt2", 36, 1280, 20, 20, 5120, 50257, tied=True, gated=False),  # GP gpt2-large
    _dense(r"(^|/)gpt-?2-xl$", "gpt2", 48, 1600, 25, 25, 6400, 50257, tied=True, gated=False),  # GP gpt2-xl
    _dense(r"pythia-70m", "gpt-neox", 6, 512, 8, 8, 2048, 50304, tied=False, gated=False),  # GP EleutherAI/pythia-70m
    _dense(r"pythia-160m", "gpt-neox", 12, 768, 12, 12, 3072, 50304, tied=False, gated=False),  # GP EleutherAI/pythia-160m
    _dense(r"pythia-410m", "gpt-neox", 24, 1024, 16, 16, 4096, 50304, tied=False, gated=False),  # GP EleutherAI/pythia-410m
    _dense(r"pythia-1b", "gpt-neox", 16, 2048, 8, 8, 8192, 50304, tied=False, gated=False),  # GP EleutherAI/pythia-1b
    _dense(r"pythia-1[.-]4b", "gpt-neox", 24, 2048, 16, 16, 8192, 50304, tied=False, gated=False),  # GP EleutherAI/pythia-1.4b
    _dense(r"pythia-2[.-]8b", "gpt-neox", 32, 2560, 32, 32, 10240, 50304, tied=False, gated=False),  # GP EleutherAI/pythia-2.8b
    _dense(r"pythia-6[.-]9b", "gpt-neox", 32, 4096, 32, 32, 16384, 50432, tied=False, gated=False),  # GP EleutherAI/pythia-6.9b
    _dense(r"pythia-12b", "gpt-neox", 36, 5120, 40, 40, 20480, 50688, tied=False, gated=False),  # GP EleutherAI/pythia-12b
    # Qwen-7B (v1, QWenLMHeadModel; -Chat is its fine-tune): GP tangger/Qwen-7B-Chat, 32 layers, 4096 wide, 32 heads,
    # intermediate_size 22016, vocabulary 151936. That intermediate_size is both gated halves: the MLP projects to it and
    # back from half of it, so the SwiGLU width is 11008, attention is MHA (one fused c_attn of 3 x heads x head_dim) and
    # lm_head is its own matrix (mlc-ai/mlc-llm python/mlc_llm/model/qwen/qwen_model.py:92,123-129,203@79d603f085f5).
    # 7.72B computed.
    _dense(r"(^|/)qwen-7b(-chat)?$", "qwen", 32, 4096, 32, 32, 11008, 151936, tied=False),
    # MPT-7B: 32 layers, 32 heads, d_model 4096, vocabulary 50432 (the mosaicml/mpt-7b model card's hyperparameter table,
    # copied in asgaardlab/model-card-reorganization verified_model_cards/mosaicml@mpt-7b/2_original_model_card.md
    # @3a0a6702b42a); transformers 5.25.0 MptMLP is two matrices 4096 -> 4 x 4096 -> 4096 with GELU
    # (models/mpt/modeling_mpt.py:144-146; llm-foundry's mpt-7b recipe has expansion_ratio 4, scripts/train/yamls/pretrain/
    # mpt-7b.yaml:16@15fb4ffaa6fb) and lm_head is tied to wte (:370, configuration_mpt.py:137). 6.65B computed, the card's 6.7B.
    _dense(r"(^|/)mpt-7b(-instruct|-chat)?$", "mpt", 32, 4096, 32, 32, 16384, 50432, tied=True, gated=False),
    # StarCoder / StarCoderBase / StarCoderPlus (GPTBigCode, 15.5B): n_layer 40, n_embd 6144, n_head 48, multi_query
    # true (one KV head), n_inner 24576, vocab_size 49152 in the config.json copies of bigcode/starcoder
    # (huggingface.co/bigcode/starcoder-co-format config.json, "_name_or_path": "bigcode/starcoder"; GP
    # TheBloke/starcoder-GPTQ, lizhuang144/starcoder_mirror). transformers 5.25.0: an MLP of two matrices c_fc/c_proj
    # (models/gpt_bigcode/modeling_gpt_bigcode.py:242-247), lm_head tied to wte (:509), tie_word_embeddings True and
    # multi_query -> one KV head (configuration_gpt_bigcode.py:77-82). 15.46B computed, the 15.5B of its model card.
    _dense(r"(^|/)starcoder(base|plus)?$", "gpt_bigcode", 40, 6144, 48, 1, 24576, 49152, tied=True, gated=False),
    # OpenLLaMA 3B (v1 and v2; openlm-research trained both with EasyLM): EasyLM's `llama_3b` config, hidden 3200,
    # intermediate 8640, 26 layers, 32 heads, 32 KV heads, vocabulary 32000 (young-geng/EasyLM
    # EasyLM/models/llama/llama_model.py:114-122@fe5b2c354e25, whose train/serve scripts default to the
    # openlm-research/open_llama_3b_v2 tokenizer, llama_train.py:43), a separate lm_head (:935): untied. 3.43B computed.
    _dense(r"open-?llama-3b(-v[12])?(?![\d.])", "llama", 26, 3200, 32, 32, 8640, 32000, tied=False),
    # Falcon-7B (FalconForCausalLM): 32 layers, 4544 wide, 71 heads of 64 and one KV head (query_key_value 4544 -> 4672),
    # a two-matrix GELU MLP 4544 -> 18176, vocabulary 65024 (the module tree of tiiuae/falcon-7b printed in
    # kimborgen/falcon-llm README.md, a copy of the tiiuae/falcon-7b repository); transformers 5.25.0 FalconConfig
    # (checkpoint tiiuae/falcon-7b) ties the embeddings (models/falcon/configuration_falcon.py:23,65-68,88). 6.92B computed.
    _dense(r"(^|/)falcon-7b(-instruct)?$", "falcon", 32, 4544, 71, 1, 18176, 65024, tied=True, gated=False),
    # GLM-4-9B-Chat: transformers 5.25.0 GlmConfig's defaults are THUDM/glm-4-9b-chat's (models/glm/configuration_glm.py:24
    # auto_docstring checkpoint, :55-68): 40 layers, 4096 wide, 32 heads, 2 KV heads of 128, MLP 13696, vocabulary
    # 151552, untied. 9.40B computed. glm-4-9b-chat-1m has 4 KV heads and the base glm-4-9b is not cited: no row.
    _dense(r"(^|/)glm-4-9b-chat(-hf)?$", "glm", 40, 4096, 32, 2, 13696, 151552, tied=False),
    # GLM-4-32B-0414 (and its base): the GGUF metadata of a conversion of it, 61 blocks, 6144 wide, 48 heads of 128, 2 KV
    # heads, feed-forward 23040, token_embd 6144 x 151552 (ollama.com/JollyLlama/GLM-4-32B-0414-Q4_K_M/blobs/098b174fe605);
    # transformers 5.25.0 Glm4MLP is gated (gate_up_proj 2 x 23040, models/glm4/modeling_glm4.py:54-55) and Glm4Config
    # unties (configuration_glm4.py:68). 32.56B computed. GLM-Z1 and the 9B-0414 are other checkpoints: no row.
    _dense(r"glm-4-32b-(base-)?0414", "glm4", 61, 6144, 48, 2, 23040, 151552, tied=False, head_dim=128),
    # Yi-34B (and -Chat, its fine-tune): 60 layers, 7168 wide, 56 heads, 8 KV heads, MLP 20480, vocabulary 64000, untied,
    # in config.json copies of 01-ai/Yi-34B (huggingface.co/GreenBitAI/yi-34b-w4a16g32 config.json@e8fff0b745d6, whose
    # _name_or_path is the 01-ai/Yi-34B snapshot 40135d75da60; Locutusque/Hyperion-3.0-Yi-34B config.json@c0bd2b3d298c).
    # 34.39B computed.
    _dense(r"(^|/)yi-34b(-chat)?$", "yi", 60, 7168, 56, 8, 20480, 64000, tied=False),
    # Gemma 3 270M: Google DeepMind's gemma library, 18 layers, 640 wide, 4 heads of 256, 1 KV head, MLP 2048, vocabulary
    # 262144 (google-deepmind/gemma gemma/gm/nn/_gemma.py:33 and class Gemma3_270M@9fec24caa489); tied, as the other
    # Gemma 3 rows. 0.27B computed, the model's name.
    _dense(r"gemma-?3-270m", "gemma3", 18, 640, 4, 1, 2048, 262144, tied=True, head_dim=256),
    # Magistral Small 2506 / 2507 (text-only MistralForCausalLM): "building upon Mistral Small 3.1 (2503)" (the
    # Magistral-Small-2506 model card, copied in WillIsback/sportsee docs/magistral-small.md:3@6236c44607df), whose text
    # decoder transformers 5.25.0 Mistral3Config carries as its defaults (models/mistral3/configuration_mistral3.py:24
    # checkpoint mistralai/Mistral-Small-3.1-24B-Instruct-2503, :57-71): 40 layers, 5120 wide, 32 heads of 128, 8 KV heads,
    # MLP 32768, vocabulary 131072; MistralConfig unties (models/mistral/configuration_mistral.py:77). 23.57B computed, the
    # 23.6B oumi gives Magistral Small 2507 (oumi-ai/oumi configs/recipes/mistral_magistral/README.md:9-10@36cfa19a16a6).
    # Magistral-Small-2509 adds a vision tower: no row.
    _dense(r"magistral-small-250[67](?!\d)", "mistral", 40, 5120, 32, 8, 32768, 131072, tied=False, head_dim=128),
    # Mistral-Nemo-Base-2407 and its instruct fine-tune Mistral-Nemo-Instruct-2407 (the Instruct model card, copied in
    # sassoftware/sas-agentic-ai-accelerator LLM-Definitions/mistral_nemo/Model-Card.md:13@9346e9ca4596): 40 layers, 5120
    # wide, 32 heads of 128, 8 KV heads, MLP 14336, vocabulary 131072, untied (the config.json of
    # mistralai/Mistral-Nemo-Base-2407 in kevinstephano/thunder_model_blocks thunder_model_blocks/mistral/mistral_config.py
    # :12-36@5c083b0e1fc8). 12.25B computed, the model card's 12B.
    _dense(r"(^|/)mistral-nemo-(base|instruct)-2407$", "mistral", 40, 5120, 32, 8, 14336, 131072, tied=False, head_dim=128),
    # Phi-3-medium (4k and 128k instruct): 40 layers, 5120 wide, 40 heads, 10 KV heads, MLP 17920, vocabulary 32064, untied;
    # the two config.json copies differ only in context and RoPE scaling (dotnet/machinelearning src/Microsoft.ML.GenAI.Phi/
    # Resource/Config/phi-3-medium-4k-instruct-config.json:15-35@17b689af7715, phi-3-medium-128k-instruct-config.json
    # @6d1f7e2bf83e). 13.96B computed, the model card's 14B. Phi-3-small is another architecture: no row.
    _dense(r"(^|/)phi-3-medium-(4k|128k)-instruct$", "phi3", 40, 5120, 40, 10, 17920, 32064, tied=False),
    # IE = InternLM/InternEvo-HFModels@d335092bbfa6, whose huggingface_model/<org>/<model>/ folders copy a Hub model's
    # configuration file at the Hub commit their README.md names; the config classes' defaults are those models'.
    # Yi-6B (and -Chat, its fine-tune): 32 layers, 4096 wide, 32 heads, 4 KV heads, MLP 11008, vocabulary 64000, untied
    # (IE huggingface_model/Yi/Yi_6B/configuration_yi.py:77-91, 01-ai/Yi-6B at d729eecf138a). 6.06B computed.
    _dense(r"(^|/)yi-6b(-chat)?$", "yi", 32, 4096, 32, 4, 11008, 64000, tied=False),
    # Baichuan2-7B-Base (and -Chat, its fine-tune): 32 layers, 4096 wide, 32 heads (one W_pack of 3 x 4096: MHA), MLP 11008
    # (gate/up/down), vocabulary 125696, its own NormHead lm_head (IE huggingface_model/baichuan_inc/Baichuan2_7B_Base/
    # configuration_baichuan.py:35-48, modeling_baichuan.py:163-165,187,530; baichuan-inc/Baichuan2-7B-Base at f9d4d8dd2f7a);
    # MLC's "baichuan" preset has the same numbers (:1085). 7.51B computed.
    _dense(r"(^|/)baichuan2-7b-(base|chat)$", "baichuan", 32, 4096, 32, 32, 11008, 125696, tied=False),
    # Qwen1.5-7B (and -Chat, its aligned model; model_type qwen2): 32 layers, 4096 wide, 32 heads, 32 KV heads, MLP 11008,
    # vocabulary 151936, untied (a copy of the Qwen/Qwen1.5-7B repository with its model card, config.json and a weight map
    # of separate lm_head and embed_tokens, total_size 15442649088 bytes in bf16: 7.72B, in a copy of huggingface/transformers
    # at examples/pytorch/torchacc/qwen/Qwen1.5-7B/config.json:9-26@f092c38c0bf5). 7.72B computed. The other Qwen1.5 sizes
    # are not cited: no row.
    _dense(r"(^|/)qwen1[.-]5-7b(-chat)?$", "qwen2", 32, 4096, 32, 32, 11008, 151936, tied=False),
    # LLaMA (1) 7B and 13B, as converted to transformers (huggyllama/llama-7b, decapoda-research/llama-7b-hf, their -13b):
    # GP huggyllama/llama-7b and decapoda-research/llama-7b-hf 32 layers, 4096 wide, 32 heads, MLP 11008, vocabulary 32000;
    # huggyllama/llama-13b and decapoda-research/llama-13b-hf 40, 5120, 40, 13824, 32000. No num_key_value_heads: as many as
    # heads, and lm_head untied (transformers 5.25.0 models/llama/configuration_llama.py:78,88-89). 6.74B and 13.02B computed,
    # Llama 2's rows' numbers. Only the bare names: a fine-tune's name ("chinese-llama-7b", "vicuna-7b") is not these rows.
    _dense(r"(^|/)llama-7b(-hf)?$", "llama", 32, 4096, 32, 32, 11008, 32000, tied=False),
    _dense(r"(^|/)llama-13b(-hf)?$", "llama", 40, 5120, 40, 40, 13824, 32000, tied=False),
    # GPT-Neo 1.3B: transformers 5.25.0 GPTNeoConfig's defaults are EleutherAI/gpt-neo-1.3B's (models/gpt_neo/
    # configuration_gpt_neo.py:22 auto_docstring checkpoint, :50-70): 24 layers, 2048 wide, 16 heads (MHA), intermediate_size
    # unset: 4 x 2048 (modeling_gpt_neo.py:319), a two-matrix MLP (:299-303), vocabulary 50257, lm_head tied to wte (:520).
    # Every other layer is "local" (a 256-token window), computed as full causal attention under a mask (modeling_gpt_neo.py:
    # 63-68), so the dense pricing holds. 1.31B computed. GPT-Neo 2.7B is not cited: no row.
    _dense(r"(^|/)gpt-neo-1[.-]3b$", "gpt_neo", 24, 2048, 16, 16, 8192, 50257, tied=True, gated=False),
    # Instella-3B (and its -Stage1, -SFT and -Instruct checkpoints): AMD's pretraining config, d_model 2560, 32 heads
    # (multi_query_attention false), 36 layers, mlp_hidden_size 13824 (both SwiGLU halves), weight_tying false, embedding_size
    # 50304 (AMD-AIG-AIMA/Instella configs/instella-3b-pretrain-stage1.yaml:10-33@f00a236944fe), and the same numbers as the
    # defaults of its transformers config class (hf_instella/configuration_instella.py:77-90,112-114: intermediate_size 6912,
    # num_key_value_heads = heads). 3.11B computed. Its own model code (model_type "instella"): no attention table entry.
    _dense(r"(^|/)instella-3b(-stage1|-sft|-instruct)?$", "instella", 36, 2560, 32, 32, 6912, 50304, tied=False),
    # Poro-34B (BloomForCausalLM: "architecture: bloom" in a copy of its Hub metadata, leliuga/cohere-configurations
    # models/Poro-34B/manifest.yaml:5@665abf20e792): 54 layers, 56 heads, d_model 7168, vocabulary 128000, 34.2B parameters
    # (its model card's hyperparameter table, the copy at models/Poro-34B/README.md@1937189b9a04). transformers 5.25.0 BLOOM:
    # a two-matrix MLP 7168 -> 4 x 7168 (models/bloom/modeling_bloom.py:321-323), lm_head tied to the word embeddings (:565),
    # ALiBi on MHA attention, priced as MPT's. 34.21B computed, the card's 34.2B.
    _dense(r"(^|/)poro-34b$", "bloom", 54, 7168, 56, 56, 28672, 128000, tied=True, gated=False),
    # Apertus-8B (swiss-ai/Apertus-8B-2509 and its -Instruct-2509; ApertusForCausalLM): 32 layers, 4096 wide, 32 heads of
    # 128, 8 KV heads, MLP 21504, vocabulary 131072, untied: the config.json of Apertus-8B that ml-explore's MLX port
    # carries as its defaults (ml-explore/mlx-swift-lm Libraries/MLXLLM/Models/Apertus.swift:26-33@1ec05406b993, a port of
    # mlx-lm's mlx_lm/models/apertus.py). transformers 5.25.0
    # ApertusMLP is two matrices, up_proj and down_proj around xIELU (models/apertus/modeling_apertus.py:49-50), not
    # gated; ApertusConfig names swiss-ai/Apertus-8B-Instruct-2509 its checkpoint (configuration_apertus.py:28) but its
    # intermediate_size (14336) and num_key_value_heads (None) defaults are not that checkpoint's. 8.05B computed.
    # Apertus 1.5 (Apertus1p5ForConditionalGeneration) is another architecture: no row.
    _dense(r"(^|/)apertus-8b-(instruct-)?2509$", "apertus", 32, 4096, 32, 8, 21504, 131072, tied=False, gated=False),
    # DeepSeek-Coder 6.7B Instruct (LlamaForCausalLM, model_type llama): the model's config.json as transformers 4.40.0.dev0
    # loaded it, logged by wandb in vdaita/diff-model wandb/run-20240630_105144-ulrgu2u5/files/config.yaml@6f9c41b20106
    # (:92-111 vocab_size 32256, max_position_embeddings 16384, hidden_size 4096, intermediate_size 11008,
    # num_hidden_layers 32, num_attention_heads 32, num_key_value_heads 32; :131 rope_scaling linear x4; :166
    # tie_word_embeddings false; :262 architectures; :306 _name_or_path deepseek-ai/deepseek-coder-6.7b-instruct; the same in
    # its eight other runs of that model). The instruct model is "initialized from deepseek-coder-base" (xorbitsai/inference
    # doc/source/models/builtin/llm/deepseek-coder-instruct.rst), so the base shares the row. 6.74B computed.
    _dense(r"deepseek-coder-6[.-]7b-(base|instruct)", "llama", 32, 4096, 32, 32, 11008, 32256, tied=False),
)

# Patterns run on the lower-cased name with "_" turned into "-"; first match wins,
# so more specific rows come first.
_TABLE: tuple[_Row, ...] = (
    *_GROWN,
    # GPT-OSS: layers, experts, widths from NVIDIA's Megatron Bridge model page
    # (docs.nvidia.com/nemo/megatron-bridge/latest/models/llm/gpt-oss.html); 117B / 5.1B and
    # 21B / 3.6B total / active parameters from NVIDIA NeMo Customizer's GPT-OSS page.
    # DeepSeek-V3 / R1: 671B total, 37B active (DeepSeek-R1 README); shape from DeepseekV3 config.json
    # (61 layers, 7168 wide, 128 heads, MoE experts 2048 wide, vocabulary 129280).
    _Row(r"deepseek-(v3|r1)(?!-distill)", "deepseek-v3", 671.0, 61, 7168, 128, 128, 2048, 129280, 37.0, 256, 8),
    # Mistral Small 4 (119B): transformers 5.25.0 Mistral4Config's defaults are mistralai/Mistral-Small-4-119B-2603's
    # (models/mistral4/configuration_mistral4.py:23 auto_docstring checkpoint, :71-91): 36 layers, 4096 wide, 32 heads
    # (MLA, 32 KV heads), 128 routed experts 2048 wide, 4 per token, 1 shared, vocabulary 131072, untied. 118.97B total /
    # 6.63B active counted from Mistral4ForCausalLM on the meta device (the text decoder; the vision tower is not counted).
    _Row(r"mistral-small-4-119b", "mistral4", 118.97, 36, 4096, 32, 32, 2048, 131072, 6.63, 128, 4),
    _Row(r"gpt-oss-120b", "gpt-oss", 117.0, 36, 2880, 64, 8, 2880, 201088, 5.1, 128, 4),
    _Row(r"gpt-oss-20b", "gpt-oss", 21.0, 24, 2880, 64, 8, 2880, 201088, 3.6, 32, 4),
    # Llama 4 Scout: 17B active of ~109B total (transformers' Llama4 docs); text shape from its config.json
    _Row(r"llama-?4-scout", "llama4", 109.0, 48, 5120, 40, 8, 8192, 202048, 17.0, 16, 1),
    # Vision-language models: the text decoder's shape, parameters counted with the vision tower, from instantiating
    # transformers 5.25.0's model class on the meta device with the published text_config (vision_config at the
    # class defaults, which are these models'). Llama 3.2 11B Vision (MllamaForConditionalGeneration): text_config
    # 40 layers (8 of them cross-attention), 4096 wide, 32 heads, 8 KV heads, 14336, vocabulary 128256 and a 32-layer
    # 1280-wide vision encoder (config.json copies of meta-llama/Llama-3.2-11B-Vision(-Instruct):
    # huggingface.co/Aekanun/thai-handwriting-llm config.json@11aa08b2206f, tetttssts/test); 10.64B, 0.87B of it vision
    # (vision_model + multi_modal_projector). The split agrees with torchtune's builders (pytorch/torchtune
    # torchtune/models/llama3_2_vision/_model_builders.py:86-94@20bdf10, _component_builders.py:255-322, clip/
    # _component_builders.py:125-135): 32 CLIP + 8 projection-head layers of width 1280 (MLP 5120) 0.79B, the gated tile
    # positional embedding 4 x 4 x 1601 x 1280 0.03B, the linear map 6 x 1280 -> 4096 0.03B (-> 8192: 0.06B for the 90B).
    # The vision part is recorded so that a recipe whose image formats/tune_vision.py prices on its own tokens does not
    # price the text tokens through it too (costmodel.vision_weights).
    # Qwen2-VL-72B (Qwen2VLForConditionalGeneration): 80 layers, 8192 wide, 64 heads, 8 KV heads, 29568 (OPEA/
    # Qwen2-VL-72B-Instruct-int4-sym-inc config.json@e67cae737d8e), vocabulary 152064; 73.41B, 0.70B of it vision.
    _Row(r"qwen2-vl-72b", "qwen2-vl", 73.41, 80, 8192, 64, 8, 29568, 152064, vision_params_b=0.70),
    _Row(r"llama-?3[.-]2-(vision-11b|11b-vision)", "mllama", 10.64, 40, 4096, 32, 8, 14336, 128256, vision_params_b=0.87),
    # Llama 3.2 90B Vision: torchtune's llama3_2_vision_90b decoder, 80 self-attention layers with a cross-attention
    # layer every 4 (fusion_interval 4: 100 layers), 8192 wide, 64 heads, 8 KV heads, 28672, vocabulary 128256, and
    # the 11B's vision encoder projecting to 8192 (pytorch/torchtune torchtune/models/llama3_2_vision/
    # _model_builders.py:248-271@bd2a0fc7c314); 88.57B counted as the 11B row (0.90B of it vision).
    _Row(r"llama-?3[.-]2-(vision-90b|90b-vision)", "mllama", 88.57, 100, 8192, 64, 8, 28672, 128256, vision_params_b=0.90),
    # Qwen2-VL-7B and Qwen2.5-VL-7B: a Qwen2-7B decoder (28 layers, 3584 wide, 28 heads, 4 KV heads of 128: k_proj
    # 3584 -> 512, MLP 18944, vocabulary 152064, untied) and a 32-block 1280-wide vision tower merged into 3584, in the
    # module trees printed from the checkpoints (zhenhua32/Qwen2-VL READ.md for Qwen2-VL-7B; acproject/duorou
    # docs/qwen2.5vl_graph.md for Qwen2.5-VL-7B-Instruct); 8.29B counted as the 72B row (0.68B of it vision).
    _Row(r"qwen2([.-]5)?-vl-7b", "qwen2-vl", 8.29, 28, 3584, 28, 4, 18944, 152064, vision_params_b=0.68),
    # Qwen2.5-VL-72B (Qwen2_5_VLForConditionalGeneration): text decoder 80 layers, 8192 wide, 64 heads, 8 KV heads, MLP
    # 29568, vocabulary 152064, untied (alibaba/Pai-Megatron-Patch examples/qwen2_5_vl/run_mcore_qwen.sh
    # :141-158@a098ca5acbde, its 72B case), and the vision tower its Megatron port builds for it: 32 blocks 1280 wide, 16
    # heads, MLP 3456 (3420 only for the 28- and 36-layer 7B and 3B), merged 4 x 1280 -> 5120 -> 8192 (megatron_patch/model/
    # qwen2_5_vl/transformer_config.py:41-59,87-102@a098ca5acbde). Counted as the 72B Qwen2-VL row, on the meta device with
    # transformers 5.25.0's Qwen2_5_VLForConditionalGeneration and those configs: 73.41B, 0.70B of it vision. The Qwen
    # rows' vision_params_b is every `visual.*` parameter (patch embedding, blocks and the merger) counted so: 0.70B (72B),
    # 0.68B (7B: 0.677), 0.67B (3B: 0.669).
    _Row(r"qwen2[.-]5-vl-72b", "qwen2-5-vl", 73.41, 80, 8192, 64, 8, 29568, 152064, vision_params_b=0.70),
    # Qwen2.5-VL-3B: text decoder 36 layers, 2048 wide, 16 heads, 2 KV heads, 11008, vocabulary 151936, tied, and the vision
    # tower 1280 wide merged into 2048 (config.json copies of Qwen/Qwen2.5-VL-3B-Instruct: huggingface.co/zyoNoob/
    # Qwen2.5-VL-3B-Instruct-AWQ config.json, _name_or_path the snapshot b318d0972a0b; dahwinsingularity/vllm2 config.json);
    # 3.75B counted as the 72B row (0.67B of it vision).
    _Row(r"qwen2[.-]5-vl-3b", "qwen2-vl", 3.75, 36, 2048, 16, 2, 11008, 151936, vision_params_b=0.67),
    _Row(r"llama-?3([.-][123])?-405b", "llama3", 405.9, 126, 16384, 128, 8, 53248, 128256),
    _Row(r"llama-?3([.-][123])?-70b", "llama3", 70.6, 80, 8192, 64, 8, 28672, 128256),
    _Row(r"llama-?3([.-][123])?-8b", "llama3", 8.03, 32, 4096, 32, 8, 14336, 128256),
    _Row(r"llama-?3[.-]2-3b", "llama3", 3.21, 28, 3072, 24, 8, 8192, 128256),
    _Row(r"llama-?3[.-]2-1b", "llama3", 1.24, 16, 2048, 32, 8, 8192, 128256),
    _Row(r"llama-?2-70b", "llama2", 69.0, 80, 8192, 64, 8, 28672, 32000),
    _Row(r"llama-?2-13b", "llama2", 13.0, 40, 5120, 40, 40, 13824, 32000),
    _Row(r"llama-?2-7b", "llama2", 6.74, 32, 4096, 32, 32, 11008, 32000),
    # Mixtral 8x22B: mistralai/Mixtral-8x22B-v0.1 config.json (56 layers, 6144 wide, 48 heads, 8 KV heads,
    # experts 16384 wide, 8 experts top-2, vocabulary 32000; a copy with transformers_version 4.40.0.dev0 is
    # embedded in scaleapi/llm-engine's model-engine unit tests); 140.6B total / 39.2B active computed from it.
    _Row(r"mixtral-8x22b", "mixtral", 140.62, 56, 6144, 48, 8, 16384, 32000, 39.15, 8, 2),
    _Row(r"mixtral-8x7b", "mixtral", 46.7, 32, 4096, 32, 8, 14336, 32000, 12.9, 8, 2),
    _Row(r"mistral-7b", "mistral", 7.24, 32, 4096, 32, 8, 14336, 32000),
    _Row(r"qwen3-30b-a3b", "qwen3-moe", 30.5, 48, 2048, 32, 4, 768, 151936, 3.3, 128, 8),
    _Row(r"qwen3-32b", "qwen3", 32.8, 64, 5120, 64, 8, 25600, 151936),
    _Row(r"qwen3-14b", "qwen3", 14.8, 40, 5120, 40, 8, 17408, 151936),
    _Row(r"qwen3-8b", "qwen3", 8.19, 36, 4096, 32, 8, 12288, 151936),
    _Row(r"qwen3-4b", "qwen3", 4.02, 36, 2560, 32, 8, 9728, 151936),
    _Row(r"qwen3-1[.-]7b", "qwen3", 1.72, 28, 2048, 16, 8, 6144, 151936),
    _Row(r"qwen3-0[.-]6b", "qwen3", 0.6, 28, 1024, 16, 8, 3072, 151936),
    # Qwen2-72B has Qwen2.5-72B's shape: Qwen/Qwen2-72B config.json@c03367ee2f85 and Qwen/Qwen2-72B-Instruct
    # config.json@7c7b4195787f (80 layers, 8192 wide, 64 heads, 8 KV heads, 29568, vocabulary 152064, untied).
    _Row(r"qwen2([.-]5)?-72b", "qwen2", 72.7, 80, 8192, 64, 8, 29568, 152064),
    _Row(r"qwen2[.-]5-32b", "qwen2", 32.8, 64, 5120, 40, 8, 27648, 152064),
    _Row(r"qwen2[.-]5-14b", "qwen2", 14.8, 48, 5120, 40, 8, 13824, 152064),
    _Row(r"qwen2([.-]5)?-7b", "qwen2", 7.62, 28, 3584, 28, 4, 18944, 152064),
    _Row(r"qwen2([.-]5)?-3b", "qwen2", 3.09, 36, 2048, 16, 2, 11008, 151936),
    _Row(r"qwen2([.-]5)?-1[.-]5b", "qwen2", 1.54, 28, 1536, 12, 2, 8960, 151936),
    _Row(r"qwen2([.-]5)?-0[.-]5b", "qwen2", 0.49, 24, 896, 14, 2, 4864, 151936),
    # Gemma 3: shapes from published config.json copies (google/gemma-3-1b and -27b in TensorRT-LLM's
    # tests, -12b-it embedded in a loader, -4b in two model-zoo tests); parameters are the text
    # decoder's, computed from those shapes (tied embeddings; the 4B-27B vision towers add ~0.4B).
    _Row(r"gemma-?3-27b", "gemma3", 27.0, 62, 5376, 32, 16, 21504, 262208),
    _Row(r"gemma-?3-12b", "gemma3", 11.8, 48, 3840, 16, 8, 15360, 262208),
    _Row(r"gemma-?3-4b", "gemma3", 3.9, 34, 2560, 8, 4, 10240, 262208),
    _Row(r"gemma-?3-1b", "gemma3", 1.0, 26, 1152, 4, 1, 6912, 262144),
    _Row(r"gemma-?2-27b", "gemma2", 27.2, 46, 4608, 32, 16, 36864, 256000),
    _Row(r"gemma-?2-9b", "gemma2", 9.24, 42, 3584, 16, 8, 14336, 256000),
    _Row(r"gemma-?2-2b", "gemma2", 2.61, 26, 2304, 8, 4, 9216, 256000),
    _Row(r"gemma-7b", "gemma", 8.54, 28, 3072, 16, 16, 24576, 256000),
    _Row(r"gemma-2b", "gemma", 2.51, 18, 2048, 8, 1, 16384, 256000),
    _Row(r"phi-?4", "phi4", 14.7, 40, 5120, 40, 10, 17920, 100352),
    _Row(r"phi-?3([.-]5)?-mini", "phi3", 3.82, 32, 3072, 32, 32, 8192, 32064),
    _Row(r"smollm3-3b", "smollm3", 3.08, 36, 2048, 16, 4, 11008, 128256),
    _Row(r"smollm2-1[.-]7b", "smollm2", 1.71, 24, 2048, 32, 32, 8192, 49152),
)

_COMPILED = tuple((re.compile(row.pattern), row) for row in _TABLE)
# Fine-tunes published under another name but with a base model's shape: the DeepSeek-R1 README
# lists each distill's base (Qwen2.5-Math-1.5B / -7B, Qwen2.5-14B / -32B, Llama-3.1-8B, Llama-3.3-70B).
_ALIASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"r1-distill-qwen-"), "qwen2.5-"),
    (re.compile(r"r1-distill-llama-"), "llama-3.1-"),
    # alignment-handbook's Zephyr 7B recipe trains zephyr-7b-sft-full and zephyr-7b-sft-qlora from mistralai/Mistral-7B-v0.1
    # and the zephyr-7b-dpo-* models from those (recipes/zephyr-7b-beta/sft/config_full.yaml:2,35,
    # sft/config_qlora.yaml:2,41 and dpo/config_full.yaml:2,36 @81c66b2ce4eb); zephyr-7b-gemma is another base.
    (re.compile(r"zephyr-7b-(sft|dpo)-(full|qlora)"), "mistral-7b-v0.1"),
    # Vicuna v1.5 (4K and 16K context) is Llama 2 fine-tuned: the lmsys/vicuna-7b-v1.5 model card, "Finetuned from model:
    # Llama 2" and "Vicuna v1.5 is fine-tuned from Llama 2" (README.md:15,36; its config.json is the llama-2-7b row's
    # numbers: 32 layers, 4096 hidden, 32/32 heads, 11008, vocabulary 32000), read from the copy in bgorlick/getai
    # models/lmsys_vicuna-7b-v1.5/@6b7200996b2c. Vicuna v1.3 and older are LLaMA 1; no source here names their base checkpoint.
    (re.compile(r"vicuna-(7b|13b)-v1[.-]5"), r"llama-2-\1"),
)

# Architectures the cost model cannot express: layers that are not softmax attention + MLP. Their shape stays
# unknown (a size read from the name is kept for memory) and the reason names the architecture. Sources are
# transformers 5.25.0 (models/<name>/configuration_<name>.py, modeling_<name>.py).
_UNMODELLED: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(r"qwen3[.-]5-"),
        "qwen3.5",
        "Qwen3.5 is a hybrid of Gated DeltaNet linear-attention layers and full-attention layers (3 of every 4 layers "
        "linear: transformers 5.25.0 qwen3_5/configuration_qwen3_5.py:111-114, qwen3_5_moe/configuration_qwen3_5_moe.py:120-123, "
        "qwen3_5/modeling_qwen3_5.py:555)",
    ),
    (
        re.compile(r"qwen3-next-"),
        "qwen3-next",
        "Qwen3-Next is a hybrid of Gated DeltaNet linear-attention and full-attention layers (3 of every 4 layers linear: "
        "transformers 5.25.0 qwen3_next/configuration_qwen3_next.py:126-129, modeling_qwen3_next.py:643)",
    ),
    (
        re.compile(r"falcon-h1-"),
        "falcon-h1",
        "Falcon-H1 runs a Mamba-2 state-space mixer beside attention in every layer (transformers 5.25.0 falcon_h1/modeling_falcon_h1.py:437,982-984)",
    ),
    (
        re.compile(r"(^|/)jamba-"),
        "jamba",
        "Jamba interleaves Mamba state-space layers with one attention layer in attn_layer_period (8) (transformers 5.25.0 jamba/configuration_jamba.py:32-33)",
    ),
    (
        re.compile(r"nemotron-3-"),
        "nemotron-h",
        "Nemotron 3 (NemotronH) is a hybrid of Mamba state-space, attention, MLP and MoE layers "
        "(transformers 5.25.0 nemotron_h/configuration_nemotron_h.py:25-37, checkpoint nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16)",
    ),
    (
        re.compile(r"kimi-linear-"),
        "kimi-linear",
        "Kimi Linear is a hybrid of Kimi Delta Attention linear-attention layers and full-attention layers "
        "(transformers 5.25.0 kimi_linear/configuration_kimi_linear.py:105-123, modeling_kimi_linear.py:468)",
    ),
    (
        # Granite 4.0 Tiny Preview: IBM's own model notes call it a "fine-grained hybrid mixture-of-experts" model
        # (IBM/gguf resources/ollama/granite4.0/README.md:3@3833baa31d3b) and transformers' GraniteMoeHybrid page runs it
        # (docs/source/en/model_doc/granitemoehybrid.md@03eac6f6d2af). Only the preview names: other Granite 4.0 models
        # (the dense micro ones) share the class with attention layers only.
        re.compile(r"granite-4[.-]0-tiny-(base-)?preview"),
        "granitemoehybrid",
        "Granite 4.0 Tiny Preview (GraniteMoeHybrid) interleaves Mamba-2 state-space layers with MoE attention layers "
        "(transformers 5.25.0 granitemoehybrid/configuration_granitemoehybrid.py:54,95-104, modeling_granitemoehybrid.py:1058-1070)",
    ),
    (
        re.compile(r"(^|/)lfm2-"),
        "lfm2",
        "LFM2 is a hybrid of short gated-convolution layers and attention layers "
        "(transformers 5.25.0 lfm2/configuration_lfm2.py:82-88, lfm2_moe/configuration_lfm2_moe.py:22,90)",
    ),
)
_UNMODELLED_REASON = {family: reason for _, family, reason in _UNMODELLED}


def unmodelled_architecture(shape: ModelShape) -> str | None:
    """Why the cost model cannot express this model's layers, when it is a known hybrid architecture; else None."""
    return _UNMODELLED_REASON.get(shape.family) if not shape.known else None


_SIZE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*b(?![a-z])")
# "320M" in SmallDoge/Doge-320M-Instruct, "135m" in SmolLM-135M: a size in millions, read only where the name states no
# size in billions (Qwen2.5-7B-Instruct-1M's "1M" is its context length, and its 7B wins) and exactly one such token.
_SIZE_M = re.compile(r"(?<![\d.a-z])(\d+(?:\.\d+)?)m(?![a-z\d])")
# "8x22B": N experts of an M-billion-parameter dense model. Attention and embeddings are shared, so
# N*M bounds the total from above (Mixtral 8x22B: 176 vs 140.6 in its config.json); top-2 routing,
# as Mixtral's, is assumed for the active share.
_MOE_SIZE = re.compile(r"(?<![\d.])(\d+)\s*x\s*(\d+(?:\.\d+)?)\s*b(?![a-z])")
MOE_TOP_K_ASSUMED = 2
_MOE_ACTIVE = re.compile(r"(?<![a-z\d])a\d+(?:\.\d+)?b(?![a-z])")  # "a3b" in "35b a3b": the active share, not the size


def _pattern_size(pattern: str) -> float | None:
    """The size in billions a table row's pattern states, read as a model name's is (`_SIZE`, else `_SIZE_M`):
    "gemma-?2-2b" 2.0, "pythia-160m" 0.16, "qwen2([.-]5)?-1[.-]5b" 1.5; None where the pattern states none ("phi-?4")."""
    text = re.sub(r"\([^()]*\)\?", "", pattern).replace("[.-]", ".").replace("-?", "-").replace("-", " ")
    if (size := _SIZE.search(text)) is not None:
        return float(size.group(1))
    millions = _SIZE_M.search(text)
    return float(millions.group(1)) / 1000 if millions is not None else None


def _readable(pattern: str) -> str:
    """A row's pattern as the name it matches, for a message: "gemma-?2-2b" -> "gemma-2-2b"."""
    return re.sub(r"\([^()]*\)\?", "", pattern).replace("[.-]", ".").replace("-?", "-").replace("(^|/)", "").rstrip("$")


def _name_ratios() -> list[tuple[float, str]]:
    """Each dense row's parameter count over the size its name states, with the row's pattern."""
    return [(row.params_b / size, _readable(row.pattern)) for row in _TABLE if row.n_experts is None and (size := _pattern_size(row.pattern))]


def _largest_name_ratio() -> tuple[float, str]:
    """The largest ratio of a dense row's parameter count to the size its name states, and that row's pattern:
    how far above its name's size a dense model of this table runs (gemma-2-2b: 2.61B for "2b", x1.305)."""
    return max(_name_ratios())


def _smallest_name_ratio() -> tuple[float, str]:
    """The smallest such ratio and its row: how far below its name's size a dense model of this table runs (mpt-7b:
    6.65B for "7b", x0.95)."""
    return min(_name_ratios())


# Derived from the table above, not set by hand (tests/test_shape_span.py pins what they are today): the upper
# factor on a size read from a name, and the largest vocabulary of any row (its logits at long sequences); the lower
# factor and the smallest vocabulary, the other end of the span (shapespan.low_shapes).
NAME_SIZE_FACTOR, NAME_SIZE_FACTOR_ROW = _largest_name_ratio()
LARGEST_VOCAB = max(row.vocab for row in _TABLE)
LARGEST_VOCAB_ROW = next(_readable(row.pattern) for row in _TABLE if row.vocab == LARGEST_VOCAB)
NAME_SIZE_FLOOR, NAME_SIZE_FLOOR_ROW = _smallest_name_ratio()
SMALLEST_VOCAB = min(row.vocab for row in _TABLE)


def _normalize(name: str) -> str:
    # ModelScope downloads a model into a folder whose name has every '.' of the id as '___'
    # (modelscope v1.34.0 modelscope/hub/utils/utils.py:72-79 get_model_masked_directory): `Qwen2___5-Coder-1___5B`
    return name.lower().replace("___", ".").replace("_", "-")


MAX_PARAMS_B = 5000.0  # above the largest model anyone trains (about 2T parameters)


def implausible_size(name: str) -> bool:
    """The name gives a size (`-1000000b`) beyond MAX_PARAMS_B."""
    size = _SIZE.search(_normalize(name).replace("-", " "))
    return bool(size) and float(size.group(1)) >= MAX_PARAMS_B  # type: ignore[union-attr]


def lookup_model(name: str | None, near: Path | None = None) -> ModelShape:
    """Best shape for a model id or builder path; never raises. See `lookup_model_noted`."""
    return lookup_model_noted(name, near)[0]


def lookup_model_noted(name: str | None, near: Path | None = None) -> tuple[ModelShape, str | None]:
    """Best shape for a model id or builder path, and a note when a local model folder the name
    points to was not read (outside the config's tree, not a regular file); never raises.

    A local model folder (relative to `near`, the config's folder, or to the working directory,
    inside the config's tree; hubconfig.shape_from_local) is read from its config.json first.
    Without `near` no local folder is read."""
    if not name:
        return ModelShape(name="unknown"), None
    from .hubconfig import shape_from_local

    local = shape_from_local(name, near)
    if local.shape is not None:
        return local.shape, None
    if local.base is not None:  # an adapter or model card in the tree names the base model
        base, where = local.base
        shape = _lookup_known(base)
        if shape.known:
            label = f"shape of {base} (the base model named in {where})" + (f"; {shape.inferred}" if shape.inferred else "")
            return shape.model_copy(update={"name": name, "inferred": label}), None
    part = path_model_part(name)
    if part is not None:  # a local folder no config.json was read from: the model its name names, said as assumed
        shape = _lookup_known(part)
        if shape.known:
            found = _match(_aliased(part))
            basis = shape.inferred or (f"shape of {found[0]}" if found is not None else f"shape of {part}")
            label = f"{basis}, from the path's name {name}; the folder was not read"
            return shape.model_copy(update={"name": name, "inferred": label}), local.note
    if placeholder(name):  # `/path/to/model`, `<your_model_path>`: no model, and no folder to say was not read
        return ModelShape(name=name), None
    if part is not None:
        return _lookup_known(part).model_copy(update={"name": name}), local.note
    return _lookup_known(name), local.note


# A local path, not a Hub id (`org/name`): absolute, home- or dot-relative, a Windows drive, or three parts and more.
_DRIVE = re.compile(r"[a-z]:[/\\]")
# Folder names that say what a folder holds, not which model: `Llama-2-7b/hf`, `Qwen2-7B/checkpoint-500`, the HF
# cache's `models--org--name/snapshots/<commit>`. The part before such a name names the model.
_GENERIC_PART = re.compile(
    r"hf|hf-model|huggingface|models?|final|final-(model|checkpoint)|checkpoints?|ckpts?|latest|best|best-model|merged|"
    r"merged-model|outputs?|weights|snapshots|main|(checkpoint|ckpt|step|global-step|epoch|iter)-?\d+|[0-9a-f]{7,40}"
)
# What a README or template writes where the user is to put a model: `/path/to/model`, `<your_model_path>`,
# `YOUR_MODEL_PATH`, `${MODEL_PATH}` left unresolved, `xxx`, `/workspace/models/MODEL_NAME`.
_PLACEHOLDER = re.compile(r"path[/_-]to[/_-]|<[^<>]*>|\$\{?[a-z_]|(^|/)your[-_]|(^|/)x{3,}(/|$)|(^|/)model[-_](name|path|dir|id)(/|$)")


def path_model_part(name: str) -> str | None:
    """The part of a local path that names its model: the last, or where that names only what the folder
    holds (`hf`, `final`, `checkpoint-500`), the nearest before it ("/data/models/Llama-2-7b-hf" ->
    "Llama-2-7b-hf", "/ckpt/Qwen2-7B/checkpoint-500" -> "Qwen2-7B"). None for a Hub id or a one-part name."""
    text = name.strip()
    if not (text.startswith(("/", "~", ".", "\\")) or _DRIVE.match(text.lower()) or text.rstrip("/").count("/") >= 2):
        return None
    parts = [p for p in text.replace("\\", "/").split("/") if p not in ("", ".", "..", "~")]
    while parts and _GENERIC_PART.fullmatch(_normalize(parts[-1])):
        parts.pop()
    return parts[-1] if parts else None


def placeholder(name: str) -> bool:
    """The model id is a placeholder a user is to replace, not a model: `/path/to/model`, `<your_model_path>`,
    `YOUR_MODEL_PATH`, an unresolved `${MODEL_PATH}`, `xxx`."""
    return bool(_PLACEHOLDER.search(name.strip().lower()))


def _aliased(name: str) -> str:
    norm = _normalize(name)
    for alias, base in _ALIASES:
        norm = alias.sub(base, norm)
    return norm


def _lookup_known(name: str) -> ModelShape:
    """The shape table, the HF cache, then what the name says."""
    norm = _aliased(name)
    for pattern, family, _reason in _UNMODELLED:
        if pattern.search(norm):  # no table row, config.json or name inference: its layers are not ours to count
            size = _SIZE.search(_MOE_ACTIVE.sub(" ", norm.replace("-", " ")))
            params = float(size.group(1)) if size else None
            return ModelShape(name=name, family=family, params_b=params if params and 0 < params < MAX_PARAMS_B else None)
    row = _row_for(norm)
    if row is not None:
        return _from_row(name, row)
    from .hubconfig import shape_from_hub

    from_hub = shape_from_hub(name)  # the model's own config.json, when the HF cache has it
    if from_hub is not None:
        return from_hub
    inferred = infer_from_name(name)  # a fine-tune whose name states its base family and size apart
    if inferred is not None:
        return inferred
    moe = _MOE_SIZE.search(norm.replace("-", " "))
    if moe:
        experts, each = int(moe.group(1)), float(moe.group(2))
        total = experts * each
        if 1 < experts <= 1024 and 0 < total < MAX_PARAMS_B:
            return ModelShape(
                name=name,
                family="moe",
                params_b=total,
                active_params_b=min(total, MOE_TOP_K_ASSUMED * each),
                n_experts=experts,
                experts_per_token=min(experts, MOE_TOP_K_ASSUMED),
            )
    size = _SIZE.search(norm.replace("-", " "))
    params = float(size.group(1)) if size else _millions(norm)
    return ModelShape(name=name, params_b=params if params and 0 < params < MAX_PARAMS_B else None)


def _millions(norm: str) -> float | None:
    """The size in billions a name states in millions ("doge-320m" -> 0.32), when it states one such size below 1000."""
    last = norm.rstrip("/").rsplit("/", 1)[-1].replace("-", " ")
    sizes = {float(m.group(1)) for m in _SIZE_M.finditer(last)}
    size = sizes.pop() if len(sizes) == 1 else None
    return size / 1000 if size is not None and size < 1000 else None  # 1000M and up would be written in B


def shape_from_dims(
    name: str,
    family: str,
    dims: tuple[int, int, int, int, int, int],
    *,
    tied: bool,
    inferred: str,
) -> ModelShape:
    """A known dense shape from its numbers (layers, hidden, heads, KV heads, intermediate, vocabulary),
    e.g. a torchtune builder's arguments written in the config; the parameter count as `_dense` computes it."""
    layers, hidden, heads, kv, inter, vocab = dims
    row = _dense("", family, layers, hidden, heads, kv, inter, vocab, tied=tied)
    return _from_row(name, row, inferred=inferred)


def _row_for(norm: str) -> _Row | None:
    for regex, row in _COMPILED:
        if regex.search(norm):
            return row
    return None


def _from_row(name: str, row: _Row, inferred: str | None = None) -> ModelShape:
    return ModelShape(
        name=name,
        family=row.family,
        params_b=row.params_b,
        active_params_b=row.active_params_b,
        n_experts=row.n_experts,
        experts_per_token=row.experts_per_token,
        vision_params_b=row.vision_params_b,
        n_layers=row.n_layers,
        hidden=row.hidden,
        n_heads=row.n_heads,
        n_kv_heads=row.n_kv_heads,
        intermediate=row.intermediate,
        vocab=row.vocab,
        known=True,
        inferred=inferred,
    )


_SIZE_TOKEN = re.compile(r"\d+(?:\.\d+)?b")


def _one_size(last: str) -> str | None:
    """The one size a model name states ("8b", "1.5b"), or None: no size, or two different ones
    ("llama-3-8b-distilled-from-70b"), or one that is not a whole token ("8x7b", "a3b")."""
    sizes = {m.group(1) for m in _SIZE.finditer(last.replace("-", " "))}
    whole = [t for t in last.split("-") if _SIZE_TOKEN.fullmatch(t)]
    if len(sizes) != 1 or len(set(whole)) != 1:
        return None
    return whole[0]


def _last_part(name: str) -> str:
    return _aliased(name).rstrip("/").rsplit("/", 1)[-1]


def infer_from_name(name: str) -> ModelShape | None:
    """A fine-tune's base shape from its name, when the name states a family of the table and one
    size with other words between or around them: "princeton-nlp/Llama-3-Base-8B-SFT" is
    llama-3-8b, "Qwen2.5-Coder-7B-Instruct" qwen2.5-7b. The size is moved next to ever shorter
    runs of the words before the others ("llama-3-base-sft-8b", "llama-3-base-8b", "llama-3-8b")
    and the longest run the table knows wins. A name with two sizes, a size that is not a word of
    its own, or no family of the table gives None (the shape stays unknown)."""
    last = _last_part(name)
    size = _one_size(last)
    if size is None:
        return None
    words = [t for t in last.split("-") if t and t != size]
    if _OTHER_ARCHITECTURE & set(words):
        return None
    for end in range(len(words), 0, -1):
        candidate = "-".join([*words[:end], size])
        found = _match(candidate)
        if found is not None:
            return _from_row(name, found[1], inferred=f"shape of {found[0]} (inferred from the name)")
    return None


# Words that make a model another architecture than its family's text model of that size (a vision or
# audio tower, experts, state-space layers): "Qwen2-VL-7B" is not qwen2-7b, "falcon-mamba-7b" not falcon-7b.
_OTHER_ARCHITECTURE = frozenset({"vl", "vision", "omni", "audio", "moe", "mm", "multimodal", "llava", "mamba"})


def _match(norm: str) -> tuple[str, _Row] | None:
    """The first table row matching `norm`, with the text it matched ("gemma-7b" in "zephyr-gemma-7b")."""
    for regex, row in _COMPILED:
        if (m := regex.search(norm)) is not None:
            return m.group(0).lstrip("/"), row
    return None


def infer_with_family(name: str, family: str, because: str) -> ModelShape | None:
    """The shape of `family`-<size> when the name states one size and the config names the family
    elsewhere (`because`, e.g. "`template: qwen25`"): "NovaSky-AI/Sky-T1-32B-Preview" trained with
    LLaMA-Factory's qwen25 template is qwen2.5-32b. None when the name states no size or two."""
    size = _one_size(_last_part(name))
    if size is None:
        return None
    if _OTHER_ARCHITECTURE & set(_last_part(name).split("-")):
        return None
    found = _match(f"{family}-{size}")
    if found is None:
        return None
    return _from_row(name, found[1], inferred=f"shape of {found[0]} (inferred from the name's size and {because})")


def shape_basis(shape: ModelShape) -> str | None:
    """What a known shape rests on when it is not the model's own: "model X: shape of llama-3-8b (inferred from the name)"."""
    return f"model {shape.name}: {shape.inferred}" if shape.known and shape.inferred else None


def shape_assumption(shape: ModelShape) -> str | None:
    """What was assumed about a model the table, a local folder and the HF cache do not know; None when known."""
    if shape.known:
        return None
    if (why := unmodelled_architecture(shape)) is not None:
        size = f"{shape.params_b:g}B from its name with" if shape.params_b is not None else "7B assumed with"
        return f"model {shape.name}: {why}, which the cost model cannot express; {size} a generic Llama-like shape"
    if shape.params_b is None and placeholder(shape.name):
        return f"model {shape.name}: a placeholder, not a model: the model is unknown, 7B assumed"
    if shape.params_b is None:
        return f"model {shape.name}: size unknown, 7B assumed"
    if shape.n_experts:
        return (
            f"model {shape.name}: not in the shape table; read from its name as {shape.n_experts} experts of {shape.params_b / shape.n_experts:g}B, "
            f"at most {shape.params_b:g}B total and {shape.active_params_b:g}B active (top-{shape.experts_per_token} assumed), Llama-like layers"
        )
    return f"model {shape.name}: not in the shape table; {shape.params_b:g}B from its name with a generic Llama-like shape (layers, widths, vocabulary assumed)"


def estimate_shape(shape: ModelShape) -> ModelShape:
    """Fill a generic Llama-like shape from a parameter count so FLOP counts stay possible.
    The result is shared between calls with equal fields: read it, do not change it."""
    if shape.known or shape.params_b is None:
        return shape
    key = tuple(shape.__dict__.values())
    cached = _ESTIMATED.get(key)
    if cached is None:
        if len(_ESTIMATED) > 4096:
            _ESTIMATED.clear()
        cached = _ESTIMATED[key] = _estimate(shape)
    return cached


_ESTIMATED: dict[tuple[object, ...], ModelShape] = {}


def _estimate(shape: ModelShape) -> ModelShape:
    assert shape.params_b is not None
    # Llama-style scaling: params ~= 12 * layers * hidden^2; hidden/layers ~= 128.
    hidden = max(512, int(round(((shape.params_b * 1e9 * 128 / 12) ** (1 / 3)) / 128) * 128))
    layers = max(2, round(shape.params_b * 1e9 / (12 * hidden * hidden)))
    return shape.model_copy(
        update={
            "n_layers": layers,
            "hidden": hidden,
            "n_heads": hidden // 128,
            "n_kv_heads": hidden // 128,
            "intermediate": int(hidden * 8 / 3),
            "vocab": 32000,
        }
    )
