"""Advantage Actor-Critic (A2C, the synchronous variant of A3C, Mnih et al., 2016) with SB3's defaults:
``n_steps=5``, one gradient step per rollout, RMSprop (alpha 0.99, eps 1e-5)."""
from ..core import optim
from ..core.nn import functional as F
from .common import clip_and_step
from .on_policy import OnPolicyAlgorithm

__all__ = ["A2C"]


class A2C(OnPolicyAlgorithm):
    """``A2C("MlpPolicy", env).learn(100_000)``; arguments and defaults as in Stable-Baselines3."""

    _hyperparameters = ("n_steps", "gamma", "gae_lambda", "ent_coef", "vf_coef", "max_grad_norm",
                        "normalize_advantage", "use_rms_prop", "rms_prop_eps")

    def __init__(self, policy, env, learning_rate=7e-4, n_steps=5, gamma=0.99, gae_lambda=1.0, ent_coef=0.0,
                 vf_coef=0.5, max_grad_norm=0.5, rms_prop_eps=1e-5, use_rms_prop=True, use_sde=False,
                 sde_sample_freq=-1, rollout_buffer_class=None, rollout_buffer_kwargs=None, normalize_advantage=False,
                 stats_window_size=100, tensorboard_log=None, policy_kwargs=None, verbose=0, seed=None,
                 device="auto", log_dir=None, _init_setup_model=True):
        policy_kwargs = dict(policy_kwargs or {})
        if use_rms_prop and "optimizer_class" not in policy_kwargs:
            policy_kwargs["optimizer_class"] = optim.RMSprop
            policy_kwargs["optimizer_kwargs"] = dict(alpha=0.99, eps=rms_prop_eps, weight_decay=0)
        super().__init__(policy, env, learning_rate=learning_rate, n_steps=n_steps, gamma=gamma,
                         gae_lambda=gae_lambda, ent_coef=ent_coef, vf_coef=vf_coef, max_grad_norm=max_grad_norm,
                         use_sde=use_sde, sde_sample_freq=sde_sample_freq, rollout_buffer_class=rollout_buffer_class,
                         rollout_buffer_kwargs=rollout_buffer_kwargs, stats_window_size=stats_window_size,
                         tensorboard_log=tensorboard_log, policy_kwargs=policy_kwargs, verbose=verbose, seed=seed,
                         device=device, log_dir=log_dir, _init_setup_model=False)
        self.normalize_advantage = normalize_advantage
        self.use_rms_prop, self.rms_prop_eps = use_rms_prop, rms_prop_eps
        if _init_setup_model:
            self._setup_model()

    def train(self):
        """One gradient step on the whole rollout."""
        policy = self.policy
        policy.train(True)
        self._update_learning_rate(policy.optimizer)
        for batch in self.rollout_buffer.get(batch_size=None, rng=self.rng):
            obs, actions = self._batch_tensors(batch)
            values, log_prob, entropy = policy.evaluate_actions(obs, actions)
            advantages = batch.advantages
            if self.normalize_advantage:
                advantages = (advantages - advantages.mean()) / (advantages.std(ddof=1) + 1e-8)
            policy_loss = -(self._tensor(advantages) * log_prob).mean()
            value_loss = F.mse_loss(values, self._tensor(batch.returns))
            entropy_loss = -entropy.mean()
            loss = policy_loss + self.ent_coef * entropy_loss + self.vf_coef * value_loss
            clip_and_step(policy, loss, self.max_grad_norm)
        self._n_updates += 1
        rec = self.logger.record
        rec("train/n_updates", self._n_updates)
        rec("train/policy_loss", float(policy_loss.item()))
        rec("train/value_loss", float(value_loss.item()))
        rec("train/entropy_loss", float(entropy_loss.item()))

    def learn(self, total_timesteps, callback=None, log_interval=100, tb_log_name="A2C", reset_num_timesteps=True,
              progress_bar=False):
        return super().learn(total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps, progress_bar)
