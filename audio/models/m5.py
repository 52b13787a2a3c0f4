"""M5 (Dai et al., 2017, "Very deep convolutional neural networks for raw waveforms"): a 1-D CNN on raw audio,
as in torchaudio's speech-command tutorial: a wide strided first convolution (80 taps, stride 16), then three
3-tap blocks, each conv -> batch norm -> ReLU -> max pool 4, global average pool and a linear classifier."""
from ...core import nn

__all__ = ["M5"]


class M5(nn.Module):
    """``forward(x)``: ``[batch, n_input, time]`` waveforms -> ``[batch, n_output]`` logits (raw, no softmax)."""

    def __init__(self, n_input=1, n_output=35, stride=16, n_channel=32):
        super().__init__()
        self.conv1 = nn.Conv1d(n_input, n_channel, kernel_size=80, stride=stride)
        self.bn1 = nn.BatchNorm1d(n_channel)
        self.pool1 = nn.MaxPool1d(4)
        self.conv2 = nn.Conv1d(n_channel, n_channel, kernel_size=3)
        self.bn2 = nn.BatchNorm1d(n_channel)
        self.pool2 = nn.MaxPool1d(4)
        self.conv3 = nn.Conv1d(n_channel, 2 * n_channel, kernel_size=3)
        self.bn3 = nn.BatchNorm1d(2 * n_channel)
        self.pool3 = nn.MaxPool1d(4)
        self.conv4 = nn.Conv1d(2 * n_channel, 2 * n_channel, kernel_size=3)
        self.bn4 = nn.BatchNorm1d(2 * n_channel)
        self.pool4 = nn.MaxPool1d(4)
        self.fc1 = nn.Linear(2 * n_channel, n_output)

    def forward(self, x):
        if x.ndim == 2:
            x = x.unsqueeze(1)
        if x.ndim != 3:
            raise ValueError(f"M5 expects waveforms [batch, channels, time], got shape {tuple(x.shape)}")
        for conv, bn, pool in ((self.conv1, self.bn1, self.pool1), (self.conv2, self.bn2, self.pool2),
                               (self.conv3, self.bn3, self.pool3), (self.conv4, self.bn4, self.pool4)):
            x = pool(bn(conv(x)).relu())
        x = x.mean(dim=-1)
        return self.fc1(x)
