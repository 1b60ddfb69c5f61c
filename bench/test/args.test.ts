import { describe, expect, it } from 'vitest';
import { parseBenchArgs, UsageError } from '../src/args.mjs';

const ids = ['submit', 'end-to-end', 'memory'];

const defaults = {
  quick: false,
  out: undefined,
  runs: 3,
  only: undefined,
  profile: false,
  pin: true,
  help: false,
};

describe('parseBenchArgs', () => {
  it.each([
    [[], defaults],
    [['--quick'], { ...defaults, quick: true, runs: 1 }],
    [
      ['--quick', '--out', '.ci-results/bench-quick.json'],
      { ...defaults, quick: true, runs: 1, out: '.ci-results/bench-quick.json' },
    ],
    [['--out=x.json', '--runs', '5'], { ...defaults, out: 'x.json', runs: 5 }],
    [['--quick', '--runs', '2'], { ...defaults, quick: true, runs: 2 }],
    [
      ['--only', 'memory, submit', '--profile'],
      { ...defaults, only: ['memory', 'submit'], profile: true },
    ],
    [['--no-pin'], { ...defaults, pin: false }],
    [['-h'], { ...defaults, help: true }],
  ])('%j → %j', (argv, expected) => {
    expect(parseBenchArgs(argv, ids)).toEqual(expected);
  });

  it.each([
    [['--fast'], /fast/],
    [['extra'], /extra/],
    [['--out'], /out/],
    [['--out', ' '], /--out needs a file path/],
    [['--runs', '0'], /--runs must be a whole number/],
    [['--runs', '2.5'], /--runs must be a whole number/],
    [['--runs', 'many'], /--runs must be a whole number/],
    [['--only', 'nope'], /unknown scenario 'nope'.*submit, end-to-end, memory/],
    [['--only', 'submit,nope'], /unknown scenario 'nope'/],
    [['--only', ','], /unknown scenario ','/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseBenchArgs(argv, ids)).toThrow(UsageError);
    expect(() => parseBenchArgs(argv, ids)).toThrow(message);
  });
});
