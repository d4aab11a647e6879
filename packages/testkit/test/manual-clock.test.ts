import { describe, expect, it } from 'vitest';
import { ManualClock } from '@smart-backfill/testkit';

describe('ManualClock', () => {
  it('reads the time it was set to and moves only when told', () => {
    const c = new ManualClock(1_000);
    expect(c.now()).toBe(1_000);
    c.advance(250);
    expect(c.now()).toBe(1_250);
    c.set(5_000);
    expect(c.now()).toBe(5_000);
  });

  it('refuses to go backwards or take nonsense', () => {
    const c = new ManualClock(1_000);
    expect(() => c.set(999)).toThrow(/cannot move back/);
    expect(() => c.advance(-1)).toThrow(/ms >= 0/);
    expect(() => new ManualClock(Number.NaN)).toThrow(/finite/);
  });

  it('wakes sleepers when their deadline is reached, earliest first', async () => {
    const c = new ManualClock(0);
    const woke: string[] = [];
    const a = c.sleep(300).then(() => woke.push(`a@${c.now()}`));
    const b = c.sleep(100).then(() => woke.push(`b@${c.now()}`));
    const z = c.sleep(0).then(() => woke.push('zero'));
    await z;
    expect(c.pendingSleeps()).toBe(2);
    expect(c.nextDeadline()).toBe(100);
    c.advance(99);
    await Promise.resolve();
    expect(woke).toEqual(['zero']);
    c.advance(250);
    await Promise.all([a, b]);
    expect(woke).toEqual(['zero', 'b@349', 'a@349']);
    expect(c.pendingSleeps()).toBe(0);
  });

  it('rejects a sleep when its signal aborts, and forgets it', async () => {
    const c = new ManualClock(0);
    const ac = new AbortController();
    const p = c.sleep(1_000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(c.pendingSleeps()).toBe(0);
    const pre = new AbortController();
    pre.abort(new Error('already'));
    await expect(c.sleep(10, pre.signal)).rejects.toThrow('already');
  });
});
