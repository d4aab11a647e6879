// Your processors: the worker runs only what is registered here (the allowlist
// the seed's `get_processor_class` map was). Replace the body with your job.
/** @type {import('@smart-backfill/engine').Processor[]} */
export const processors = [
  {
    name: 'player_game_summary',
    async run({ date, requestId, attempt }) {
      // e.g. run the MERGE for `date` into nba_analytics.player_game_summary
      console.log(JSON.stringify({ severity: 'INFO', message: 'backfilling', processor: 'player_game_summary', date, requestId, attempt }));
      return { date };
    },
  },
  {
    name: 'team_defense_game_summary',
    async run({ date }) {
      return { date };
    },
  },
];
