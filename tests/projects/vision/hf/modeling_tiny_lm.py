"""A Hugging Face style causal LM (SPEC 8.13, 8.33): keys and values reach attention through the KV cache's
``update``, the logits reach the loss function and the output container, the hidden states are sliced to the
kept positions first. The config is a dataclass (its defaults are class-level fields). Its std (0.2) is far too large for 512 units: INIT002 (20x Glorot's variance),
an advice where a normalization follows (the attention output, through the residual sum)."""
from dataclasses import dataclass, field

import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig
from transformers.activations import ACT2FN
from transformers.modeling_outputs import BaseModelOutputWithPast, CausalLMOutputWithPast
from transformers.modeling_utils import slice_logits_to_keep

from .modeling_tiny import TinyPreTrainedModel


@dataclass
class TinyLMConfig(PretrainedConfig):
    """transformers 5 style: fields with class-level defaults, no ``__init__`` of its own."""

    model_type = "tiny_lm"
    hidden_size: int = 512
    vocab_size: int = 1000
    initializer_range: float = field(default=0.2)
    hidden_act: str = "relu"
    head_dim: int | None = None
    tie_word_embeddings: bool = False  # the head has its own weight (True: tied to the embedding, exempt)

    def __post_init__(self):
        if self.head_dim is None:
            self.head_dim = self.hidden_size // 8


class TinyLMMLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.fc1 = nn.Linear(config.hidden_size, config.hidden_size)  # expect: INIT002 error
        self.act = ACT2FN[config.hidden_act]
        self.fc2 = nn.Linear(config.hidden_size, config.hidden_size)  # expect: INIT002 advice

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class TinyAttention(nn.Module):
    def __init__(self, config, layer_idx):
        super().__init__()
        self.layer_idx = layer_idx
        self.q_proj = nn.Linear(config.hidden_size, config.hidden_size)  # expect: INIT002 error
        self.k_proj = nn.Linear(config.hidden_size, config.hidden_size)  # expect: INIT002 error
        self.v_proj = nn.Linear(config.hidden_size, config.hidden_size)  # expect: INIT002 error
        self.o_proj = nn.Linear(config.hidden_size, config.hidden_size)  # expect: INIT002 advice

    def forward(self, hidden_states, past_key_values=None):
        query_states = self.q_proj(hidden_states)
        key_states = self.k_proj(hidden_states)
        value_states = self.v_proj(hidden_states)
        if past_key_values is not None:
            key_states, value_states = past_key_values.update(key_states, value_states, self.layer_idx)
        attn_output = F.scaled_dot_product_attention(query_states, key_states, value_states)
        return self.o_proj(attn_output)


class TinyLMPreTrainedModel(TinyPreTrainedModel):
    config_class = TinyLMConfig


class TinyLMModel(TinyLMPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.attn = TinyAttention(config, 0)
        self.mlp = TinyLMMLP(config)
        self.norm = nn.LayerNorm(config.hidden_size)
        self.post_init()

    def forward(self, input_ids, past_key_values=None):
        hidden_states = self.embed_tokens(input_ids)
        hidden_states = hidden_states + self.attn(hidden_states, past_key_values)
        hidden_states = hidden_states + self.mlp(hidden_states)
        return BaseModelOutputWithPast(last_hidden_state=self.norm(hidden_states), past_key_values=past_key_values)


class TinyForCausalLM(TinyLMPreTrainedModel):
    _tied_weights_keys = {"lm_head.weight": "model.embed_tokens.weight"}

    def __init__(self, config):
        super().__init__(config)
        self.model = TinyLMModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)  # expect: INIT002 error
        self.post_init()

    def forward(self, input_ids, labels=None, logits_to_keep=0):
        outputs = self.model(input_ids)
        hidden_states = outputs.last_hidden_state
        logits = self.lm_head(slice_logits_to_keep(hidden_states, logits_to_keep))
        loss = None
        if labels is not None:
            loss = self.loss_function(logits=logits, labels=labels, vocab_size=self.config.vocab_size)
        return CausalLMOutputWithPast(loss=loss, logits=logits)
