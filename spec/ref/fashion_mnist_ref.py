# Facts about Debian's dataset-fashion-mnist files used by spec/data/mnist_spec.lua, read with
# numpy straight from the IDX files (the bytes torchvision's FashionMNIST reads; ToTensor()
# divides them by 255). Run: /usr/bin/python3 spec/ref/fashion_mnist_ref.py
import gzip

import numpy as np

ROOT = "/usr/share/datasets/fashion-mnist"


def idx(name, offset):
    with gzip.open(f"{ROOT}/{name}.gz") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


train = idx("train-images-idx3-ubyte", 16).reshape(-1, 28, 28)
train_labels = idx("train-labels-idx1-ubyte", 8)
test = idx("t10k-images-idx3-ubyte", 16).reshape(-1, 28, 28)
test_labels = idx("t10k-labels-idx1-ubyte", 8)
print("train", train.shape, "test", test.shape)
print("train labels[:10]", train_labels[:10].tolist(), "test labels[:10]", test_labels[:10].tolist())
print("train pixel sum", int(train.sum(dtype=np.int64)), "test pixel sum", int(test.sum(dtype=np.int64)))
print("image 0 sum", int(train[0].sum()), "image 59999 sum", int(train[59999].sum()),
      "test image 9999 sum", int(test[9999].sum()))
print("image 0 row 14, cols 10..19", train[0, 14, 10:20].tolist())
print("train label counts", np.bincount(train_labels).tolist(), "label sum", int(train_labels.sum(dtype=np.int64)))
x = train.astype(np.float64) / 255
print("mean", x.mean(), "std", x.std())
