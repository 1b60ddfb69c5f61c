import { describeBackendConformance } from './conformance.js';
import { localFixture } from './local-fixture.js';

describeBackendConformance('sqlite', () => localFixture('sqlite'));
