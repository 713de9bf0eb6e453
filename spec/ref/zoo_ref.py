# PyTorch side of spec/models/zoo_spec.lua: torchvision models (random init, fixed seed, random
# BatchNorm statistics so that the buffers matter) exported to safetensors with one input and the
# output. For each NAME writes DIR/NAME.safetensors with the state dict keys as they are plus
# "__input__" and "__output__" (eval mode); resnet18 also gets "__train_output__" and
# "__train_running_mean__" (layer1.0.bn1 after one forward in train mode on a batch of 2).
# Run: PYTHONPATH=build/pydeps /usr/bin/python3 spec/ref/zoo_ref.py DIR NAME...
import sys

import torch
import torchvision
from safetensors.torch import save_file


def build(name):
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(num_classes=10)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(3)
    return model.eval()


def main(out_dir, names):
    for name in names:
        model = build(name)
        x = torch.randn(1, 3, 64, 64)
        tensors = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
        with torch.no_grad():
            tensors["__input__"] = x
            tensors["__output__"] = model(x)
            if name == "resnet18":
                xb = torch.randn(2, 3, 64, 64)
                model.train()
                tensors["__train_input__"] = xb
                tensors["__train_output__"] = model(xb)
                tensors["__train_running_mean__"] = model.layer1[0].bn1.running_mean.clone()
        save_file(tensors, f"{out_dir}/{name}.safetensors")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
