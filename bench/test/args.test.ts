import { describe, expect, it } from 'vitest';
import { parseBenchArgs, UsageError } from '../src/args.mjs';

const ids = ['submit', 'end-to-end', 'memory'];

describe('parseBenchArgs', () => {
  it.each([
    [[], { quick: false, out: undefined, runs: 3, only: undefined, profile: false, help: false }],
    [
      ['--quick'],
      { quick: true, out: undefined, runs: 1, only: undefined, profile: false, help: false },
    ],
    [
      ['--quick', '--out', '.ci-results/bench-quick.json'],
      {
        quick: true,
        out: '.ci-results/bench-quick.json',
        runs: 1,
        only: undefined,
        profile: false,
        help: false,
      },
    ],
    [
      ['--out=x.json', '--runs', '5'],
      { quick: false, out: 'x.json', runs: 5, only: undefined, profile: false, help: false },
    ],
    [
      ['--quick', '--runs', '2'],
      { quick: true, out: undefined, runs: 2, only: undefined, profile: false, help: false },
    ],
    [
      ['--only', 'memory, submit', '--profile'],
      {
        quick: false,
        out: undefined,
        runs: 3,
        only: ['memory', 'submit'],
        profile: true,
        help: false,
      },
    ],
    [
      ['-h'],
      { quick: false, out: undefined, runs: 3, only: undefined, profile: false, help: true },
    ],
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
