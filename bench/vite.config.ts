// Builds the benchmarks for Node into bench/.build (ignored): one ESM file, WGSL inlined from
// `?raw` imports, the native `webgpu` addon and Node built-ins left external. The benchmarks
// import src/ directly (not dist/), so they measure the working tree and can reach kernels that
// the package does not export (vector ops, reductions). `npm run bench` runs this build first.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  logLevel: 'warn',
  build: {
    outDir: here('./.build'),
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: true,
    ssr: here('./run.ts'),
    rollupOptions: {
      external: (id) => id === 'webgpu' || id.startsWith('node:'),
      output: { entryFileNames: 'run.js', format: 'es' },
    },
  },
});
