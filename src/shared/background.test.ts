import { describe, expect, it } from 'vitest';
import { createBackgroundWork } from './background.js';

describe('the Node background tracker', () => {
  it('waits for every task, including those added while it waits, and forgets settled ones', async () => {
    const tracker = createBackgroundWork();
    const done: string[] = [];
    let release!: () => void;
    tracker.track(
      new Promise<void>((resolve) => {
        release = resolve;
      }).then(() => {
        done.push('first');
        // A push handed over by the first task once it has recorded its interaction.
        tracker.track(Promise.resolve().then(() => done.push('second')));
      }),
    );
    tracker.track(Promise.reject(new Error('a failed task still settles')));
    const settled = tracker.settle();
    release();
    expect(await settled).toBe(true);
    expect(done).toEqual(['first', 'second']);
    expect(tracker.size).toBe(0);
  });

  it('gives up at its limit and says work is left', async () => {
    const tracker = createBackgroundWork();
    tracker.track(new Promise(() => {}));
    expect(await tracker.settle(20)).toBe(false);
    expect(tracker.size).toBe(1);
  });
});
