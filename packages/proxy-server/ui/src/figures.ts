import type { Stats } from 'proxy-client/wire';
import { h } from './dom.js';

interface Point {
  /** Milliseconds since the epoch. */
  t: number;
  queue: number;
  inFlight: number;
  /** Tasks finished since the proxy started (completed, failed, cancelled, expired). */
  finished: number;
  failed: number;
  /**
   * Which process read them (its start): totals count from 0 again in a restarted proxy, and
   * differ between instances behind one balancer, so a rate compares points of one process.
   */
  process: string;
}

interface Card {
  value: HTMLElement;
  note: HTMLElement;
  chart: SVGSVGElement;
}

/** How much history the charts show. */
export const WINDOW_MS = 10 * 60_000;
const RATE_OVER_MS = 60_000;
const SMOOTH_MS = 30_000;
const SVG = 'http://www.w3.org/2000/svg';
const CHART = { width: 240, height: 44 };

/**
 * The four live figures with a small chart each over the last ten minutes: queue depth and calls
 * in flight as /stats reads them, throughput and failures per minute from the change in its
 * totals between two reads.
 */
export class Figures {
  readonly #points: Point[] = [];
  readonly #cards: Record<'queue' | 'inFlight' | 'throughput' | 'failures', Card>;

  constructor(root: HTMLElement) {
    const card = (id: string, label: string): Card => {
      const value = h('span', { class: 'value' }, '–');
      const note = h('span', { class: 'note' });
      const chart = document.createElementNS(SVG, 'svg');
      chart.setAttribute('viewBox', `0 0 ${CHART.width} ${CHART.height}`);
      chart.setAttribute('preserveAspectRatio', 'none');
      chart.setAttribute('class', 'chart');
      chart.setAttribute('aria-hidden', 'true');
      root.append(
        h('div', { class: 'figure', id: `figure-${id}` }, h('h2', {}, label), value, note, chart),
      );
      return { value, note, chart };
    };
    this.#cards = {
      queue: card('queue', 'queue'),
      inFlight: card('in-flight', 'in flight'),
      throughput: card('throughput', 'throughput'),
      failures: card('failures', 'failures'),
    };
  }

  update(stats: Stats, now = Date.now()): void {
    const { totals } = stats;
    this.#points.push({
      t: now,
      queue: stats.queue_size,
      inFlight: stats.in_flight,
      finished: totals.completed + totals.failed + totals.cancelled + totals.expired,
      failed: totals.failed,
      process: stats.started_at,
    });
    while (this.#points.length > 2 && (this.#points[0]?.t ?? now) < now - WINDOW_MS) {
      this.#points.shift();
    }
    const points = this.#points;
    const { queue, inFlight, throughput, failures } = this.#cards;

    queue.value.textContent = String(stats.queue_size);
    queue.note.textContent = `of ${stats.max_queue_size} · ${stats.tasks.total} tasks held`;
    draw(
      queue.chart,
      points.map((p) => p.queue),
      stats.max_queue_size,
    );

    inFlight.value.textContent = String(stats.in_flight);
    inFlight.note.textContent = `of ${stats.effective_concurrency} slots`;
    draw(
      inFlight.chart,
      points.map((p) => p.inFlight),
      stats.effective_concurrency,
    );

    const perMinute = (pick: (p: Point) => number) => {
      const last = points.at(-1);
      const first = points.find(
        (p) => last !== undefined && p.process === last.process && p.t >= last.t - RATE_OVER_MS,
      );
      if (!last || !first || first === last) return null;
      return ((pick(last) - pick(first)) / (last.t - first.t)) * 60_000;
    };
    // Each point of a rate chart is the rate over the half minute before it, from the earliest
    // read of the same process in that time (reads of other instances behind a balancer come in
    // between): smooth enough to read, recent enough to show a change. A point with no earlier
    // one of its process keeps the rate before it.
    const rates = (pick: (p: Point) => number) => {
      let previous = 0;
      return points.slice(1).map((p, i) => {
        let before: Point | undefined;
        for (let j = i; j >= 0; j--) {
          const q = points[j] as Point;
          if (q.process !== p.process) continue;
          // The nearest such read counts however old (a tab in the background reads seldom).
          if (before && q.t < p.t - SMOOTH_MS) break;
          before = q;
        }
        if (before) previous = ((pick(p) - pick(before)) / Math.max(1, p.t - before.t)) * 60_000;
        return previous;
      });
    };
    const done = perMinute((p) => p.finished);
    throughput.value.textContent = done === null ? '–' : formatRate(done);
    throughput.note.textContent = `finished per minute · ${stats.totals.completed} completed since start`;
    draw(
      throughput.chart,
      rates((p) => p.finished),
      1,
    );

    const failed = perMinute((p) => p.failed);
    failures.value.textContent = failed === null ? '–' : formatRate(failed);
    failures.note.textContent = `failed per minute · ${stats.totals.failed} since start`;
    failures.value.classList.toggle('bad', (failed ?? 0) > 0);
    draw(
      failures.chart,
      rates((p) => p.failed),
      1,
    );
  }
}

function formatRate(perMinute: number): string {
  if (perMinute === 0) return '0';
  return perMinute >= 10 ? String(Math.round(perMinute)) : perMinute.toFixed(1);
}

/** An area chart of `values`, oldest left, scaled to their maximum or `floor`, whichever is more. */
function draw(svg: SVGSVGElement, values: number[], floor: number): void {
  const top = Math.max(floor, ...values, 1);
  const { width, height } = CHART;
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const y = (v: number) => (height - 2 - (v / top) * (height - 4)).toFixed(1);
  const line = values.map((v, i) => `${(i * step).toFixed(1)},${y(v)}`).join(' ');
  const area = document.createElementNS(SVG, 'polygon');
  area.setAttribute('class', 'area');
  area.setAttribute('points', values.length > 1 ? `0,${height} ${line} ${width},${height}` : '');
  const stroke = document.createElementNS(SVG, 'polyline');
  stroke.setAttribute('class', 'line');
  stroke.setAttribute('points', values.length > 1 ? line : '');
  svg.replaceChildren(area, stroke);
}
