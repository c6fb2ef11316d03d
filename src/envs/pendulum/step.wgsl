// Pendulum-v1 (Gymnasium 1.3.0, pendulum.py), one environment per call, state kept in f32.
// Requires rng.wgsl (rng_uniform2). Helpers and constants other than the env interface are
// prefixed with PENDULUM_ / pendulum_.
//
// Interface: STATE_DIM, OBS_DIM, ACTION_DIM, MAX_EPISODE_STEPS, RESET_COUNTERS, EnvStep,
// env_reset, env_observe, env_step.

// Generated before this file (envs/wgsl-consts.ts) from the spec and PENDULUM_PARAMS (index.ts):
// STATE_DIM 2 [theta, theta_dot] (rad, rad/s; theta is never wrapped), OBS_DIM 3 [cos(theta),
// sin(theta), theta_dot], ACTION_DIM 1 (torque in N m, clipped inside env_step),
// MAX_EPISODE_STEPS, RESET_COUNTERS 1, and PENDULUM_MAX_SPEED, _MAX_TORQUE, _DT, _G, _M, _L.

const PENDULUM_PI: f32 = 3.141592653589793;
// 2 pi split in two parts (Cody-Waite) so that theta - k 2pi keeps f32 accuracy for |k| > 0.
const PENDULUM_TWO_PI_HI: f32 = 6.28318548202514648;     // f32(2 pi)
const PENDULUM_TWO_PI_LO: f32 = -1.74845553e-7;          // 2 pi - f32(2 pi)
const PENDULUM_INV_TWO_PI: f32 = 0.15915494309189535;

struct EnvStep {
  state: array<f32, STATE_DIM>,
  reward: f32,
  terminated: bool,
}

// Gymnasium's angle_normalize: ((x + pi) mod 2 pi) - pi with floor-mod, result in about [-pi, pi).
// Also used to reduce the argument of sin/cos, whose f32 accuracy is only guaranteed near [-pi, pi].
fn pendulum_angle_normalize(x: f32) -> f32 {
  let k = floor((x + PENDULUM_PI) * PENDULUM_INV_TWO_PI);
  return (x - k * PENDULUM_TWO_PI_HI) - k * PENDULUM_TWO_PI_LO;
}

// Gymnasium: state = np_random.uniform(low=[-pi, -1], high=[pi, 1]).
fn env_reset(seed: u32, stream: u32, counter: vec2<u32>) -> array<f32, STATE_DIM> {
  let u = rng_uniform2(seed, stream, counter);
  return array<f32, STATE_DIM>(-PENDULUM_PI + 2.0 * PENDULUM_PI * u.x, -1.0 + 2.0 * u.y);
}

fn env_observe(s: array<f32, STATE_DIM>) -> array<f32, OBS_DIM> {
  let th = pendulum_angle_normalize(s[0]);
  return array<f32, OBS_DIM>(cos(th), sin(th), s[1]);
}

fn env_step(s: array<f32, STATE_DIM>, a: array<f32, ACTION_DIM>) -> EnvStep {
  let th = s[0];
  let thdot = s[1];
  let u = clamp(a[0], -PENDULUM_MAX_TORQUE, PENDULUM_MAX_TORQUE);
  let thn = pendulum_angle_normalize(th);
  // The cost uses the PRE-step angle and speed and the clipped torque.
  let costs = thn * thn + 0.1 * (thdot * thdot) + 0.001 * (u * u);
  // Gymnasium's 3 g / (2 l) and 3 / (m l^2): exactly 15 and 3 for g = 10, m = l = 1.
  let gravity_term = 3.0 * PENDULUM_G / (2.0 * PENDULUM_L);
  let torque_term = 3.0 / (PENDULUM_M * PENDULUM_L * PENDULUM_L);
  var newthdot = thdot + (gravity_term * sin(thn) + torque_term * u) * PENDULUM_DT;
  // Semi-implicit Euler: the speed is clipped, then the angle integrates the new speed.
  newthdot = clamp(newthdot, -PENDULUM_MAX_SPEED, PENDULUM_MAX_SPEED);
  let newth = th + newthdot * PENDULUM_DT;
  return EnvStep(array<f32, STATE_DIM>(newth, newthdot), -costs, false);
}
