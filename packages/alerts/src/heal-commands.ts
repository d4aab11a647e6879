import { toRuns, type AlertNotice, type IsoDate } from '@smart-backfill/core';

const FROM = /(--from(?:=|\s+))(\d{4}-\d{2}-\d{2})/;
const TO = /(--to(?:=|\s+))(\d{4}-\d{2}-\d{2})/;

/**
 * The commands a person runs to heal the gap: the engine's `healCommand`, split
 * into one command per contiguous range of missing dates when there are
 * several (a single `--from first --to last` would re-run the good days in
 * between too). Only dates inside the engine's own `--from/--to` are used, so
 * the split never widens what the engine asked for. A command without
 * `--from/--to`, or a `healed` notice, is left alone / gives none.
 */
export const healCommands = (notice: Pick<AlertNotice, 'kind' | 'healCommand' | 'missingDates'>): string[] => {
  const command = notice.healCommand.trim();
  if (notice.kind === 'healed' || command === '') return [];
  const from = FROM.exec(command);
  const to = TO.exec(command);
  if (from === null || to === null) return [command];
  const lo = from[2] as IsoDate;
  const hi = to[2] as IsoDate;
  const runs = toRuns(notice.missingDates.filter((d) => d >= lo && d <= hi));
  if (runs.length <= 1) return [command];
  return runs.map((r) => command.replace(FROM, `$1${r.start}`).replace(TO, `$1${r.end}`));
};
