/**
 * Values by epoch day, for the lookback loops of `planPipeline` and `builtOnIncompleteInput`
 * (a year of a hundred processors looks up ~10⁶ days): an array indexed from the first day
 * when the days are dense enough, a `Map` when they are few and far apart.
 */
export interface DayLookup<V> {
  get(day: number): V | undefined;
}

/** `days[i]` holds `values[i]`; a later index wins a repeated day. */
export const dayLookup = <V>(days: ArrayLike<number>, values: ArrayLike<V>): DayLookup<V> => {
  const n = days.length;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const d = days[i] as number;
    if (d < min) min = d;
    if (d > max) max = d;
  }
  if (n === 0 || max - min + 1 > 8 * n + 1_024) {
    const map = new Map<number, V>();
    for (let i = 0; i < n; i++) map.set(days[i] as number, values[i] as V);
    return map;
  }
  const dense = new Array<V | undefined>(max - min + 1).fill(undefined);
  for (let i = 0; i < n; i++) dense[(days[i] as number) - min] = values[i] as V;
  return { get: (day) => (day < min || day > max ? undefined : dense[day - min]) };
};
