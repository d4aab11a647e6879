import { describe, expect, it } from 'vitest';
import { isoDate, type IsoDate } from '@smart-backfill/core';
import { splitCommand } from '../src/runtime/split-command.js';
import { commandProcessor } from '../src/runtime/command-processor.js';
import { substitute, unknownPlaceholders } from '../src/runtime/split-command.js';

describe('command templates', () => {
  it('split like a shell would, without being one', () => {
    expect(splitCommand('node build-summary.js --date {date}')).toEqual({
      ok: true,
      argv: ['node', 'build-summary.js', '--date', '{date}'],
    });
    expect(splitCommand(`python3 -m "my jobs.run" --name 'a b' x\\ y "q\\"t"`)).toEqual({
      ok: true,
      argv: ['python3', '-m', 'my jobs.run', '--name', 'a b', 'x y', 'q"t'],
    });
    expect(splitCommand('echo $HOME; rm -rf / | cat')).toEqual({ ok: true, argv: ['echo', '$HOME;', 'rm', '-rf', '/', '|', 'cat'] });
    expect(splitCommand('  ')).toEqual({ ok: false, problem: 'empty command' });
    expect(splitCommand("a 'b")).toEqual({ ok: false, problem: "unterminated ' quote" });
  });

  it('substitute inside words and flag unknown placeholders', () => {
    expect(substitute(['run', '--date={date}', '{processor}'], { date: '2025-11-15', processor: 'pgs' })).toEqual([
      'run',
      '--date=2025-11-15',
      'pgs',
    ]);
    expect(unknownPlaceholders(['x', '{date}', '{when}', 'a{b}c'])).toEqual(['{when}', '{b}']);
  });

  it('the processor spawns argv directly: a hostile value stays one argument and nothing is interpreted', async () => {
    const p = commandProcessor({
      name: 'echo',
      command: ['node', '-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', '--', '{date}', '{processor}'],
      cwd: process.cwd(),
    });
    let out = '';
    const withOut = commandProcessor({
      name: 'echo',
      command: ['node', '-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', '--', '{date}', '$(touch pwned)'],
      cwd: process.cwd(),
      onOutput: (s) => (out += s),
    });
    await withOut.run({ date: '2025-11-15; rm -rf /' as IsoDate });
    expect(JSON.parse(out)).toEqual(['2025-11-15; rm -rf /', '$(touch pwned)']);
    await expect(p.run({ date: isoDate('2025-11-15') })).resolves.toMatchObject({
      exitCode: 0,
      argv: ['node', '-e', expect.any(String), '--', '2025-11-15', 'echo'],
    });
  });

  it('passes the run through the environment and reports a missing program clearly', async () => {
    let out = '';
    const env = commandProcessor({
      name: 'env',
      command: [
        'node',
        '-e',
        'process.stdout.write([process.env.SMART_BACKFILL_DATE, process.env.SMART_BACKFILL_IS_BACKFILL, process.env.SMART_BACKFILL_TRIGGER, process.env.EXTRA].join(" "))',
      ],
      cwd: process.cwd(),
      env: { EXTRA: 'yes' },
      onOutput: (s) => (out += s),
    });
    await env.run({ date: isoDate('2025-11-15'), isBackfill: true, trigger: 'backfill' });
    expect(out).toBe('2025-11-15 1 backfill yes');
    const missing = commandProcessor({ name: 'm', command: 'definitely-not-a-program-xyz --date {date}', cwd: process.cwd() });
    await expect(missing.run({ date: isoDate('2025-11-15') })).rejects.toThrow(
      'command not found: "definitely-not-a-program-xyz" (processor "m")',
    );
  });
});
