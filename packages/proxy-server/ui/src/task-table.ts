import {
  type DataBody,
  DEFAULT_PAGE_SIZE,
  type StreamEvent,
  TASK_STATUSES,
  type Task,
  type TaskCounts,
  type TaskList,
  type TaskStatus,
  type TaskSummary,
} from 'proxy-client/wire';
import { type Api, ApiError } from './api.js';
import { byId, duration, h, time } from './dom.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Rows kept on the page as events add them, unless "more" loaded more; older ones fall off. */
const MOST_ROWS = 500;
/**
 * Events render the rows at most this often. A burst brings a few events per task, and a render
 * per event froze the page for seconds at a hundred tasks a second, when an operator looks.
 */
const RENDER_EVERY_MS = 250;

/**
 * How far a task has come: each start adds an attempt, and a retry's wait or a requeue comes
 * after the call before it. An event that ranks below the row it would replace is older than
 * the row (a page read after it), and is dropped.
 */
function progress(task: TaskSummary): number {
  if (task.status === 'pending') return task.attempts > 0 ? 2 * task.attempts : -2;
  return 2 * task.attempts + (task.status === 'processing' ? -1 : 1);
}

export function statusBadge(status: TaskStatus): HTMLElement {
  return h('span', { class: `status status-${status}` }, status);
}

/**
 * The task table: a page of `GET /tasks` (newest first, filtered by status), kept current by the
 * event stream, and a search by id (a whole id is looked up, a part filters the rows shown).
 */
export class TaskTable {
  readonly #api: Api;
  readonly #onOpen: (id: string, fromKeyboard: boolean) => void;
  readonly #body: HTMLTableSectionElement;
  readonly #filter = byId<HTMLSelectElement>('status-filter');
  readonly #search = byId<HTMLInputElement>('search');
  readonly #count = byId('count');
  readonly #empty = byId('empty');
  readonly #more = byId<HTMLButtonElement>('more');
  /** The rows, newest first, by id. */
  #tasks = new Map<string, TaskSummary>();
  #total = 0;
  /** Rows kept as events add new ones: MOST_ROWS, or as many as "more" has brought. */
  #kept = MOST_ROWS;
  #generation = 0;
  /** The rows are the one task a whole id named, not a page. */
  #lookedUp = false;
  /**
   * Events heard while a page is on its way, replayed over it once it comes: the page may have
   * been read before them, and would otherwise show those tasks as they were for good.
   */
  #heard: [StreamEvent, TaskSummary][] | null = null;
  #renderTimer: ReturnType<typeof setTimeout> | null = null;
  #renderedAt = -Infinity;
  /** Each task's row while the task is the same object: a render builds only changed rows. */
  #rows = new WeakMap<TaskSummary, HTMLTableRowElement>();

  constructor(api: Api, onOpen: (id: string, fromKeyboard: boolean) => void) {
    this.#api = api;
    this.#onOpen = onOpen;
    this.#body = byId<HTMLTableElement>('task-table').tBodies[0] as HTMLTableSectionElement;
    this.#filter.append(...TASK_STATUSES.map((status) => h('option', { value: status }, status)));
    this.#filter.addEventListener('change', () => void this.load());
    this.#search.addEventListener('input', () => {
      const text = this.#search.value.trim();
      // A part of an id filters the page shown, which a lookup of a whole id had replaced.
      if (UUID.test(text) || text === '' || this.#lookedUp) void this.load();
      else this.#render();
    });
    byId('controls').addEventListener('submit', (event) => event.preventDefault());
    this.#more.addEventListener('click', () => void this.#loadMore());
    this.#body.addEventListener('click', (event) => {
      const row = (event.target as Element).closest('tr');
      if (row?.dataset.id) this.#onOpen(row.dataset.id, false);
    });
    // A row takes the focus (Tab), so it opens as a button would: Enter or Space on the row
    // itself (a control inside a row keeps its own keys).
    this.#body.addEventListener('keydown', (event) => {
      const row = event.target as HTMLElement;
      if (row.tagName !== 'TR' || !row.dataset.id || event.repeat) return;
      if (event.key !== 'Enter' && event.key !== ' ') return;
      event.preventDefault();
      this.#onOpen(row.dataset.id, true);
    });
  }

  get #status(): TaskStatus | undefined {
    return (this.#filter.value || undefined) as TaskStatus | undefined;
  }

  /** Reads the first page afresh (or the one task a whole id names). */
  async load(): Promise<void> {
    const generation = ++this.#generation;
    this.#heard = [];
    try {
      const search = this.#search.value.trim();
      if (UUID.test(search)) {
        const task = await this.#api
          .json<DataBody<Task>>(`task/${search.toLowerCase()}`)
          .then((body) => body.data)
          .catch((error: unknown) => {
            if (error instanceof ApiError && error.status === 404) return null;
            throw error;
          });
        if (generation !== this.#generation) return;
        this.#tasks = new Map(task ? [[task.task_id, task]] : []);
        this.#total = this.#tasks.size;
        this.#lookedUp = true;
      } else {
        const page = await this.#page(0);
        if (generation !== this.#generation) return;
        this.#lookedUp = false;
        this.#kept = MOST_ROWS;
        this.#tasks = new Map(page.tasks.map((task) => [task.task_id, task]));
        this.#total = page.total;
      }
      for (const [type, task] of this.#heard ?? []) this.#merge(type, task);
      this.#render();
    } finally {
      if (generation === this.#generation) this.#heard = null;
    }
  }

  /** A transition from the event stream: the row changes, appears at the top, or leaves. */
  apply(type: StreamEvent, task: TaskSummary): void {
    this.#heard?.push([type, task]);
    this.#merge(type, task);
    this.#renderSoon();
  }

  #renderSoon(): void {
    if (this.#renderTimer !== null) return;
    const waitMs = Math.max(0, this.#renderedAt + RENDER_EVERY_MS - performance.now());
    this.#renderTimer = setTimeout(() => this.#render(), waitMs);
  }

  #merge(type: StreamEvent, task: TaskSummary): void {
    const search = this.#search.value.trim().toLowerCase();
    if (UUID.test(search) && task.task_id !== search) return;
    const current = this.#tasks.get(task.task_id);
    if (current && progress(task) < progress(current)) return;
    const status = this.#status;
    if (status !== undefined && task.status !== status) {
      if (current) {
        this.#tasks.delete(task.task_id);
        this.#total = Math.max(0, this.#total - 1);
      }
      return;
    }
    if (current) {
      this.#tasks.set(task.task_id, task);
      return;
    }
    // Unknown to the rows and not new: older than every row shown (it fell off the end, or was
    // never on the page), and already counted in the total.
    if (status === undefined && (type !== 'created' || !this.#newerThanRows(task))) return;
    // New to this view: a new task, or one that entered the filtered status, goes on top.
    this.#tasks = new Map([[task.task_id, task], ...this.#tasks]);
    this.#total++;
    for (const id of [...this.#tasks.keys()].slice(this.#kept)) this.#tasks.delete(id);
  }

  /**
   * Gives the focus to a task's row, if it is shown (the panel it opened has closed); scrolled to,
   * unless `preventScroll` (a render keeping it: the reader may have scrolled away).
   */
  focus(id: string, { preventScroll = false } = {}): void {
    this.#body
      .querySelector<HTMLElement>(`tr[data-id="${CSS.escape(id)}"]`)
      ?.focus({ preventScroll });
  }

  #newerThanRows(task: TaskSummary): boolean {
    const newest = this.#tasks.values().next().value;
    return newest === undefined || task.created_at >= newest.created_at;
  }

  /**
   * The store's counts from /stats: the total of the page's status. Events tell of the rows on
   * the page only; a task further down that leaves a filtered status changes the total unseen.
   */
  counted(counts: TaskCounts): void {
    if (this.#lookedUp || this.#heard !== null) return;
    const total = Math.max(counts[this.#status ?? 'total'], this.#tasks.size);
    if (total === this.#total) return;
    this.#total = total;
    this.#render();
  }

  async #loadMore(): Promise<void> {
    const page = await this.#page(this.#tasks.size);
    for (const task of page.tasks) this.#tasks.set(task.task_id, task);
    // Asked for, so kept: the next new task would have trimmed them back to MOST_ROWS.
    this.#kept = Math.max(MOST_ROWS, this.#tasks.size);
    this.#total = page.total;
    this.#render();
  }

  async #page(offset: number): Promise<TaskList> {
    const query = new URLSearchParams({ limit: String(DEFAULT_PAGE_SIZE), offset: String(offset) });
    if (this.#status) query.set('status', this.#status);
    return (await this.#api.json<DataBody<TaskList>>(`tasks?${query}`)).data;
  }

  #render(): void {
    if (this.#renderTimer !== null) clearTimeout(this.#renderTimer);
    this.#renderTimer = null;
    this.#renderedAt = performance.now();
    const search = this.#search.value.trim().toLowerCase();
    const partial = search !== '' && !UUID.test(search);
    const shown = [...this.#tasks.values()].filter(
      (task) => !partial || task.task_id.startsWith(search),
    );
    // A row taken out, even to be put back, loses the focus: a keyboard user's place would be
    // lost to every change of a task on the page, a few times a second under load.
    const focused = this.#body.contains(document.activeElement)
      ? (document.activeElement as HTMLElement).dataset.id
      : undefined;
    this.#body.replaceChildren(...shown.map((task) => this.#rowOf(task)));
    if (focused !== undefined) this.focus(focused, { preventScroll: true });
    this.#empty.hidden = shown.length > 0;
    this.#more.hidden = partial || UUID.test(search) || this.#tasks.size >= this.#total;
    this.#count.textContent = partial
      ? `${shown.length} of the ${this.#tasks.size} shown start with ${search}`
      : `${this.#tasks.size} of ${this.#total}`;
  }

  #rowOf(task: TaskSummary): HTMLTableRowElement {
    let element = this.#rows.get(task);
    if (!element) {
      element = row(task);
      this.#rows.set(task, element);
    }
    return element;
  }
}

function row(task: TaskSummary): HTMLTableRowElement {
  return h(
    'tr',
    { 'data-id': task.task_id, 'data-status': task.status, tabindex: '0' },
    h('td', { class: 'id', title: task.task_id }, task.task_id.slice(0, 8)),
    h('td', {}, statusBadge(task.status)),
    h('td', { class: 'request' }, h('span', { class: 'method' }, task.method), ' ', task.path),
    h('td', {}, time(task.created_at)),
    h('td', {}, duration(task.duration_ms)),
    h('td', {}, String(task.attempts)),
  );
}
