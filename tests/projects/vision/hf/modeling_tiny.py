import torch.nn as nn
from transformers import PreTrainedModel
from transformers.activations import ACT2FN

from .configuration_tiny import TinyConfig


class TinyMLP(nn.Module):
    """Hugging Face style: the model's post_init() applies _init_weights to every submodule (SPEC 8.33);
    the std and the activation are the config class's defaults (0.2, relu)."""

    def __init__(self, config):
        super().__init__()
        self.up = nn.Linear(config.hidden_size, config.intermediate_size)
        self.act = ACT2FN[config.hidden_act]
        self.down = nn.Linear(config.intermediate_size, config.hidden_size)  # expect: INIT006 advice

    def forward(self, x):
        return self.down(self.act(self.up(x)))


class TinyPreTrainedModel(PreTrainedModel):
    config_class = TinyConfig
    base_model_prefix = "tiny"

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(mean=0.0, std=self.config.initializer_range)
            if module.bias is not None:
                module.bias.data.zero_()
        elif isinstance(module, nn.LayerNorm):
            module.weight.data.fill_(1.0)
            module.bias.data.zero_()


class TinyModel(TinyPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.mlp = TinyMLP(config)
        self.head = nn.Linear(config.hidden_size, 2)
        self.post_init()

    def forward(self, x):
        return self.head(self.mlp(x))
