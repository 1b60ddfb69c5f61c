import { type RedisServer, startRedis } from 'test-support';
import { afterAll, beforeAll } from 'vitest';
import { describeBackendConformance } from './conformance.js';
import { redisFixture } from './redis-fixture.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.close());

// Fair sharing is refused with --store redis (config.test.ts); the rate limit is BullMQ's, on
// real time rather than the fixture's clock, and redis-instances.test.ts tests it.
describeBackendConformance('redis', () => redisFixture(redis.url), {
  fairSharing: false,
  rateLimit: false,
});
