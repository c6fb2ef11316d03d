#!/usr/bin/env node
/**
 * webgpu-trpo command line: train, eval, info, envs, presets. Invalid input exits with status 2
 * and one line naming the field, the value and what is allowed; never a stack trace.
 */
import { ENV_IDS, getEnvSpec } from '../envs/registry.js';
import { createGpu, NoWebGpuError } from '../gpu/index.js';
import { CheckpointError } from '../rl/checkpoint.js';
import { CONFIG_RULES, ConfigError, DEFAULT_CONFIG } from '../algos/trpo/config.js';
import { PRESETS } from '../algos/trpo/presets.js';
import { kebab, UsageError } from './args.js';
import { evalCommand, trainCommand } from './train.js';

const HELP = `webgpu-trpo: TRPO with every heavy step in WebGPU compute shaders

Usage:
  webgpu-trpo train --env ID [--timesteps N] [--seed S] [--preset P] [--config file.json]
                    [--out DIR] [--eval-episodes N] [--value-fit-device auto|same|second]
                    [--quiet] [--<config-field> VALUE ...]
  webgpu-trpo eval --checkpoint FILE [--episodes N] [--seed S] [--stochastic]
  webgpu-trpo info        the WebGPU adapter and its limits
  webgpu-trpo envs        the environments
  webgpu-trpo presets     the hyperparameter presets
  webgpu-trpo --help

train writes metrics.jsonl, metrics.csv, checkpoint.json and summary.json to --out
(default runs/<env>-seed<seed>). The preset defaults to the env's own tuned preset;
--preset default gives the reference defaults. --value-fit-device: where the value fit
runs; auto (the default) gives it a second device on a CPU driver (Mesa's llvmpipe), where it
then runs at the same time as the policy step, with the same results. Config fields (later flags win over
--config, which wins over the preset):
${Object.entries(CONFIG_RULES)
  .map(([k, r]) => `  --${kebab(k).padEnd(22)} ${r.allowed} (default ${JSON.stringify(DEFAULT_CONFIG[k as keyof typeof DEFAULT_CONFIG])})`)
  .join('\n')}
`;

async function info(): Promise<void> {
  const gpu = await createGpu();
  try {
    const L = gpu.limits;
    console.log(JSON.stringify({
      adapter: gpu.adapter,
      timestampQuery: gpu.hasTimestampQuery,
      limits: {
        maxComputeInvocationsPerWorkgroup: L.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupStorageSize: L.maxComputeWorkgroupStorageSize,
        maxStorageBuffersPerShaderStage: L.maxStorageBuffersPerShaderStage,
        maxStorageBufferBindingSize: L.maxStorageBufferBindingSize,
        maxBufferSize: L.maxBufferSize,
      },
    }, null, 2));
  } finally {
    gpu.destroy();
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'train':
      return trainCommand(rest);
    case 'eval':
      return evalCommand(rest);
    case 'info':
      return info();
    case 'envs':
      for (const id of ENV_IDS) {
        const s = getEnvSpec(id);
        const a = s.actionSpace.type === 'Discrete' ? `Discrete(${s.actionSpace.n})` : `Box(${s.actionSpace.low}, ${s.actionSpace.high})`;
        console.log(`${id.padEnd(14)} obs ${s.obsDim}, actions ${a}, episodes of at most ${s.maxEpisodeSteps} steps`);
      }
      return;
    case 'presets':
      for (const [name, p] of Object.entries(PRESETS)) console.log(`${name.padEnd(14)} ${p.description} ${JSON.stringify(p.config)}`);
      return;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(HELP);
      return;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)} (allowed: train, eval, info, envs, presets, --help)`);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => {
    const usage = e instanceof UsageError || e instanceof ConfigError || e instanceof CheckpointError;
    const known = usage || e instanceof NoWebGpuError;
    process.stderr.write(`webgpu-trpo: ${known ? (e as Error).message : String((e as Error)?.stack ?? e)}\n`);
    process.exit(usage ? 2 : 1);
  },
);
