/** Sleeping waits: the same results and errors as a plain await, for quick and slow promises. */
import { describe, expect, it } from 'vitest';
import { WAIT_EAGER_TURNS, waitSleeping } from '../src/gpu/wait.js';

const later = <T>(ms: number, v: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(v), ms));

describe('waitSleeping', () => {
  it('resolves with the value of an already settled promise', async () => {
    await expect(waitSleeping(Promise.resolve(42))).resolves.toBe(42);
  });

  it('resolves with the value of a promise settled after many polls', async () => {
    const t0 = performance.now();
    await expect(waitSleeping(later(50, 'done'))).resolves.toBe('done');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
  });

  it('rejects with the error of a rejected promise, quick or late', async () => {
    await expect(waitSleeping(Promise.reject(new Error('quick')))).rejects.toThrow('quick');
    const late = later(20, null).then(() => {
      throw new Error('late');
    });
    await expect(waitSleeping(late)).rejects.toThrow('late');
  });

  it('lets other event-loop work run while it waits', async () => {
    // Timers and immediates queued by others still fire during the wait.
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 2);
    await waitSleeping(later(40, null));
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(WAIT_EAGER_TURNS);
  });
});
