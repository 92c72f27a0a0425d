# A small BERT encoder in the Hugging Face style (hidden 128, intermediate 512, as in BERT-tiny):
# post-norm blocks (dense -> dropout -> LayerNorm(h + input)), a GELU intermediate layer, a tanh pooler
# and a classifier, all initialized by the outer model's `self.apply(self._init_weights)` with
# N(0, 0.02) (SPEC 8.12: the parent's init loop reaches the child module classes of this file).
# Fans come from the modules' literal constructor defaults.
# Exercises INIT006: 0.02 is 9.8x below He fan_out for the 128 -> 512 GELU layer and 19.5x below
# Glorot for the 128 -> 128 tanh pooler; the LayerNorm'd projections and the head stay silent.
import math

import torch
import torch.nn as nn


class BertSelfAttention(nn.Module):
    def __init__(self, hidden_size=128, num_heads=2):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.query = nn.Linear(hidden_size, hidden_size)
        self.key = nn.Linear(hidden_size, hidden_size)
        self.value = nn.Linear(hidden_size, hidden_size)

    def split(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, x, mask):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + mask
        ctx = scores.softmax(dim=-1) @ v
        return ctx.transpose(1, 2).flatten(2)


class BertLayer(nn.Module):
    def __init__(self, hidden_size=128, intermediate_size=512, dropout=0.1):
        super().__init__()
        self.attention = BertSelfAttention()
        self.attn_out = nn.Linear(hidden_size, hidden_size)
        self.attn_norm = nn.LayerNorm(hidden_size, eps=1e-12)
        self.intermediate = nn.Linear(hidden_size, intermediate_size)  # expect: INIT006 advice
        self.intermediate_act_fn = nn.GELU()
        self.output = nn.Linear(intermediate_size, hidden_size)
        self.out_norm = nn.LayerNorm(hidden_size, eps=1e-12)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask):
        h = self.attn_norm(x + self.dropout(self.attn_out(self.attention(x, mask))))
        inter = self.intermediate_act_fn(self.intermediate(h))
        return self.out_norm(h + self.dropout(self.output(inter)))


class BertPooler(nn.Module):
    def __init__(self, hidden_size=128):
        super().__init__()
        self.dense = nn.Linear(hidden_size, hidden_size)  # expect: INIT006 advice
        self.activation = nn.Tanh()

    def forward(self, hidden_states):
        first_token_tensor = hidden_states[:, 0]
        pooled_output = self.dense(first_token_tensor)
        pooled_output = self.activation(pooled_output)
        return pooled_output


class TinyBertForSequenceClassification(nn.Module):
    def __init__(self, vocab_size=30522, num_labels=2, num_layers=2):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, 128)
        self.position_embeddings = nn.Embedding(512, 128)
        self.emb_norm = nn.LayerNorm(128, eps=1e-12)
        self.layers = nn.ModuleList([BertLayer() for _ in range(num_layers)])
        self.pooler = BertPooler()
        self.dropout = nn.Dropout(0.1)
        self.classifier = nn.Linear(128, num_labels)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(mean=0.0, std=0.02)
            if module.bias is not None:
                module.bias.data.zero_()
        elif isinstance(module, nn.Embedding):
            module.weight.data.normal_(mean=0.0, std=0.02)
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)

    def forward(self, input_ids, attention_mask):
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = self.emb_norm(self.word_embeddings(input_ids) + self.position_embeddings(positions))
        mask = (1.0 - attention_mask[:, None, None, :].float()) * -10000.0
        for layer in self.layers:
            x = layer(x, mask)
        pooled = self.pooler(x)
        return self.classifier(self.dropout(pooled))
