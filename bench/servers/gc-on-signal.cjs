// Preloaded into a server under measurement (node --expose-gc --require this): SIGUSR2 runs two
// full collections, so a reading of RSS that follows does not depend on whether V8 has yet
// collected the garbage a burst left in the old generation (benchmarks.md, 5a).
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  globalThis.gc?.();
});
