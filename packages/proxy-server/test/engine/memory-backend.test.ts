import { describeBackendConformance } from './conformance.js';
import { localFixture } from './local-fixture.js';

describeBackendConformance('memory', () => localFixture('memory'));
