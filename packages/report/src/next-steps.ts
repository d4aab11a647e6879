import type { Assessment, ChecklistItem, GapPolicy, PolicySuggestion, SignalName } from '@smart-backfill/core';

/** What a person should do after reading an assessment. */
export interface NextStepsOptions {
  readonly processorName: string;
  readonly suggestion?: PolicySuggestion | undefined;
}

const HOW_TO_MEASURE: Record<SignalName, (p: string) => string> = {
  gapsPer30Days: (p) => `Gap frequency could not be measured: check that ${p}'s schedule and target table are configured and readable.`,
  dependencyFailurePct: (p) =>
    `Dependency failures could not be measured: run ${p} through \`smart-backfill run ${p}\` (or the guard) so the run log records each run.`,
  manualBackfillMinutesPerWeek: (p) =>
    `Manual backfill time could not be measured: queue manual backfills with \`smart-backfill backfill ${p} --from … --to …\` so they are tracked, or pass \`--manual-minutes <n>\` with your own estimate.`,
};

/** The suggested policy as the JSON a config's `policy` field takes. */
export const policyJson = (p: GapPolicy): string =>
  JSON.stringify({
    lookbackDays: p.lookbackDays,
    criticalLookbackDays: p.criticalLookbackDays,
    minRecordsPerDate: p.minRecordsPerDate,
    autoBackfillThreshold: p.autoBackfillThreshold,
  });

const open = (c: readonly ChecklistItem[]): ChecklistItem[] => c.filter((i) => i.status !== 'passed');

/**
 * Next steps, in order: the verdict's action, how to measure what could not be
 * measured, and the policy values to start from.
 */
export const nextSteps = (a: Assessment, o: NextStepsOptions): string[] => {
  const p = o.processorName;
  const steps: string[] = [];
  switch (a.verdict) {
    case 'implement':
      steps.push(
        `Turn smart-backfill on for ${p}: run it with \`smart-backfill run ${p} --date <date>\` (or wrap it with \`withSmartBackfill\`) and keep \`smart-backfill worker\` running.`,
      );
      break;
    case 'monitor': {
      const unticked = open(a.checklist);
      steps.push(
        `Don't implement yet: keep monitoring (\`smart-backfill assess ${p}\` again next month), and first try the simpler alternatives: better scraper retries, a dependency precheck, a manual backfill script, alerting.`,
      );
      if (a.signals.some((s) => s.level === 'implement'))
        steps.push(
          `The checklist still lacks: ${unticked.map((i) => i.label).join('; ')} — pass \`--alternatives-considered\` once simpler fixes were tried.`,
        );
      break;
    }
    case 'not_needed':
      steps.push(
        `Manual backfill is fine for now: when a gap appears, \`smart-backfill backfill ${p} --from <date> --to <date> --only-missing\` queues just the missing dates.`,
      );
      break;
    case 'unknown':
      steps.push(`No answer yet: fix what could not be measured (${a.unknownBecause.join('; ')}), then assess ${p} again.`);
      break;
  }
  for (const s of a.signals) if (s.level === 'unknown') steps.push(HOW_TO_MEASURE[s.signal](p));
  if (o.suggestion !== undefined) steps.push(`Start from this policy (${o.suggestion.preset} preset): ${policyJson(o.suggestion.policy)}.`);
  return steps;
};
