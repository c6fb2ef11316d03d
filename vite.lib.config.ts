// Builds the library and the CLI for Node and bundlers: ESM, WGSL inlined from `?raw` imports,
// the native `webgpu` addon and Node built-ins left external. Types come from tsc (see package.json).
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: true,
    lib: {
      entry: { index: 'src/index.ts', cli: 'src/cli/main.ts' },
      formats: ['es'],
    },
    rollupOptions: {
      external: (id) => id === 'webgpu' || id.startsWith('node:'),
      output: { entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
    },
  },
});
