import './styles.css';
import {
  type DataBody,
  type HealthBody,
  isSendableHeaderValue,
  type Stats,
} from 'proxy-client/wire';
import { Api, isUnauthorized, KeyStore } from './api.js';
import { byId } from './dom.js';
import { EventStream, type StreamState } from './event-stream.js';
import { Figures } from './figures.js';
import { TaskDetail } from './task-detail.js';
import { TaskTable } from './task-table.js';

/** How often the figures read /stats; events also ask for a read, at most this often. */
const STATS_EVERY_MS = 2_000;
const STATS_AFTER_EVENT_MS = 250;

const keys = new KeyStore();
const api = new Api(keys);
/** Set by the server in the page it serves: whether its routes need the API key. */
const needsKey =
  document.querySelector('meta[name="proxy-auth"]')?.getAttribute('content') === 'bearer';

const figures = new Figures(byId('figures'));
const detail = new TaskDetail(api, report, (id) => table.focus(id));
const table = new TaskTable(api, (id, fromKeyboard) => {
  void detail.open(id, { focus: fromKeyboard }).catch(fail);
});
const live = byId('live');
const forget = byId<HTMLButtonElement>('forget-key');

let stream: EventStream | null = null;
let statsTimer: ReturnType<typeof setTimeout> | undefined;
/** When the next read of /stats is due (ms since the epoch); none is while one is under way. */
let statsDueAt = Number.POSITIVE_INFINITY;
/** The latest read of /stats asked for; one answered after a later one was asked is dropped. */
let statsRead = 0;
/** The read on its way, if any: an event meanwhile asks for another once it is answered. */
let statsInFlight = 0;
let statsAgain = false;
/**
 * `totals.removed` at the last read of /stats. Event streams carry no removals (cleanup and
 * retention drop finished tasks in bulk), so a rise here is when the table is read again.
 */
let removedSeen: number | null = null;
let askingForKey = false;

function report(message: string): void {
  const toast = byId('toast');
  toast.textContent = message;
  toast.hidden = false;
  setTimeout(() => {
    if (toast.textContent === message) toast.hidden = true;
  }, 4_000);
}

function fail(error: unknown): void {
  if (isUnauthorized(error)) askForKey(true);
  else report(error instanceof Error ? error.message : String(error));
}

function setLive(state: StreamState): void {
  live.dataset.state = state;
  live.textContent = state;
}

/**
 * A read of /stats in `delayMs`, unless one is due sooner. An event moves the next read closer,
 * never further: postponed at each event, as a debounce would, the figures froze under a steady
 * stream of tasks, the regular read put off with them.
 */
function readStatsIn(delayMs: number): void {
  // One read at a time: with /stats slower than events, each read would drop the one before.
  if (statsInFlight !== 0) {
    statsAgain = true;
    return;
  }
  const dueAt = Date.now() + delayMs;
  if (dueAt >= statsDueAt) return;
  clearTimeout(statsTimer);
  statsDueAt = dueAt;
  statsTimer = setTimeout(() => void readStats(), delayMs);
}

async function readStats(): Promise<void> {
  clearTimeout(statsTimer);
  statsDueAt = Number.POSITIVE_INFINITY;
  const read = ++statsRead;
  statsInFlight = read;
  statsAgain = false;
  try {
    // Not waited for: a probe of a hung target takes up to 2 s, the figures need none of it.
    // Unanswered, what it last said of the target or the store is stale: the live indicator
    // and the toast say the proxy itself cannot be reached.
    void api.json<HealthBody>('health').then(showHealth, () => showHealth(null));
    const { data: stats } = await api.json<DataBody<Stats>>('stats').finally(() => {
      if (statsInFlight === read) statsInFlight = 0;
    });
    // A later read (a start, a reset of the stream) or a stop since: this answer is not shown.
    if (read !== statsRead) return;
    figures.update(stats);
    table.counted(stats.tasks);
    if (removedSeen !== null && stats.totals.removed > removedSeen) {
      void table.load().catch(fail);
    }
    removedSeen = stats.totals.removed;
    // Behind a load balancer each read may come from another instance: say which one answered.
    byId('target').textContent =
      `→ ${stats.target} · v${stats.version} · ${stats.store} · instance ${stats.instance}`;
  } catch (error) {
    if (read !== statsRead) return;
    fail(error);
    if (isUnauthorized(error)) return;
  }
  readStatsIn(statsAgain ? STATS_AFTER_EVENT_MS : STATS_EVERY_MS);
}

/**
 * What keeps tasks from running, beside the live indicator (which is the page's own connection):
 * a stop under way, a target the proxy cannot reach, a store it cannot use. Read with /stats;
 * the proxy probes the target at most once in 5 s however often it is asked.
 */
function showHealth(health: HealthBody | null): void {
  const problems = health === null ? [] : healthProblems(health);
  const badge = byId('health');
  badge.hidden = problems.length === 0;
  badge.textContent = problems.join(' · ');
  badge.title = badge.textContent;
}

function healthProblems(health: HealthBody): string[] {
  const problems: string[] = [];
  if (health.status === 'shutting_down') problems.push('shutting down: no new tasks');
  if (!health.target.reachable) {
    problems.push(`target unreachable: ${health.target.message ?? 'no answer'}`);
  }
  if (!health.store.available) {
    problems.push(`store unavailable: ${health.store.message ?? 'it failed'}`);
  }
  return problems;
}

function start(): void {
  stop();
  removedSeen = null;
  forget.hidden = keys.get() === null;
  void readStats();
  // The first page is read once the stream listens, and events heard meanwhile are replayed
  // over it: read before, it would miss the changes in between for good.
  let listening = false;
  let shown = false;
  stream = new EventStream(api, {
    onTransition(type, task) {
      table.apply(type, task);
      if (detail.openId === task.task_id) detail.refresh();
      readStatsIn(STATS_AFTER_EVENT_MS);
    },
    onReset() {
      void table.load().catch(fail);
      void readStats();
    },
    onState(state) {
      setLive(state);
      if (state === 'live' && !listening) {
        listening = true;
        shown = true;
        void table.load().catch(fail);
      } else if (state !== 'live' && !shown) {
        // No stream yet (a proxy or gateway that refuses it): the tasks as they are, at least.
        shown = true;
        void table.load().catch(fail);
      }
    },
    onUnauthorized: () => askForKey(true),
  });
  stream.start();
}

function stop(): void {
  stream?.close();
  stream = null;
  clearTimeout(statsTimer);
  statsDueAt = Number.POSITIVE_INFINITY;
  // A read on its way is dropped when answered, and asks for no other.
  statsRead++;
  statsInFlight = 0;
}

/** Asks once for the key, keeps it for this tab, and starts over with it. */
function askForKey(refused: boolean): void {
  if (askingForKey) return;
  askingForKey = true;
  stop();
  // What was read with a key forgotten or refused is not for whoever comes to the page now.
  document.body.classList.add('locked');
  setLive('connecting');
  const dialog = byId<HTMLDialogElement>('key-dialog');
  const input = byId<HTMLInputElement>('key-input');
  showKeyError(refused && keys.get() !== null ? 'That key was refused.' : null);
  keys.clear();
  input.value = '';
  dialog.showModal();
}

function showKeyError(message: string | null): void {
  const error = byId('key-error');
  error.hidden = message === null;
  error.textContent = message ?? '';
}

// A key that cannot be used keeps the dialog open, saying why: closed, it left the page
// connecting to nothing, or asking again for ever with a key fetch cannot send.
byId('key-form').addEventListener('submit', (event) => {
  const key = byId<HTMLInputElement>('key-input').value.trim();
  const problem =
    key === ''
      ? 'The key is empty.'
      : isSendableHeaderValue(key)
        ? null
        : 'A key has printable ASCII or Latin-1 characters only: this one cannot be sent.';
  if (problem !== null) {
    event.preventDefault();
    showKeyError(problem);
    return;
  }
  keys.set(key);
  askingForKey = false;
  document.body.classList.remove('locked');
  start();
});
byId<HTMLDialogElement>('key-dialog').addEventListener('cancel', (event) => event.preventDefault());
forget.addEventListener('click', () => {
  keys.clear();
  askForKey(false);
});

if (needsKey && keys.get() === null) askForKey(false);
else start();
