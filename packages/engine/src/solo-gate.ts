/**
 * Lets many backfills run side by side, or one alone. A worker runs a request
 * whose earlier claim lapsed (a suspect: it may be the one that killed its
 * process) `solo`, with nothing else in flight, so a crash it causes lapses
 * only its own claim and its batch-mates are not charged lapses they did not
 * cause. First come, first served: once a solo task waits, later shared tasks
 * queue behind it, so a suspect is never starved by a stream of fresh work.
 * At most `limit` shared tasks run at once (a worker's `concurrency`), however
 * many deliveries arrived together.
 */
export interface SoloGate {
  /** Run `task` alongside other shared tasks (waits while a solo task runs or waits ahead of it, or `limit` shared tasks run). */
  shared<A>(task: () => Promise<A>): Promise<A>;
  /** Run `task` with nothing else inside the gate. */
  solo<A>(task: () => Promise<A>): Promise<A>;
}

export const createSoloGate = (limit = Number.POSITIVE_INFINITY): SoloGate => {
  let sharedActive = 0;
  let soloActive = false;
  const waiting: Array<{ readonly solo: boolean; readonly enter: () => void }> = [];

  const admit = (): void => {
    for (let next = waiting[0]; next !== undefined; next = waiting[0]) {
      if (soloActive) return;
      if (next.solo) {
        if (sharedActive > 0) return;
        soloActive = true;
      } else if (sharedActive >= limit) return;
      else sharedActive++;
      waiting.shift();
      next.enter();
      if (next.solo) return;
    }
  };

  const run = async <A>(solo: boolean, task: () => Promise<A>): Promise<A> => {
    await new Promise<void>((enter) => {
      waiting.push({ solo, enter });
      admit();
    });
    try {
      return await task();
    } finally {
      if (solo) soloActive = false;
      else sharedActive--;
      admit();
    }
  };

  return { shared: (task) => run(false, task), solo: (task) => run(true, task) };
};
