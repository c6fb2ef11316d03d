#!/usr/bin/env bash
# Packs the library, installs the tarball into a fresh project, and runs the package smoke test
# from there: the `exports` map, the bundled WGSL and the type declarations as a user gets them.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tarball="$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -1)"
cd "$work"
npm init -y >/dev/null
npm pkg set type=module >/dev/null
npm install --no-audit --no-fund --silent "./$tarball"
cp "$root/scripts/smoke-package.mjs" .
node smoke-package.mjs
# The public API's declarations: no `any`.
if grep -rnE '(:|<|\|) *any\b' node_modules/webgpu-trpo/dist/*.d.ts node_modules/webgpu-trpo/dist/**/*.d.ts 2>/dev/null; then
  echo "the public type declarations contain 'any'" >&2
  exit 1
fi
# A TypeScript consumer type-checks against the shipped declarations (no skipLibCheck).
cat > consumer.ts <<'TS'
import { Trainer, createGpu, makeVecEnv, type IterationMetrics, type TRPOConfig } from 'webgpu-trpo';
export async function demo(): Promise<number | null> {
  const gpu = await createGpu();
  const env = makeVecEnv(gpu, 'CartPole-v1', { numEnvs: 2, seed: 0 });
  env.destroy();
  const config: Partial<TRPOConfig> = { maxKl: 0.01 };
  const t = await Trainer.create('trpo', { env: 'CartPole-v1', seed: 1, config, gpu });
  const m: IterationMetrics[] = await t.train({ totalTimesteps: 1 });
  return m[0]?.rollingReturnMean ?? null;
}
TS
cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true,
  "skipLibCheck": false, "noEmit": true, "types": ["@webgpu/types"], "lib": ["ES2023", "DOM"] }, "files": ["consumer.ts"] }
JSON
"$root/node_modules/.bin/tsc" -p tsconfig.json
npx --no-install webgpu-trpo envs >/dev/null
echo "installed package ok"
