// CartPole-v1 (Gymnasium 1.3.0, cartpole.py), one environment per call, state kept in f32.
// Requires rng.wgsl (rng_uniform2). Helpers and constants other than the env interface are
// prefixed with CARTPOLE_ / cartpole_ so the file can be included next to other kernels.
//
// Interface: STATE_DIM, OBS_DIM, ACTION_DIM, MAX_EPISODE_STEPS, RESET_COUNTERS, EnvStep,
// env_reset, env_observe, env_step.

// Generated before this file (envs/wgsl-consts.ts) from the spec and CARTPOLE_PARAMS (index.ts):
// STATE_DIM 4 [x, x_dot, theta, theta_dot] (m, m/s, rad, rad/s), OBS_DIM 4 (obs = state),
// ACTION_DIM 1 (the action index, 0 = push left, 1 = push right, as f32), MAX_EPISODE_STEPS,
// RESET_COUNTERS 2 (env_reset reads counters counter and counter + (1, 0): callers give
// consecutive episodes counters RESET_COUNTERS apart so that no two resets share random numbers),
// and CARTPOLE_GRAVITY, _MASSPOLE, _TOTAL_MASS, _LENGTH (half the pole), _POLEMASS_LENGTH,
// _FORCE_MAG, _TAU, _THETA_THRESHOLD_RADIANS, _X_THRESHOLD, _RESET_LOW/_HIGH (SI units).

struct EnvStep {
  state: array<f32, STATE_DIM>,
  reward: f32,
  terminated: bool,
}

// Gymnasium: state = np_random.uniform(-0.05, 0.05, size=4).
fn env_reset(seed: u32, stream: u32, counter: vec2<u32>) -> array<f32, STATE_DIM> {
  let u0 = rng_uniform2(seed, stream, counter);
  let u1 = rng_uniform2(seed, stream, counter + vec2<u32>(1u, 0u));
  let width = CARTPOLE_RESET_HIGH - CARTPOLE_RESET_LOW;
  return array<f32, STATE_DIM>(
    CARTPOLE_RESET_LOW + width * u0.x,
    CARTPOLE_RESET_LOW + width * u0.y,
    CARTPOLE_RESET_LOW + width * u1.x,
    CARTPOLE_RESET_LOW + width * u1.y,
  );
}

fn env_observe(s: array<f32, STATE_DIM>) -> array<f32, OBS_DIM> {
  return s;
}

// Explicit Euler, in Gymnasium's evaluation order; positions use the old velocities.
fn env_step(s: array<f32, STATE_DIM>, a: array<f32, ACTION_DIM>) -> EnvStep {
  let x = s[0];
  let x_dot = s[1];
  let theta = s[2];
  let theta_dot = s[3];
  let force = select(-CARTPOLE_FORCE_MAG, CARTPOLE_FORCE_MAG, a[0] > 0.5);
  let c = cos(theta);
  let sn = sin(theta);
  let temp = (force + CARTPOLE_POLEMASS_LENGTH * (theta_dot * theta_dot) * sn) / CARTPOLE_TOTAL_MASS;
  let thetaacc = (CARTPOLE_GRAVITY * sn - c * temp)
    / (CARTPOLE_LENGTH * (4.0 / 3.0 - CARTPOLE_MASSPOLE * (c * c) / CARTPOLE_TOTAL_MASS));
  let xacc = temp - CARTPOLE_POLEMASS_LENGTH * thetaacc * c / CARTPOLE_TOTAL_MASS;
  let nx = x + CARTPOLE_TAU * x_dot;
  let nx_dot = x_dot + CARTPOLE_TAU * xacc;
  let ntheta = theta + CARTPOLE_TAU * theta_dot;
  let ntheta_dot = theta_dot + CARTPOLE_TAU * thetaacc;
  // Strict inequalities on the new state, as in Gymnasium.
  let terminated = nx < -CARTPOLE_X_THRESHOLD || nx > CARTPOLE_X_THRESHOLD
    || ntheta < -CARTPOLE_THETA_THRESHOLD_RADIANS || ntheta > CARTPOLE_THETA_THRESHOLD_RADIANS;
  // Reward 1 on every step, including the terminating one.
  return EnvStep(array<f32, STATE_DIM>(nx, nx_dot, ntheta, ntheta_dot), 1.0, terminated);
}
