import { type RedisServer, startRedis } from 'test-support';
import { afterAll, beforeAll } from 'vitest';
import { describeBackendConformance } from './conformance.js';
import { redisFixture } from './redis-fixture.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.close());

// Fair sharing and the rate limit are refused with --store redis (see config.test.ts).
describeBackendConformance('redis', () => redisFixture(redis.url), {
  fairSharing: false,
  rateLimit: false,
});
