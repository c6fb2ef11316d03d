// PointMass-v0: a 1-D point mass driven to the origin. One environment per call, state in f32.
// Requires rng.wgsl (rng_uniform2). Helpers and constants other than the env interface are
// prefixed with POINTMASS_.
//
//   a = clip(action, -1, 1)
//   v' = 0.99 v + a dt,  x' = x + v' dt                     (dt = 0.05 s)
//   reward = -(x'^2 + 0.1 v'^2 + 0.001 a^2) [+ 5 if at goal]  (POST-step state)
//   terminated = |x'| < 0.05 and |v'| < 0.05                  (goal reached)
//
// Interface: STATE_DIM, OBS_DIM, ACTION_DIM, MAX_EPISODE_STEPS, RESET_COUNTERS, EnvStep,
// env_reset, env_observe, env_step.

const STATE_DIM: u32 = 2u;          // [x, v]
const OBS_DIM: u32 = 2u;            // obs = state
const ACTION_DIM: u32 = 1u;         // force, clipped to [-1, 1] inside env_step
const MAX_EPISODE_STEPS: u32 = 150u;
const RESET_COUNTERS: u32 = 1u;     // env_reset reads one counter value

const POINTMASS_DT: f32 = 0.05;
const POINTMASS_DAMPING: f32 = 0.99;     // velocity kept per step
const POINTMASS_MAX_ACTION: f32 = 1.0;
const POINTMASS_GOAL_RADIUS: f32 = 0.05; // both |x| and |v| below this end the episode
const POINTMASS_GOAL_BONUS: f32 = 5.0;

struct EnvStep {
  state: array<f32, STATE_DIM>,
  reward: f32,
  terminated: bool,
}

// x ~ U(-2, 2), v ~ U(-0.5, 0.5).
fn env_reset(seed: u32, stream: u32, counter: vec2<u32>) -> array<f32, STATE_DIM> {
  let u = rng_uniform2(seed, stream, counter);
  return array<f32, STATE_DIM>(-2.0 + 4.0 * u.x, -0.5 + u.y);
}

fn env_observe(s: array<f32, STATE_DIM>) -> array<f32, OBS_DIM> {
  return s;
}

fn env_step(s: array<f32, STATE_DIM>, a: array<f32, ACTION_DIM>) -> EnvStep {
  let u = clamp(a[0], -POINTMASS_MAX_ACTION, POINTMASS_MAX_ACTION);
  let v = POINTMASS_DAMPING * s[1] + u * POINTMASS_DT;
  let x = s[0] + v * POINTMASS_DT;
  let at_goal = abs(x) < POINTMASS_GOAL_RADIUS && abs(v) < POINTMASS_GOAL_RADIUS;
  let cost = x * x + 0.1 * (v * v) + 0.001 * (u * u);
  let reward = select(-cost, POINTMASS_GOAL_BONUS - cost, at_goal);
  return EnvStep(array<f32, STATE_DIM>(x, v), reward, at_goal);
}
