# Explicit init calls judged by their numbers (SPEC 1, 8.3, 8.8, 8.20), all on 512 -> 512 layers before ReLU.
# Exercises: kaiming_uniform_(a=sqrt(5)) written out is PyTorch's default (INIT005); kaiming with a=3
# (a gain the table does not name: 10x below He, INIT001 warning); orthogonal gain 1 (warning);
# xavier with calculate_gain("relu") (ok); fixed std 0.15 (5.8x too large, under INIT002's 10x: INIT006);
# N(0, 0.5^2) and U(0, 1) (INIT002); U(-0.05, 0.05) (4.7x too small: INIT006).
import math

import torch.nn as nn
import torch.nn.functional as F
from torch.nn import init


class InitZoo(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(512, 512)  # expect: INIT005 advice  (a=sqrt(5) reproduces the default, 8.8)
        self.fc2 = nn.Linear(512, 512)  # expect: INIT001 warning  (a=3: variance 0.2/fan_in, 10x below He)
        self.fc3 = nn.Linear(512, 512)  # expect: INIT001 warning
        self.fc4 = nn.Linear(512, 512)
        self.fc5 = nn.Linear(512, 512)  # expect: INIT006 advice
        self.fc6 = nn.Linear(512, 512)  # expect: INIT002 error
        self.fc7 = nn.Linear(512, 512)  # expect: INIT002 error
        self.fc8 = nn.Linear(512, 512)  # expect: INIT006 advice  (U(+-0.05): variance 8.3e-4, 4.7x below He 3.9e-3)
        self.head = nn.Linear(512, 10)
        init.kaiming_uniform_(self.fc1.weight, a=math.sqrt(5))
        init.kaiming_normal_(self.fc2.weight, a=3)
        init.orthogonal_(self.fc3.weight)
        init.xavier_uniform_(self.fc4.weight, gain=init.calculate_gain("relu"))
        init.normal_(self.fc5.weight, std=0.15)
        init.normal_(self.fc6.weight, 0.0, 0.5)
        init.uniform_(self.fc7.weight)
        init.uniform_(self.fc8.weight, -0.05, 0.05)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = F.relu(self.fc3(x))
        x = F.relu(self.fc4(x))
        x = F.relu(self.fc5(x))
        x = F.relu(self.fc6(x))
        x = F.relu(self.fc7(x))
        x = F.relu(self.fc8(x))
        return self.head(x)
