/** Command-line parsing: every TRPOConfig field as a --kebab-case flag, validated with clear errors. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CONFIG_RULES, ConfigError, type TRPOConfig } from '../algos/trpo/config.js';

/** Bad command-line input: printed as one line, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** --max-kl → maxKl, for each config field. */
export const CONFIG_FLAGS: ReadonlyArray<[flag: string, field: keyof TRPOConfig]> = (
  Object.keys(CONFIG_RULES) as Array<keyof TRPOConfig>
).map((k) => [kebab(k), k]);

export function parse(argv: string[], options: NonNullable<ParseArgsConfig['options']>) {
  // `--max-kl -1` should reach validation as the value -1, not read as an option named -1.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (a.startsWith('--') && !a.includes('=') && next !== undefined && /^-(\d|\.\d|inf|nan)/i.test(next)) {
      args.push(`${a}=${next}`);
      i++;
    } else {
      args.push(a);
    }
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
}

export function parseNumber(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v)) throw new ConfigError(`--${flag}`, raw, 'a finite number');
  return v;
}

export function parseInteger(flag: string, raw: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = parseNumber(flag, raw);
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < min || v > max) throw new ConfigError(`--${flag}`, raw, `an integer from ${min} to ${max}`);
  return v;
}

/** Config overrides from --flags: numbers, booleans (true/false) and width lists (64,64). */
export function configFromFlags(values: Record<string, string | boolean | undefined>): Partial<TRPOConfig> {
  const out: Record<string, unknown> = {};
  for (const [flag, field] of CONFIG_FLAGS) {
    const raw = values[flag];
    if (raw === undefined) continue;
    if (typeof raw !== 'string') continue;
    if (field === 'normalizeAdvantage') {
      if (raw !== 'true' && raw !== 'false') throw new ConfigError(`--${flag}`, raw, 'true or false');
      out[field] = raw === 'true';
    } else if (field === 'policyHidden' || field === 'valueHidden') {
      out[field] = raw.split(',').map((w) => {
        const v = Number(w);
        if (w.trim() === '' || !Number.isFinite(v)) throw new ConfigError(`--${flag}`, raw, 'comma-separated integers, e.g. 64,64');
        return v;
      });
    } else {
      out[field] = parseNumber(flag, raw);
    }
  }
  return out;
}

export const configFlagOptions = Object.fromEntries(
  CONFIG_FLAGS.map(([flag]) => [flag, { type: 'string' as const }]),
) as Record<string, { type: 'string' }>;
