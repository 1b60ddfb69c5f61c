import { describe, expect, it } from 'vitest';
import { OPTION_NAMES } from '../src/check-options.js';
import { closestName } from '../src/index.js';
import { editDistance } from '../src/wire.js';

const SETTINGS = [
  'PROXY_STORE',
  'PROXY_REDIS_PREFIX',
  'PROXY_METRICS_INSTANCE',
  'PROXY_PUBLIC_METRICS',
  'PROXY_SQLITE_SYNCHRONOUS',
  'PROXY_NUM_WORKERS',
  'PROXY_API_KEY',
  'PROXY_MAX_TASKS',
  'PROXY_MAX_QUEUE_SIZE',
];
const OPTIONS = ['signal', 'timeoutMs', 'pollInterval', 'throwOnFailure', 'onStatus', 'onOutage'];

describe('editDistance', () => {
  it.each([
    ['stats', 'stats', 0],
    ['stats', 'stat', 1],
    ['stats', 'Stats', 1],
    ['health', 'heatlh', 1],
    ['retry', 'retyr', 1],
    ['cancel', 'cnacel', 1],
    ['abc', 'ca', 3],
    ['', 'tasks', 5],
    ['naïve', 'naive', 1],
  ])('%s → %s: %i', (a, b, edits) => {
    expect(editDistance(a, b)).toBe(edits);
    expect(editDistance(b, a)).toBe(edits);
  });
});

describe('closestName', () => {
  it.each([
    ['timeoutMS', OPTIONS, 'timeoutMs'],
    ['pollIntervall', OPTIONS, 'pollInterval'],
    ['PROXY_MAX_TASK', SETTINGS, 'PROXY_MAX_TASKS'],
    // Two pairs of letters swapped: two edits, not four.
    ['PROXY_NUM_WROKRES', SETTINGS, 'PROXY_NUM_WORKERS'],
  ])('%s: a typo, at most 2 edits away → %s', (word, names, meant) => {
    expect(closestName(word, names)).toBe(meant);
  });

  it('names the one name a word written short begins', () => {
    expect(closestName('throwOnFail', OPTIONS)).toBe('throwOnFailure');
    expect(closestName('poll', OPTIONS)).toBe('pollInterval');
    // Review: a lone name, or names sharing letters past any separator, counted those letters as
    // shared by every name, and the word had too few of its own.
    expect(closestName('throwOnFail', ['throwOnFailure'])).toBe('throwOnFailure');
    expect(closestName('logLevelDe', ['logLevelDebug', 'logLevelTrace'])).toBe('logLevelDebug');
    expect(closestName('PROXY_T', ['PROXY_TARGET_URL'])).toBeUndefined();
  });

  // Review: the rule read `PROXY_REDIS=redis://...` as PROXY_REDIS_PREFIX, where PROXY_STORE was
  // meant, and `PROXY_N` as PROXY_NUM_WORKERS.
  it.each([
    ['a whole part of a longer name', 'PROXY_REDIS'],
    ['a whole part of a longer name', 'PROXY_METRICS'],
    ['a whole part of a longer name', 'PROXY_SQLITE'],
    ['too few letters past what every name begins with', 'PROXY_N'],
    ['too few letters past what every name begins with', 'PROXY_A'],
    ['the start of more than one name', 'PROXY_MAX_'],
  ])('suggests nothing for %s: %s', (_why, word) => {
    expect(closestName(word, SETTINGS)).toBeUndefined();
  });

  // A camelCase hump is no part for the whole-part rule: counted as one, `throwOn` (ending where
  // `Failure` begins) and `callback` would be taken as whole words and matched to nothing.
  it.each([
    ['throwOn', 'waitForTask', 'throwOnFailure'],
    ['callback', 'submit', 'callbackUrl'],
    ['upstreamTimeout', 'submit', 'upstreamTimeoutMs'],
    ['baseURL', 'ProxyClient', 'baseUrl'],
    ['apikey', 'ProxyClient', 'apiKey'],
    ['timeoutMS', 'ProxyClient', 'timeoutMs'],
    ['onError', 'waitForTask', undefined],
    ['method', 'ProxyClient', undefined],
  ] as const)('%s among the options of %s → %s', (word, method, meant) => {
    expect(closestName(word, Object.keys(OPTION_NAMES[method]))).toBe(meant);
  });

  it('suggests nothing for a short start, or one that begins several names', () => {
    expect(closestName('on', OPTIONS)).toBeUndefined();
    expect(closestName('onOu', [...OPTIONS, 'onOutcome'])).toBeUndefined();
  });
});
