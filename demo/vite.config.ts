// The browser demo: `npm run demo` serves it, `npm run build:demo` writes a static site to
// demo/dist that works from any static host and any sub-path (relative base).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  publicDir: 'public',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    // The library lives one level up (src/); let the dev server read it.
    fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] },
  },
});
