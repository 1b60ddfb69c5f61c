// @ts-check
// Renders a benchmark report as Markdown: the machine, the date and the command, then one table
// per scenario with every figure next to its limit, their ratio and the target.

/** @typedef {import('./aggregate.mjs').RowResult} RowResult */

/**
 * @typedef {object} Machine
 * @property {string} cpu
 * @property {number} cores
 * @property {number} memoryGiB
 * @property {string} node
 * @property {string} os
 * @property {string} placement where the driver and the servers ran
 * @property {number} loadAverage the 1-minute load average when the run started
 */

/**
 * @typedef {object} ScenarioResult
 * @property {string} id
 * @property {string} title
 * @property {string} setup the conditions, in one line
 * @property {'ok' | 'crashed'} status
 * @property {string | null} error
 * @property {number} runs
 * @property {number} seconds wall-clock time the scenario took
 * @property {RowResult[]} rows
 */

/**
 * @typedef {object} BenchReport
 * @property {1} version
 * @property {'quick' | 'full'} mode
 * @property {string} date ISO 8601
 * @property {string} command
 * @property {string} revision the commit proxy-server was built from
 * @property {Machine} machine
 * @property {ScenarioResult[]} scenarios
 */

/**
 * Enough digits to compare, no more: thousands get separators, small values three significant
 * digits.
 * @param {number} value
 */
export function formatNumber(value) {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs === 0) return '0';
  return Number(value.toPrecision(3)).toString();
}

/** @param {number} value @param {string} unit */
export function formatValue(value, unit) {
  return unit ? `${formatNumber(value)} ${unit}` : formatNumber(value);
}

/** A crash message can carry a process's output: one line, and not all of it. */
const ERROR_SHOWN = 300;

/** @param {string} text */
function cell(text) {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** @param {RowResult} row */
function spreadCell(row) {
  const f = row.figure;
  if (!f || f.n < 2) return '—';
  return `±${(f.spreadPct / 2).toFixed(1)}% (${formatNumber(f.min)}–${formatNumber(f.max)})`;
}

/** @param {RowResult} row */
function limitCell(row) {
  if (!row.limit) return '—';
  if (!row.limit.summary) return `${row.limit.label}: unavailable`;
  return `${row.limit.label}: ${formatValue(row.limit.summary.median, row.unit)}`;
}

/** @param {RowResult} row */
function ratioCell(row) {
  if (!row.ratio) return '—';
  const r = row.ratio;
  const range = r.n > 1 ? ` (${formatNumber(r.min)}–${formatNumber(r.max)})` : '';
  return `${formatNumber(r.median)}${range}`;
}

/** @param {RowResult} row */
function metCell(row) {
  if (!row.target) return '—';
  if (row.target.met === null) return 'n/a';
  return row.target.met ? 'yes' : '**no**';
}

/** @param {RowResult} row */
function renderRow(row) {
  if (row.unavailable) {
    return `| ${cell(row.label)} | unavailable: ${cell(row.unavailable)} | — | ${cell(limitCell(row))} | — | ${cell(row.target?.text ?? '—')} | n/a |`;
  }
  const f = /** @type {NonNullable<RowResult['figure']>} */ (row.figure);
  return [
    '',
    cell(row.label),
    formatValue(f.median, row.unit),
    spreadCell(row),
    cell(limitCell(row)),
    ratioCell(row),
    cell(row.target?.text ?? '—'),
    metCell(row),
    '',
  ]
    .join(' | ')
    .trim();
}

/** @param {ScenarioResult} scenario */
export function renderScenario(scenario) {
  const lines = [`### ${scenario.title}`, '', scenario.setup, ''];
  if (scenario.status === 'crashed') {
    const error = (scenario.error ?? 'unknown error').replace(/\s+/g, ' ').trim();
    const shown = error.length > ERROR_SHOWN ? `${error.slice(0, ERROR_SHOWN)}…` : error;
    lines.push(`**Crashed:** ${cell(shown)}`, '');
    if (scenario.rows.length === 0) return lines.join('\n');
  }
  lines.push(
    `| Figure | Median | Spread over ${scenario.runs} run${scenario.runs === 1 ? '' : 's'} | Limit (same run) | Ratio | Target | Met |`,
    '|---|--:|--:|---|--:|---|:-:|',
    ...scenario.rows.map(renderRow),
    '',
  );
  return lines.join('\n');
}

/** @param {BenchReport} report */
export function renderReport(report) {
  const m = report.machine;
  return [
    `Measured ${report.date.slice(0, 10)} (${report.mode} mode) with \`${report.command}\`, ` +
      `proxy-server built from ${report.revision}.`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB memory, ${m.os}, Node ${m.node}; ` +
      `${m.placement}; load average ${m.loadAverage.toFixed(2)} at the start.`,
    '',
    'Median of the runs; spread is half the range around the median; a ratio is figure ÷ limit,',
    'taken per run, then its median.',
    '',
    ...report.scenarios.map(renderScenario),
  ].join('\n');
}
