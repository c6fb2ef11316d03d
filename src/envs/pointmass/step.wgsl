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

// Generated before this file (envs/wgsl-consts.ts) from the spec and POINTMASS_PARAMS (index.ts):
// STATE_DIM 2 [x, v], OBS_DIM 2 (obs = state), ACTION_DIM 1 (force, clipped inside env_step),
// MAX_EPISODE_STEPS, RESET_COUNTERS 1, and POINTMASS_DT, _DAMPING (velocity kept per step),
// _MAX_ACTION, _GOAL_RADIUS (both |x| and |v| below it end the episode), _GOAL_BONUS,
// _COST_WEIGHTS_X/_V/_ACTION, _RESET_X_LOW/_HIGH, _RESET_V_LOW/_HIGH.

struct EnvStep {
  state: array<f32, STATE_DIM>,
  reward: f32,
  terminated: bool,
}

// x ~ U(-2, 2), v ~ U(-0.5, 0.5).
fn env_reset(seed: u32, stream: u32, counter: vec2<u32>) -> array<f32, STATE_DIM> {
  let u = rng_uniform2(seed, stream, counter);
  let x = POINTMASS_RESET_X_LOW + (POINTMASS_RESET_X_HIGH - POINTMASS_RESET_X_LOW) * u.x;
  let v = POINTMASS_RESET_V_LOW + (POINTMASS_RESET_V_HIGH - POINTMASS_RESET_V_LOW) * u.y;
  return array<f32, STATE_DIM>(x, v);
}

fn env_observe(s: array<f32, STATE_DIM>) -> array<f32, OBS_DIM> {
  return s;
}

fn env_step(s: array<f32, STATE_DIM>, a: array<f32, ACTION_DIM>) -> EnvStep {
  let u = clamp(a[0], -POINTMASS_MAX_ACTION, POINTMASS_MAX_ACTION);
  let v = POINTMASS_DAMPING * s[1] + u * POINTMASS_DT;
  let x = s[0] + v * POINTMASS_DT;
  let at_goal = abs(x) < POINTMASS_GOAL_RADIUS && abs(v) < POINTMASS_GOAL_RADIUS;
  let cost = POINTMASS_COST_WEIGHTS_X * (x * x) + POINTMASS_COST_WEIGHTS_V * (v * v) + POINTMASS_COST_WEIGHTS_ACTION * (u * u);
  let reward = select(-cost, POINTMASS_GOAL_BONUS - cost, at_goal);
  return EnvStep(array<f32, STATE_DIM>(x, v), reward, at_goal);
}
