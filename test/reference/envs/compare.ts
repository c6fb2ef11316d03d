/** Tolerance bookkeeping for env parity tests: |got - ref| <= abs + rel·|ref|, with the worst case kept. */
export interface Tolerance {
  abs: number;
  rel: number;
}

export class Comparison {
  /** Largest |got - ref| seen, per quantity. */
  readonly maxAbs = new Map<string, number>();
  /** Largest |got - ref| / (abs + rel·|ref|) seen (≤ 1 passes). */
  maxRatio = 0;
  readonly failures: string[] = [];
  count = 0;

  constructor(readonly tol: Tolerance) {}

  check(quantity: string, where: string, got: number, ref: number): void {
    this.count++;
    const d = Math.abs(got - ref);
    const bound = this.tol.abs + this.tol.rel * Math.abs(ref);
    const ratio = Number.isNaN(d) ? Infinity : d / bound;
    this.maxAbs.set(quantity, Math.max(this.maxAbs.get(quantity) ?? 0, Number.isNaN(d) ? Infinity : d));
    this.maxRatio = Math.max(this.maxRatio, ratio);
    if (!(d <= bound) && this.failures.length < 20) {
      this.failures.push(`${where} ${quantity}: got ${got}, expected ${ref} (|diff| ${d.toExponential(2)} > ${bound.toExponential(2)})`);
    }
  }

  checkAll(quantity: string, where: string, got: ArrayLike<number>, ref: ArrayLike<number>): void {
    if (got.length !== ref.length) {
      this.failures.push(`${where} ${quantity}: length ${got.length} vs ${ref.length}`);
      return;
    }
    for (let k = 0; k < ref.length; k++) this.check(quantity, `${where}[${k}]`, got[k]!, ref[k]!);
  }

  summary(): string {
    const q = [...this.maxAbs].map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ');
    return `${this.count} values; max |diff|: ${q}; max |diff|/tol ${this.maxRatio.toFixed(3)}`;
  }
}
