// @ts-check
// Turns the measures of each run into report rows: median and spread of every figure, of its
// limit and of their ratio, and whether the target is met. Ratios are taken per run and
// then summarised, because a figure and its limit measured in the same run share that run's
// conditions (other load on the machine, CPU frequency).
import { summarize } from './stats.mjs';

/** @typedef {import('./stats.mjs').Summary} Summary */
/** @typedef {Record<string, number>} Measures */

/**
 * @typedef {object} Target
 * @property {'>=' | '<='} op
 * @property {number} value
 * @property {'ratio' | 'figure'} on
 * @property {{ row: string, name: string }} [notBelowRatioOf] a row whose ratio this row's ratio
 *   must also reach, and how the target's text names it
 */

/**
 * @typedef {{ label: string, measure: string } | { label: string, value: number }} LimitSpec
 * A limit is either measured in the same run (`measure`) or a constant such as an ideal rate.
 */

/**
 * @typedef {object} RowSpec
 * @property {string} id unique within its scenario
 * @property {string} label
 * @property {string} measure
 * @property {string} unit
 * @property {LimitSpec} [limit]
 * @property {Target} [target]
 */

/**
 * @typedef {object} TargetResult
 * @property {string} text
 * @property {boolean | null} met null when the figure needed to judge it is unavailable
 */

/**
 * @typedef {object} RowResult
 * @property {string} id
 * @property {string} label
 * @property {string} unit
 * @property {(Summary & { samples: number[] }) | null} figure
 * @property {{ label: string, summary: Summary | null } | null} limit
 * @property {(Summary & { samples: number[] }) | null} ratio
 * @property {TargetResult | null} target
 * @property {string | null} unavailable why the figure is missing, when it is
 */

/**
 * @param {readonly Measures[]} runs
 * @param {string} measure
 */
function samplesOf(runs, measure) {
  /** @type {number[]} */
  const out = [];
  for (const run of runs) {
    const value = run[measure];
    if (value !== undefined) out.push(value);
  }
  return out;
}

/** @param {number[]} samples */
function withSamples(samples) {
  return samples.length === 0 ? null : { ...summarize(samples), samples };
}

/**
 * @param {RowSpec} spec
 * @param {readonly Measures[]} runs
 * @param {Readonly<Record<string, string>>} unavailable reasons by measure
 * @returns {RowResult}
 */
function aggregateRow(spec, runs, unavailable) {
  const figure = withSamples(samplesOf(runs, spec.measure));
  const missing =
    figure === null ? (unavailable[spec.measure] ?? `no run measured ${spec.measure}`) : null;

  /** @type {RowResult['limit']} */
  let limit = null;
  /** @type {number[]} */
  const ratios = [];
  if (spec.limit) {
    if ('value' in spec.limit) {
      const value = spec.limit.value;
      limit = { label: spec.limit.label, summary: summarize([value]) };
      for (const run of runs) {
        const v = run[spec.measure];
        if (v !== undefined && value !== 0) ratios.push(v / value);
      }
    } else {
      const limitSamples = samplesOf(runs, spec.limit.measure);
      limit = {
        label: spec.limit.label,
        summary: limitSamples.length > 0 ? summarize(limitSamples) : null,
      };
      for (const run of runs) {
        const v = run[spec.measure];
        const l = run[spec.limit.measure];
        if (v !== undefined && l !== undefined && l !== 0) ratios.push(v / l);
      }
    }
  }

  return {
    id: spec.id,
    label: spec.label,
    unit: spec.unit,
    figure,
    limit,
    ratio: withSamples(ratios),
    target: null,
    unavailable: missing,
  };
}

/** @param {'>=' | '<='} op @param {number} a @param {number} b */
function holds(op, a, b) {
  return op === '>=' ? a >= b : a <= b;
}

/** @param {number} n */
function short(n) {
  return Number(n.toPrecision(3)).toString();
}

/**
 * @param {Target} target
 * @param {RowResult} row
 * @param {ReadonlyMap<string, RowResult>} rowsById
 * @returns {TargetResult}
 */
function judge(target, row, rowsById) {
  const sign = target.op === '>=' ? '≥' : '≤';
  let text = `${target.on} ${sign} ${short(target.value)}`;
  const subject = target.on === 'ratio' ? row.ratio : row.figure;
  /** @type {boolean | null} */
  let met = subject ? holds(target.op, subject.median, target.value) : null;

  if (target.notBelowRatioOf) {
    const { row: peerId, name } = target.notBelowRatioOf;
    const peer = rowsById.get(peerId);
    if (!peer) throw new Error(`target refers to unknown row '${peerId}'`);
    if (peer.ratio) {
      text += ` and ${sign} ${name} (${short(peer.ratio.median)})`;
      if (met !== null && row.ratio)
        met = met && holds(target.op, row.ratio.median, peer.ratio.median);
    } else {
      text += ` (${name} unavailable)`;
    }
  }
  return { text, met };
}

/**
 * @param {readonly RowSpec[]} specs
 * @param {readonly Measures[]} runs
 * @param {Readonly<Record<string, string>>} [unavailable]
 * @returns {RowResult[]}
 */
export function aggregateRows(specs, runs, unavailable = {}) {
  const rows = specs.map((spec) => aggregateRow(spec, runs, unavailable));
  const byId = new Map(rows.map((row) => [row.id, row]));
  if (byId.size !== rows.length) throw new Error('row ids must be unique within a scenario');
  specs.forEach((spec, i) => {
    const row = /** @type {RowResult} */ (rows[i]);
    if (spec.target) row.target = judge(spec.target, row, byId);
  });
  return rows;
}
