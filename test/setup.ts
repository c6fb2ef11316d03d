// Dawn prints a warning to stderr when XDG_RUNTIME_DIR is unset; give it a private one.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

if (!process.env.XDG_RUNTIME_DIR) {
  process.env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), 'xdg-'));
}
