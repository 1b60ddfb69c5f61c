import { describe, expect, it } from 'vitest';
import { storeLabel } from '../src/metrics/store-label.js';

describe('storeLabel', () => {
  it('names a Redis store by its server, without credentials, and its prefix', () => {
    const url = 'redis://user:s3cret@redis.internal:6379/2';
    expect(storeLabel({ kind: 'redis', url, prefix: 'q' }, 'proxy-1')).toBe(
      'redis://redis.internal:6379/2 (prefix q)',
    );
  });

  it('names a local store after its one instance', () => {
    expect(storeLabel({ kind: 'memory' }, 'proxy-1')).toBe('proxy-1');
    expect(
      storeLabel({ kind: 'sqlite', dataDir: '/var/lib/proxy', synchronous: 'normal' }, 'proxy-2'),
    ).toBe('proxy-2');
  });
});
