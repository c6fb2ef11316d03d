/**
 * A uniform/storage struct described once, in TypeScript, and emitted as WGSL text that kernels
 * prepend to their source. Only 4-byte scalars are allowed, so field i lives at byte 4·i in both
 * languages and the WGSL size is the field count rounded up to 16 bytes (uniform alignment).
 */
export type ScalarType = 'u32' | 'i32' | 'f32';

export class StructLayout<K extends string> {
  readonly size: number;
  private readonly index: Map<K, number>;

  constructor(
    readonly name: string,
    readonly fields: ReadonlyArray<readonly [K, ScalarType]>,
  ) {
    this.index = new Map(fields.map(([k], i) => [k, i]));
    if (this.index.size !== fields.length) throw new Error(`struct ${name}: duplicate field names`);
    // Pad to a multiple of 16 bytes so the struct can be a uniform binding on any adapter.
    this.size = Math.max(16, Math.ceil((fields.length * 4) / 16) * 16);
  }

  /** WGSL declaration, padded with explicit fields to `size`. */
  wgsl(): string {
    const lines = this.fields.map(([k, t]) => `  ${k}: ${t},`);
    for (let i = this.fields.length; i < this.size / 4; i++) lines.push(`  _pad${i}: u32,`);
    return `struct ${this.name} {\n${lines.join('\n')}\n}\n`;
  }

  offsetOf(field: K): number {
    const i = this.index.get(field);
    if (i === undefined) throw new Error(`struct ${this.name} has no field ${field}`);
    return 4 * i;
  }

  /** Packs values into the struct's byte layout; every field must be given. */
  pack(values: Readonly<Record<K, number>>): ArrayBuffer {
    const buf = new ArrayBuffer(this.size);
    const view = new DataView(buf);
    for (const [i, [k, t]] of this.fields.entries()) {
      const v = values[k];
      if (typeof v !== 'number' || Number.isNaN(v)) {
        throw new Error(`struct ${this.name}: field ${k} must be a number, got ${String(v)}`);
      }
      if (t === 'f32') view.setFloat32(4 * i, v, true);
      else if (t === 'u32') {
        if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
          throw new Error(`struct ${this.name}: field ${k} must be a u32, got ${v}`);
        }
        view.setUint32(4 * i, v, true);
      } else {
        if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
          throw new Error(`struct ${this.name}: field ${k} must be an i32, got ${v}`);
        }
        view.setInt32(4 * i, v, true);
      }
    }
    return buf;
  }
}
