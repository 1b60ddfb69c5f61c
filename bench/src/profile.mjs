// @ts-check
// Reads a V8 CPU profile (the JSON `node --cpu-prof` writes): self time per function and per
// area of the code (a package in node_modules, Node's internals, the proxy's own modules,
// garbage collection), so the cause of a missed target can be named with evidence.

/**
 * @typedef {object} ProfileNode
 * @property {number} id
 * @property {{ functionName: string, url: string, lineNumber: number }} callFrame
 * @property {number[]} [children]
 */

/**
 * @typedef {object} CpuProfile
 * @property {ProfileNode[]} nodes
 * @property {number} startTime microseconds
 * @property {number} endTime microseconds
 * @property {number[]} samples node id per sample
 * @property {number[]} timeDeltas microseconds before each sample
 */

/**
 * Which part of the code a frame belongs to. Packages are named by their node_modules folder
 * (pnpm's `.pnpm/<name>@<version>/node_modules/<name>` included), Node's own code by `node:`.
 * @param {{ functionName: string, url: string }} frame
 */
export function areaOf(frame) {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(garbage collector)') return 'garbage collection';
    if (functionName === '(idle)' || functionName === '(program)' || functionName === '(root)') {
      return functionName;
    }
    return 'native (V8 builtins, no URL)';
  }
  if (url.startsWith('node:')) return 'node: internals';
  // undici parses HTTP answers with llhttp compiled to WebAssembly.
  if (url.startsWith('wasm://')) return 'undici (llhttp, wasm)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/@.][^/]*)\/(?!.*node_modules\/)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  return `app: ${url.replace(/^file:\/\//, '').replace(/^.*\/(packages|examples)\//, '$1/')}`;
}

/**
 * @param {CpuProfile} profile
 * @param {number} top how many functions to list
 */
export function summarizeProfile(profile, top) {
  /** @type {Map<number, ProfileNode>} */
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  /** @type {Map<number, number>} */
  const selfUs = new Map();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });

  let totalUs = 0;
  let idleUs = 0;
  /** @type {Map<string, number>} */
  const areas = new Map();
  /** @type {Map<string, { name: string, where: string, selfMs: number }>} */
  const functions = new Map();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    totalUs += us;
    const frame = node.callFrame;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const area = areaOf(frame);
    areas.set(area, (areas.get(area) ?? 0) + us / 1000);
    const where = frame.url ? `${areaOf(frame).replace(/^app: /, '')}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName}|${frame.url}|${frame.lineNumber}`;
    const entry = functions.get(key) ?? {
      name: frame.functionName || '(anonymous)',
      where: where && !where.startsWith('(') ? where : '',
      selfMs: 0,
    };
    entry.selfMs += us / 1000;
    functions.set(key, entry);
  }
  return {
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    byArea: [...areas].sort((a, b) => b[1] - a[1]),
    topFunctions: [...functions.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, top),
  };
}

/**
 * Share of each window of `windowMs` the process spent busy (not idle) and in garbage
 * collection, from the start of the profile: shows when a process ran out of CPU.
 * @param {CpuProfile} profile
 * @param {number} windowMs
 */
export function busyTimeline(profile, windowMs) {
  /** @type {Map<number, ProfileNode>} */
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  /** @type {Array<{ startMs: number, busyPct: number, gcPct: number }>} */
  const windows = [];
  let atUs = 0;
  profile.samples.forEach((id, i) => {
    // A sample stands for the time since the one before, so it counts where that time began.
    const deltaUs = profile.timeDeltas[i] ?? 0;
    const index = Math.floor(atUs / 1000 / windowMs);
    atUs += deltaUs;
    while (windows.length <= index) {
      windows.push({ startMs: windows.length * windowMs, busyPct: 0, gcPct: 0 });
    }
    const window = /** @type {{ busyPct: number, gcPct: number }} */ (windows[index]);
    const name = byId.get(id)?.callFrame.functionName;
    const pct = (deltaUs / 1000 / windowMs) * 100;
    if (name !== '(idle)') window.busyPct += pct;
    if (name === '(garbage collector)') window.gcPct += pct;
  });
  return windows;
}

/**
 * Time spent in each of the proxy's own functions including what they called (self time alone
 * hides a function whose cost is in the libraries it uses). A function on the stack twice
 * (recursion) counts once per sample.
 * @param {CpuProfile} profile
 * @param {number} top
 */
export function inclusiveAppTime(profile, top) {
  /** @type {Map<number, ProfileNode>} */
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  /** @type {Map<number, number>} */
  const parentOf = new Map();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  }
  /** @type {Map<string, { name: string, where: string, totalMs: number }>} */
  const totals = new Map();
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    /** @type {Set<string>} */
    const seen = new Set();
    for (let at = /** @type {number | undefined} */ (id); at !== undefined; at = parentOf.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame) break;
      const area = areaOf(frame);
      if (!area.startsWith('app: ')) continue;
      const where = `${area.slice('app: '.length)}:${frame.lineNumber + 1}`;
      const key = `${frame.functionName}|${where}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = totals.get(key) ?? {
        name: frame.functionName || '(anonymous)',
        where,
        totalMs: 0,
      };
      entry.totalMs += ms;
      totals.set(key, entry);
    }
  });
  return [...totals.values()].sort((a, b) => b.totalMs - a.totalMs).slice(0, top);
}

/**
 * The part of a profile between `fromMs` and `toMs` after its start, so start-up and shutdown
 * can be left out of a summary of the measured seconds.
 * @param {CpuProfile} profile
 * @param {number} fromMs
 * @param {number} toMs
 * @returns {CpuProfile}
 */
export function sliceProfile(profile, fromMs, toMs) {
  /** @type {number[]} */
  const samples = [];
  /** @type {number[]} */
  const timeDeltas = [];
  let atUs = 0;
  profile.samples.forEach((id, i) => {
    const deltaUs = profile.timeDeltas[i] ?? 0;
    const startMs = atUs / 1000;
    atUs += deltaUs;
    if (startMs >= fromMs && startMs < toMs) {
      samples.push(id);
      timeDeltas.push(deltaUs);
    }
  });
  return { ...profile, samples, timeDeltas };
}
