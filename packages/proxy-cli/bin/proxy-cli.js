#!/usr/bin/env node
// Committed (unlike dist/) so that package managers can link the bin before the first build.
import '../dist/bin.js';
