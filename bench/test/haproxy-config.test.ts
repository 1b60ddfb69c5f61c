import { describe, expect, it } from 'vitest';
import { haproxyConfig } from '../servers/haproxy-config.mjs';
import { oneKilobyteJson } from '../src/scenarios/submit-throughput.mjs';
import { spreadDelays } from '../src/scenarios/time-to-result.mjs';

describe('haproxyConfig', () => {
  it('puts the cap on the one server and listens where it was told', () => {
    const config = haproxyConfig({ listenPort: 4100, targetPort: 4200, maxconn: 50 });
    expect(config).toContain('bind 127.0.0.1:4100');
    expect(config).toMatch(/^\s+server target 127\.0\.0\.1:4200 maxconn 50$/m);
    expect(config).toContain('nbthread 1');
    expect(config).toContain('timeout queue 120s');
  });
});

describe('scenario inputs', () => {
  it('submits a JSON body of exactly 1,024 bytes', () => {
    const body = oneKilobyteJson();
    expect(Buffer.byteLength(body)).toBe(1024);
    expect(JSON.parse(body)).toMatchObject({ model: 'bench' });
  });

  it('spreads task durations evenly over the range, ends included', () => {
    expect(spreadDelays({ count: 5, minMs: 100, maxMs: 500 })).toEqual([100, 200, 300, 400, 500]);
    expect(spreadDelays({ count: 1, minMs: 100, maxMs: 500 })).toEqual([100]);
  });
});
