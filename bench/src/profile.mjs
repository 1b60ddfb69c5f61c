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
