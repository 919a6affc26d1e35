import random


class EpsilonGreedy:
    """A multi-armed bandit: route to the child with the best mean reward so far, except for
    a share `epsilon` of requests that explore a random child. Feedback rewards teach it.

    A request whose names include "misbehave" gets a string back instead of a child index,
    so the wrapper's handling of a broken router can be tested."""

    def __init__(self, n_branches: int = 2, epsilon: float = 0.1, seed: int = 0):
        self.n_branches = n_branches
        self.epsilon = epsilon
        self.rng = random.Random(seed)
        self.rewards = [0.0] * n_branches
        self.counts = [0] * n_branches

    def route(self, features, feature_names):
        if "misbehave" in feature_names:
            return "the left one"
        if self.rng.random() < self.epsilon:
            return self.rng.randrange(self.n_branches)
        means = [r / c if c else 0.0 for r, c in zip(self.rewards, self.counts, strict=True)]
        return max(range(self.n_branches), key=means.__getitem__)

    def send_feedback(self, features, feature_names, reward, truth, routing=None):
        if routing is not None and 0 <= routing < self.n_branches:
            self.counts[routing] += 1
            self.rewards[routing] += reward
