# LeNet-5 written with fully qualified names (`torch.nn.Conv2d`, `torch.nn.functional.relu`)
# and pooling between the layer and its activation (transparent, SPEC 8.12), on PyTorch's default.
# conv1 (1 -> 6, 5x5: fan_in 25, fan_out 150) is exactly He fan_out under the default 1/(3*25) = 2/150,
# so the 1.5x rule keeps it silent (8.3); every other hidden layer is INIT005.
import torch


class LeNet5(torch.nn.Module):
    def __init__(self):
        super(LeNet5, self).__init__()
        self.conv1 = torch.nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.conv2 = torch.nn.Conv2d(6, 16, kernel_size=5)  # expect: INIT005 advice  (1/(3*150) is 2.25x below He fan_out 2/400)
        self.fc1 = torch.nn.Linear(16 * 5 * 5, 120)  # expect: INIT005 advice
        self.fc2 = torch.nn.Linear(120, 84)  # expect: INIT005 advice
        self.fc3 = torch.nn.Linear(84, 10)

    def forward(self, x):
        x = torch.nn.functional.relu(torch.nn.functional.max_pool2d(self.conv1(x), 2))
        x = torch.nn.functional.max_pool2d(torch.nn.functional.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = torch.nn.functional.relu(self.fc1(x))
        x = torch.nn.functional.relu(self.fc2(x))
        return self.fc3(x)
