#!/usr/bin/env node
import { dropOverruledForceColor } from './no-color.js';

// Before anything else loads: Node and ora's colour library read the environment as they load.
// So main.js is imported only now, and built apart (see tsup.config.ts).
dropOverruledForceColor(process.env);
await import('./main.js');
