import torch.nn as nn


def default_init_weights(module_list, scale=1.0):
    """Initialize a module or a list of modules (an imported helper, ESRGAN style)."""
    if not isinstance(module_list, list):
        module_list = [module_list]
    for module in module_list:
        for m in module.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, a=0.2, nonlinearity="leaky_relu")
                m.weight.data *= scale


def glorot_all(modules):
    for m in modules:
        nn.init.xavier_uniform_(m.weight)
