"""Proximal Policy Optimization (Schulman et al., 2017) with SB3's defaults and options: GAE, the clipped
surrogate objective, optional value clipping, an entropy bonus, minibatch epochs, advantage normalisation,
early stopping on a target KL; Discrete and Box (Gaussian) actions; ``learning_rate`` and ``clip_range`` are
floats or schedules ``f(progress_remaining)``."""
import numpy as np

from .. import core as zoo
from ..core.nn import functional as F
from .common import clip_and_step, get_schedule_fn
from .on_policy import OnPolicyAlgorithm

__all__ = ["PPO"]


class PPO(OnPolicyAlgorithm):
    """``PPO("MlpPolicy", env).learn(100_000)``; the arguments and defaults are Stable-Baselines3's. ``log_dir``
    (zoo) writes ``progress.csv``, ``episodes.csv`` and ``learning_curve.png`` there."""

    _hyperparameters = ("n_steps", "batch_size", "n_epochs", "gamma", "gae_lambda", "clip_range", "clip_range_vf",
                        "normalize_advantage", "ent_coef", "vf_coef", "max_grad_norm", "target_kl")

    def __init__(self, policy, env, learning_rate=3e-4, n_steps=2048, batch_size=64, n_epochs=10, gamma=0.99,
                 gae_lambda=0.95, clip_range=0.2, clip_range_vf=None, normalize_advantage=True, ent_coef=0.0,
                 vf_coef=0.5, max_grad_norm=0.5, use_sde=False, sde_sample_freq=-1, rollout_buffer_class=None,
                 rollout_buffer_kwargs=None, target_kl=None, stats_window_size=100, tensorboard_log=None,
                 policy_kwargs=None, verbose=0, seed=None, device="auto", log_dir=None, _init_setup_model=True):
        super().__init__(policy, env, learning_rate=learning_rate, n_steps=n_steps, gamma=gamma,
                         gae_lambda=gae_lambda, ent_coef=ent_coef, vf_coef=vf_coef, max_grad_norm=max_grad_norm,
                         use_sde=use_sde, sde_sample_freq=sde_sample_freq, rollout_buffer_class=rollout_buffer_class,
                         rollout_buffer_kwargs=rollout_buffer_kwargs, stats_window_size=stats_window_size,
                         tensorboard_log=tensorboard_log, policy_kwargs=policy_kwargs, verbose=verbose, seed=seed,
                         device=device, log_dir=log_dir, _init_setup_model=False)
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if normalize_advantage and batch_size < 2:
            raise ValueError("batch_size must be > 1 when normalize_advantage is on (a single advantage has no std)")
        if not isinstance(n_epochs, int) or n_epochs < 1:
            raise ValueError(f"n_epochs must be a positive integer, got {n_epochs!r}")
        self.batch_size, self.n_epochs = batch_size, n_epochs
        self.clip_range = get_schedule_fn(clip_range)
        self.clip_range_vf = get_schedule_fn(clip_range_vf) if clip_range_vf is not None else None
        self.normalize_advantage, self.target_kl = normalize_advantage, target_kl
        if _init_setup_model:
            self._setup_model()

    def train(self):
        """``n_epochs`` passes over the rollout in minibatches of ``batch_size``."""
        policy = self.policy
        policy.train(True)
        self._update_learning_rate(policy.optimizer)
        clip = float(self.clip_range(self._current_progress_remaining))
        clip_vf = float(self.clip_range_vf(self._current_progress_remaining)) if self.clip_range_vf else None
        pg_losses, value_losses, entropy_losses, clip_fractions, approx_kls = [], [], [], [], []
        continue_training = True
        for epoch in range(self.n_epochs):
            for batch in self.rollout_buffer.get(self.batch_size, self.rng):
                obs, actions = self._batch_tensors(batch)
                values, log_prob, entropy = policy.evaluate_actions(obs, actions)
                advantages = batch.advantages
                if self.normalize_advantage and len(advantages) > 1:
                    advantages = (advantages - advantages.mean()) / (advantages.std(ddof=1) + 1e-8)
                adv = self._tensor(advantages)
                log_ratio = log_prob - self._tensor(batch.old_log_prob)
                ratio = log_ratio.exp()
                policy_loss = -zoo.minimum(adv * ratio, adv * ratio.clamp(1 - clip, 1 + clip)).mean()
                if clip_vf is None:
                    values_pred = values
                else:
                    old_values = self._tensor(batch.old_values)
                    values_pred = old_values + (values - old_values).clamp(-clip_vf, clip_vf)
                value_loss = F.mse_loss(values_pred, self._tensor(batch.returns))
                entropy_loss = -entropy.mean()
                loss = policy_loss + self.ent_coef * entropy_loss + self.vf_coef * value_loss

                lr_np = log_ratio.detach().numpy(force=True)
                ratio_np = np.exp(lr_np)
                approx_kl = float(np.mean((ratio_np - 1) - lr_np))
                approx_kls.append(approx_kl)
                clip_fractions.append(float(np.mean(np.abs(ratio_np - 1) > clip)))
                pg_losses.append(float(policy_loss.item()))
                value_losses.append(float(value_loss.item()))
                entropy_losses.append(float(entropy_loss.item()))
                if self.target_kl is not None and approx_kl > 1.5 * self.target_kl:
                    continue_training = False
                    if self.verbose >= 1:
                        print(f"Early stopping at epoch {epoch} (approx KL {approx_kl:.3f})")
                    break
                clip_and_step(policy, loss, self.max_grad_norm)
            self._n_updates += 1
            if not continue_training:
                break
        values_all = self.rollout_buffer.values.reshape(-1)
        returns_all = self.rollout_buffer.returns.reshape(-1)
        var_y = np.var(returns_all)
        explained = float("nan") if var_y == 0 else float(1 - np.var(returns_all - values_all) / var_y)
        rec = self.logger.record
        rec("train/entropy_loss", float(np.mean(entropy_losses)) if entropy_losses else float("nan"))
        rec("train/policy_gradient_loss", float(np.mean(pg_losses)) if pg_losses else float("nan"))
        rec("train/value_loss", float(np.mean(value_losses)) if value_losses else float("nan"))
        rec("train/approx_kl", float(np.mean(approx_kls)) if approx_kls else float("nan"))
        rec("train/clip_fraction", float(np.mean(clip_fractions)) if clip_fractions else float("nan"))
        rec("train/explained_variance", explained)
        rec("train/clip_range", clip)
        rec("train/n_updates", self._n_updates)
        if hasattr(policy, "log_std"):
            rec("train/std", float(np.exp(policy.log_std.numpy(force=True)).mean()))

    def learn(self, total_timesteps, callback=None, log_interval=1, tb_log_name="PPO", reset_num_timesteps=True,
              progress_bar=False):
        return super().learn(total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps, progress_bar)
