// Imports the built package by name, as a user's project would, and steps an environment on the GPU.
import { createGpu, makeVecEnv, ENV_IDS } from 'webgpu-trpo';

const gpu = await createGpu();
try {
  const env = await makeVecEnv(gpu, 'CartPole-v1', { numEnvs: 4, seed: 1 });
  await env.reset();
  const r = await env.step(new Int32Array([0, 1, 0, 1]));
  if (r.obs.length !== 16 || !r.reward.every((x) => x === 1)) throw new Error('unexpected step result');
  env.destroy();
  console.log(`package smoke test ok: ${gpu.adapter.description || gpu.adapter.vendor}; envs ${ENV_IDS.join(', ')}`);
} finally {
  gpu.destroy();
}
