import { type RedisServer, startRedis } from 'test-support';
import { afterAll, beforeAll } from 'vitest';
import { describeBackendConformance } from './conformance.js';
import { redisFixture } from './redis-fixture.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.close());

describeBackendConformance('redis', () => redisFixture(redis.url));
