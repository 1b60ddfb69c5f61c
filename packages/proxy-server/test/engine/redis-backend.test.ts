import { describeBackendConformance } from './conformance.js';
import { redisFixture, redisPerFile } from './redis-fixture.js';

const redis = redisPerFile();

// Fair sharing is refused with --store redis (config.test.ts); the rate limit is BullMQ's, on
// real time rather than the fixture's clock, and redis-instances.test.ts tests it.
describeBackendConformance('redis', () => redisFixture(redis.url), {
  fairSharing: false,
  rateLimit: false,
});
