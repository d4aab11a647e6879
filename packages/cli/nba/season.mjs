// A deterministic, NBA-like season: 30 teams, 15-man rosters, most days have
// games (2–13 of them), a few don't (Thanksgiving, Christmas Eve, the All-Star
// break, scattered rest days). Same seed, same season, on every machine.

/** mulberry32: a tiny seeded PRNG; good enough for fixtures, stable across platforms. */
export const seededRandom = (seed) => {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    shuffle: (list) => {
      const out = [...list];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
  };
};

export const TEAMS = [
  'ATL',
  'BOS',
  'BKN',
  'CHA',
  'CHI',
  'CLE',
  'DAL',
  'DEN',
  'DET',
  'GSW',
  'HOU',
  'IND',
  'LAC',
  'LAL',
  'MEM',
  'MIA',
  'MIL',
  'MIN',
  'NOP',
  'NYK',
  'OKC',
  'ORL',
  'PHI',
  'PHX',
  'POR',
  'SAC',
  'SAS',
  'TOR',
  'UTA',
  'WAS',
];

const FIRST = [
  'Aaron',
  'Andre',
  'Bam',
  'Cade',
  'Chris',
  'Damian',
  'Darius',
  "De'Aaron",
  'Devin',
  'Donovan',
  'Evan',
  'Franz',
  'Gary',
  'Isaiah',
  'Jalen',
  'Jamal',
  'Jaren',
  'Jayson',
  'Jimmy',
  'Jordan',
  'Josh',
  'Julius',
  'Karl',
  'Kevin',
  'Kyle',
  'LaMelo',
  'Luka',
  'Malik',
  'Marcus',
  'Mikal',
  'Myles',
  'Nikola',
  'OG',
  'Paolo',
  'Pascal',
  'RJ',
  'Scottie',
  'Shai',
  'Tyrese',
  'Victor',
  'Zion',
];
const LAST = [
  'Adams',
  'Allen',
  'Anderson',
  'Ball',
  'Barnes',
  'Bridges',
  'Brown',
  'Brunson',
  'Caruso',
  'Collins',
  'Davis',
  'Edwards',
  'Fox',
  'Gordon',
  'Green',
  'Haliburton',
  'Harris',
  'Holiday',
  'Hunter',
  'Jackson',
  'Johnson',
  'Jones',
  'Lopez',
  'Martin',
  'Miller',
  'Mitchell',
  'Murray',
  'Porter',
  'Randle',
  'Robinson',
  'Sabonis',
  'Smith',
  'Thompson',
  'Turner',
  'Walker',
  'Wagner',
  'White',
  'Williams',
  'Young',
];

const DAY_MS = 86_400_000;
const toDate = (ms) => new Date(ms).toISOString().slice(0, 10);
const parse = (d) => Date.UTC(Number(d.slice(0, 4)), Number(d.slice(5, 7)) - 1, Number(d.slice(8, 10)));

/** Days without games, as in a real season. */
export const FIXED_OFF_DAYS = [
  '2025-11-27',
  '2025-12-24',
  '2026-02-13',
  '2026-02-14',
  '2026-02-15',
  '2026-02-16',
  '2026-02-17',
  '2026-02-18',
];

/**
 * Generate a season.
 * @returns {{ teams: string[], players: {playerId:string,name:string,team:string,starter:boolean}[],
 *   games: {gameId:string,gameDate:string,homeTeam:string,awayTeam:string}[], offDays: string[] }}
 */
export const generateSeason = ({ seed = 20251116, start = '2025-10-21', end = '2026-04-12' } = {}) => {
  const rng = seededRandom(seed);
  const players = [];
  const used = new Set();
  for (const team of TEAMS) {
    for (let i = 0; i < 15; i++) {
      let name;
      do name = `${rng.pick(FIRST)} ${rng.pick(LAST)}`;
      while (used.has(name));
      used.add(name);
      players.push({ playerId: `${team}-${String(i + 1).padStart(2, '0')}`, name, team, starter: i < 5 });
    }
  }
  const games = [];
  const offDays = [];
  for (let t = parse(start); t <= parse(end); t += DAY_MS) {
    const date = toDate(t);
    const dow = new Date(t).getUTCDay();
    const rest = FIXED_OFF_DAYS.includes(date) || (date !== start && rng.next() < 0.05);
    if (rest) {
      offDays.push(date);
      continue;
    }
    // Opening night and Christmas have short marquee slates; Fridays and Saturdays are busy.
    const count = date === start ? 2 : date.endsWith('-12-25') ? 5 : dow === 5 || dow === 6 ? rng.int(6, 13) : rng.int(2, 11);
    const order = rng.shuffle(TEAMS);
    for (let g = 0; g < count; g++) {
      games.push({
        gameId: `${date.replaceAll('-', '')}-${String(g + 1).padStart(2, '0')}`,
        gameDate: date,
        homeTeam: order[2 * g],
        awayTeam: order[2 * g + 1],
      });
    }
  }
  return { teams: [...TEAMS], players, games, offDays };
};

/**
 * The raw box score of one game: 10–13 players a side with minutes, shots and counting stats
 * that add up (points = 2·(FGM − 3PM) + 3·3PM + FTM). Seeded by the game id, so a re-scrape
 * returns the same rows.
 */
export const boxScore = (game, players, seed = 20251116) => {
  let h = seed >>> 0;
  for (const ch of game.gameId) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const rng = seededRandom(h);
  const rows = [];
  for (const team of [game.homeTeam, game.awayTeam]) {
    const roster = players.filter((p) => p.team === team);
    const dressed = roster.filter((p) => p.starter || rng.next() < 0.62).slice(0, 13);
    while (dressed.length < 10) dressed.push(roster.find((p) => !dressed.includes(p)));
    for (const p of dressed) {
      const min = p.starter ? rng.int(26, 38) : rng.int(4, 24);
      const fga = Math.max(0, Math.round(min * (0.3 + rng.next() * 0.25)));
      const fgm = Math.round(fga * (0.35 + rng.next() * 0.25));
      const fg3a = Math.round(fga * rng.next() * 0.5);
      const fg3m = Math.min(fgm, Math.round(fg3a * (0.25 + rng.next() * 0.2)));
      const fta = rng.int(0, Math.ceil(min / 6));
      const ftm = Math.round(fta * (0.6 + rng.next() * 0.35));
      const oreb = rng.int(0, Math.ceil(min / 15));
      const dreb = rng.int(0, Math.ceil(min / 5));
      rows.push({
        game_id: game.gameId,
        game_date: game.gameDate,
        team,
        opponent: team === game.homeTeam ? game.awayTeam : game.homeTeam,
        is_home: team === game.homeTeam ? 1 : 0,
        player_id: p.playerId,
        player_name: p.name,
        minutes: min,
        fgm,
        fga,
        fg3m,
        fg3a,
        ftm,
        fta,
        oreb,
        dreb,
        ast: rng.int(0, Math.ceil(min / 5)),
        stl: rng.int(0, 3),
        blk: rng.int(0, 2),
        tov: rng.int(0, 4),
        pf: rng.int(0, 5),
        pts: 2 * (fgm - fg3m) + 3 * fg3m + ftm,
      });
    }
  }
  return rows;
};
