# Deep MLPs and a text classifier.
# Exercises: nn.ModuleList built by a list comprehension (six layers, one construction site, one finding
# with the count, SPEC 8.16) iterated in forward; built-in nn.TransformerEncoder layers (their internal
# weights are not constructed in this file: no records, no findings); nn.Embedding on its N(0,1) default
# (exempt); mean pooling before the head.
import torch
import torch.nn as nn
import torch.nn.functional as F


class DeepMLP(nn.Module):
    def __init__(self, depth=6):
        super().__init__()
        self.input = nn.Linear(128, 256)  # expect: INIT005 advice  (1/(3*128) is 3x below He fan_out 2/256)
        self.hidden = nn.ModuleList([nn.Linear(256, 256) for _ in range(depth)])  # expect: INIT005 advice
        self.out = nn.Linear(256, 10)

    def forward(self, x):
        x = F.relu(self.input(x))
        for layer in self.hidden:
            x = F.relu(layer(x))
        return self.out(x)


class TextClassifier(nn.Module):
    def __init__(self, vocab_size=20000, d_model=256, num_classes=4):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=0)
        encoder_layer = nn.TransformerEncoderLayer(d_model=d_model, nhead=4, dim_feedforward=1024, batch_first=True)
        self.encoder = nn.TransformerEncoder(encoder_layer, num_layers=2)
        self.classifier = nn.Linear(d_model, num_classes)

    def forward(self, tokens):
        mask = tokens == 0
        h = self.encoder(self.embedding(tokens), src_key_padding_mask=mask)
        h = h.masked_fill(mask.unsqueeze(-1), 0.0).sum(1) / (~mask).sum(1, keepdim=True)
        return self.classifier(h)
