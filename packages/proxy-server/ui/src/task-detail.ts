import { type DataBody, isTerminalStatus, type SubmitBody, type Task } from 'proxy-client/wire';
import type { Api } from './api.js';
import { byId, bytes, type Child, duration, h, time } from './dom.js';
import { statusBadge } from './task-table.js';

/** Bodies larger than this are offered as a download rather than shown. */
const SHOWN_BYTES = 256 * 1024;

const EXTENSIONS: Record<string, string> = {
  'application/json': '.json',
  'text/plain': '.txt',
  'text/html': '.html',
  'text/csv': '.csv',
  'application/pdf': '.pdf',
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'application/zip': '.zip',
};

/**
 * One task, beside the table: its request, times and outcome, the target's answer (JSON
 * pretty-printed, text as it is, binary as a download of `GET /task/:id/result`), and cancel or
 * retry as its status allows.
 */
export class TaskDetail {
  readonly #api: Api;
  readonly #panel = byId('detail');
  readonly #report: (message: string) => void;
  readonly #onClose: (id: string) => void;
  #id: string | null = null;
  #generation = 0;
  /** The task whose next render takes the focus: it was opened from the keyboard. */
  #focusFor: string | null = null;
  /** Actions under way, by name and task: a render in between keeps their buttons busy. */
  readonly #busy = new Set<string>();

  /** `onClose` is given the task's id when the panel closes with the focus in it. */
  constructor(api: Api, report: (message: string) => void, onClose: (id: string) => void) {
    this.#api = api;
    this.#report = report;
    this.#onClose = onClose;
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.#id !== null) this.close();
    });
  }

  get openId(): string | null {
    return this.#id;
  }

  /** Shows a task; `focus` moves the keyboard into the panel, as a dialog's opening would. */
  async open(id: string, { focus = false } = {}): Promise<void> {
    this.#id = id;
    // A read again (an event) keeps a keyboard open's claim; another task's open ends it.
    if (focus) this.#focusFor = id;
    else if (this.#focusFor !== id) this.#focusFor = null;
    const generation = ++this.#generation;
    const task = (await this.#api.json<DataBody<Task>>(`task/${id}`)).data;
    if (generation !== this.#generation || this.#id !== id) return;
    this.#render(task);
  }

  /** Reads the open task again (an event said it changed). */
  refresh(): void {
    if (this.#id !== null)
      void this.open(this.#id).catch((error: Error) => this.#report(error.message));
  }

  close(): void {
    const id = this.#id;
    const hadFocus = this.#panel.contains(document.activeElement);
    this.#id = null;
    this.#generation++;
    this.#focusFor = null;
    this.#panel.hidden = true;
    this.#panel.replaceChildren();
    document.body.classList.remove('detail-open');
    if (id !== null && hadFocus) this.#onClose(id);
  }

  #render(task: Task): void {
    // Rebuilt as the task changes: the focus goes back to the same control, or to the panel.
    const focusedAction = this.#panel.contains(document.activeElement)
      ? ((document.activeElement as HTMLElement).dataset.action ?? '')
      : undefined;
    const link = (id: string | null) =>
      id === null
        ? null
        : h('button', { type: 'button', class: 'link', 'data-open': id }, id.slice(0, 8));
    const field = (name: string, ...value: Child[]) => [h('dt', {}, name), h('dd', {}, ...value)];
    const actions = h('div', { class: 'actions' });
    const id = task.task_id;
    if (!isTerminalStatus(task.status)) {
      actions.append(this.#button('cancel', 'Cancel', id, () => this.#cancel(id)));
    } else {
      actions.append(this.#button('retry', 'Retry', id, () => this.#retry(id)));
    }
    if (task.result) {
      actions.append(this.#button('download', 'Download result', id, () => this.#download(task)));
    }
    actions.append(this.#button('close', 'Close', id, () => this.close()));

    this.#panel.replaceChildren(
      h('header', {}, h('h2', { class: 'id' }, task.task_id), statusBadge(task.status)),
      actions,
      h('h3', {}, 'request'),
      h('p', { class: 'request' }, h('span', { class: 'method' }, task.method), ' ', task.path),
      h(
        'dl',
        {},
        ...field('created', time(task.created_at)),
        ...field('started', time(task.started_at)),
        ...field('finished', time(task.completed_at)),
        ...field('waited', duration(task.queue_ms)),
        ...field('processing', duration(task.duration_ms), task.is_long_task ? ' (long)' : ''),
        ...field('attempts', `${task.attempts} of ${task.max_attempts}`),
        ...(task.next_attempt_at ? field('next attempt', time(task.next_attempt_at)) : []),
        ...field('priority', task.priority),
        ...(task.tenant !== null ? field('tenant', task.tenant) : []),
        ...(task.deadline_at ? field('start by', time(task.deadline_at)) : []),
        ...(task.callback
          ? field('callback', `${task.callback.state} · ${task.callback.url}`)
          : []),
        ...(task.queue_position !== null
          ? field('queue position', String(task.queue_position))
          : []),
        ...(task.queue_position !== null && task.estimated_start_at
          ? field('expected start', time(task.estimated_start_at))
          : []),
        ...(task.retry_of ? field('retry of', link(task.retry_of)) : []),
        ...(task.retried_as ? field('retried as', link(task.retried_as)) : []),
      ),
      ...(task.error
        ? [h('p', { class: 'error' }, h('strong', {}, task.error.code), ': ', task.error.message)]
        : []),
      ...(task.result ? result(task.result) : []),
    );
    for (const button of this.#panel.querySelectorAll<HTMLButtonElement>('[data-open]')) {
      button.addEventListener('click', () => void this.open(button.dataset.open as string));
    }
    this.#panel.hidden = false;
    document.body.classList.add('detail-open');
    if (this.#focusFor === task.task_id || focusedAction !== undefined) {
      this.#focusFor = null;
      const action = focusedAction
        ? this.#panel.querySelector<HTMLElement>(`[data-action="${focusedAction}"]`)
        : null;
      (action ?? this.#panel).focus();
    }
  }

  /**
   * A button busy while its action runs: marked `aria-disabled`, not `disabled`, which takes the
   * focus from it (a keyboard that pressed Cancel was left on the page's body). The mark is kept
   * by action and task, so a render while it runs (an event) draws the new button busy too.
   */
  #button(
    name: string,
    label: string,
    id: string,
    action: () => Promise<void> | void,
  ): HTMLButtonElement {
    const key = `${name} ${id}`;
    const button = h(
      'button',
      {
        type: 'button',
        'data-action': name,
        'aria-disabled': this.#busy.has(key) ? 'true' : undefined,
      },
      label,
    );
    button.addEventListener('click', () => {
      if (this.#busy.has(key)) return;
      this.#busy.add(key);
      button.setAttribute('aria-disabled', 'true');
      Promise.resolve(action())
        .catch((error: Error) => this.#report(error.message))
        .finally(() => {
          this.#busy.delete(key);
          button.removeAttribute('aria-disabled');
        });
    });
    return button;
  }

  async #cancel(id: string): Promise<void> {
    const task = (await this.#api.json<DataBody<Task>>(`task/${id}`, { method: 'DELETE' })).data;
    if (this.#id === id) this.#render(task);
  }

  async #retry(id: string): Promise<void> {
    const answer = await this.#api.json<SubmitBody | DataBody<Task>>(`task/${id}/retry`, {
      method: 'POST',
    });
    const newId = 'task_id' in answer ? answer.task_id : answer.data.task_id;
    this.#report(`Retried as ${newId.slice(0, 8)}`);
    await this.open(newId);
  }

  async #download(task: Task): Promise<void> {
    const { blob, type } = await this.#api.result(task.task_id);
    const extension = EXTENSIONS[type.split(';')[0]?.trim() ?? ''] ?? '.bin';
    const url = URL.createObjectURL(blob);
    const anchor = h('a', { href: url, download: `task-${task.task_id}${extension}` });
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}

function result(answer: NonNullable<Task['result']>): Node[] {
  const headers = Object.entries(answer.headers).map(([name, value]) =>
    h('tr', {}, h('th', {}, name), h('td', {}, Array.isArray(value) ? value.join(', ') : value)),
  );
  let body: Node;
  if (answer.body_bytes > SHOWN_BYTES) {
    body = h('p', { class: 'body large' }, `${bytes(answer.body_bytes)}: use Download result`);
  } else if (answer.body_encoding === 'json') {
    body = h('pre', { class: 'body json' }, JSON.stringify(answer.body, null, 2));
  } else if (answer.body_encoding === 'text') {
    body = h('pre', { class: 'body text' }, String(answer.body));
  } else {
    body = h(
      'p',
      { class: 'body binary' },
      `binary, ${bytes(answer.body_bytes)}: use Download result`,
    );
  }
  return [
    h('h3', {}, 'result ', h('span', { class: 'code' }, String(answer.status_code))),
    h(
      'details',
      {},
      h('summary', {}, `${headers.length} headers`),
      h('table', { class: 'headers' }, ...headers),
    ),
    body,
  ];
}
