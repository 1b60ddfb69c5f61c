import { describe, expect, it } from 'vitest';
import { flagGivenAsValue, flagsMeant } from '../src/wire.js';

const FLAGS = ['--target-host', '--target-port', '--listen-host', '--listen-port', '--num-workers'];

describe('flagsMeant', () => {
  it.each([
    ['--port', '--target-port or --listen-port'],
    ['--workers', '--num-workers'],
    ['--target', '--target-host or --target-port'],
    ['--Listen-Port=80', '--listen-port'],
    ['--host', '--target-host or --listen-host'],
  ])('%s → %s', (flag, meant) => {
    expect(flagsMeant(flag, FLAGS)).toBe(meant);
  });

  it('names no flag that has the words only apart, or in part', () => {
    expect(flagsMeant('--host-target', FLAGS)).toBeUndefined();
    expect(flagsMeant('--tar', FLAGS)).toBeUndefined();
  });

  it('names none when more than three have the words: a list is no hint', () => {
    expect(flagsMeant('--x', ['--x-a', '--x-b', '--x-c'])).toBe('--x-a, --x-b or --x-c');
    expect(flagsMeant('--x', ['--x-a', '--x-b', '--x-c', '--x-d'])).toBeUndefined();
  });
});

describe('flagGivenAsValue', () => {
  const valued = new Set(['--target-host', '--task-id']);
  const flags = new Set([...valued, '--wait', '--listen-port']);
  it.each<[string[], { flag: string; next: string } | undefined]>([
    [['--target-host', '--listen-port', '9000'], { flag: '--target-host', next: '--listen-port' }],
    [['--task-id', '--wait=5'], { flag: '--task-id', next: '--wait' }],
    [['--task-id', '', '--wait'], undefined],
    [['--task-id', '--no-such-flag'], undefined],
    [['--wait', '--task-id'], undefined],
    [['--', '--task-id', '--wait'], undefined],
  ])('%j → %j', (argv, given) => {
    expect(flagGivenAsValue(argv, valued, flags)).toEqual(given);
  });
});
