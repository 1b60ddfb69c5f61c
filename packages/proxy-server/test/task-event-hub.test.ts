import { describe, expect, it } from 'vitest';
import type {
  SubscribeOptions,
  TaskBackend,
  TaskEventListener,
  TransitionEvent,
} from '../src/engine/task-backend.js';
import { TaskEventHub } from '../src/events/task-event-hub.js';

/** The part of a backend the hub uses: subscriptions, recorded with their options. */
function fakeBackend() {
  const open = new Map<TaskEventListener, SubscribeOptions | undefined>();
  const backend = {
    subscribe(listener: TaskEventListener, options?: SubscribeOptions) {
      open.set(listener, options);
      return { complete: true, close: () => open.delete(listener) };
    },
  };
  const tell = (event: TransitionEvent) => {
    for (const listener of open.keys()) listener(event);
  };
  return { backend: backend as unknown as TaskBackend, open, tell };
}

function eventFor(taskId: string): TransitionEvent {
  return {
    id: `b-${taskId}`,
    type: 'started',
    task: { id: taskId } as TransitionEvent['task'],
    local: true,
  };
}

describe('TaskEventHub', () => {
  it('subscribes to the backend as resumable only while a stream is open', () => {
    const { backend, open } = fakeBackend();
    const hub = new TaskEventHub(backend, () => {});
    expect(open.size).toBe(0);
    const stopAll = hub.watchAll(
      () => {},
      () => {},
    );
    const stopOne = hub.watchTask('a', () => {});
    expect([...open.values()]).toEqual([{ resumable: true, onMissed: expect.any(Function) }]);
    stopAll();
    expect(open.size).toBe(1);
    stopOne();
    stopOne();
    expect(open.size).toBe(0);
    expect(hub.size).toBe(0);
    hub.watchAll(
      () => {},
      () => {},
    );
    expect(open.size).toBe(1);
    hub.close();
    expect(open.size).toBe(0);
    hub.watchAll(
      () => {},
      () => {},
    );
    expect(open.size).toBe(0);
  });

  it("tells a task's streams only its own events and the all-tasks streams every event", () => {
    const { backend, tell } = fakeBackend();
    const hub = new TaskEventHub(backend, () => {});
    const heard: string[] = [];
    hub.watchAll(
      (event) => heard.push(`all ${event.task.id}`),
      () => {},
    );
    hub.watchTask('a', (event) => heard.push(`a ${event.task.id}`));
    tell(eventFor('a'));
    tell(eventFor('b'));
    expect(heard).toEqual(['all a', 'a a', 'all b']);
  });

  it('reports a stream that throws and goes on telling the others', () => {
    const { backend, tell } = fakeBackend();
    const errors: unknown[] = [];
    const hub = new TaskEventHub(backend, (error) => errors.push(error));
    hub.watchTask('a', () => {
      throw new Error('broken stream');
    });
    tell(eventFor('a'));
    expect(errors).toEqual([new Error('broken stream')]);
    const heard: string[] = [];
    hub.watchAll(
      (event) => heard.push(event.task.id),
      () => {},
    );
    tell(eventFor('b'));
    expect(heard).toEqual(['b']);
  });

  it('tells the all-tasks streams, not the task streams, when the backend lost events', () => {
    const { backend, open } = fakeBackend();
    const hub = new TaskEventHub(backend, () => {});
    const told: string[] = [];
    hub.watchAll(
      () => {},
      () => told.push('all 1'),
    );
    const stop = hub.watchAll(
      () => {},
      () => told.push('all 2'),
    );
    hub.watchTask('a', () => {});
    stop();
    for (const options of open.values()) options?.onMissed?.();
    expect(told).toEqual(['all 1']);
  });
});
