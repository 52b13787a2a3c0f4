"""Fixtures of the zoo.rl tests."""
import numpy as np
import pytest


@pytest.fixture
def bright_half_env():
    """A tiny image environment class for the CnnPolicy tests: 36x36 grey frames (channels-last, uint8), two
    actions; the reward is 1 when the action names the brighter half of the frame."""
    gym = pytest.importorskip("gymnasium")

    class BrightHalfEnv(gym.Env):
        def __init__(self, size=36, episode_length=20):
            self.observation_space = gym.spaces.Box(0, 255, (size, size, 1), np.uint8)
            self.action_space = gym.spaces.Discrete(2)
            self.size, self.episode_length = size, episode_length

        def _frame(self):
            frame = self.np_random.integers(0, 100, (self.size, self.size, 1), dtype=np.uint8)
            self.bright = int(self.np_random.integers(0, 2))
            half = self.size // 2
            if self.bright:
                frame[:, half:] += 120
            else:
                frame[:, :half] += 120
            return frame

        def reset(self, seed=None, options=None):
            super().reset(seed=seed)
            self.t = 0
            return self._frame(), {}

        def step(self, action):
            reward = float(int(action) == self.bright)
            self.t += 1
            return self._frame(), reward, False, self.t >= self.episode_length, {}

    return BrightHalfEnv
