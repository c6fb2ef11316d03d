/** WGSL files are imported as text (`import src from './x.wgsl?raw'`) by Vite, vitest and the build. */
declare module '*.wgsl?raw' {
  const source: string;
  export default source;
}
