import type { HealthBody } from 'proxy-client/wire';
import type { TaskBackend } from '../engine/task-backend.js';
import type { TargetProbe } from '../upstream/target-probe.js';
import type { Lifecycle } from './lifecycle.js';

/** `/health`: serving, and whether the target is reachable and the store works. */
export class HealthCheck {
  constructor(
    readonly targetUrl: string,
    readonly probe: TargetProbe,
    readonly backend: TaskBackend,
    readonly lifecycle: Lifecycle,
  ) {}

  async check(): Promise<HealthBody> {
    const [target, store] = await Promise.all([this.probe.probe(), this.backend.health()]);
    const healthy = target.reachable && store.available;
    return {
      success: true,
      status: this.lifecycle.shuttingDown ? 'shutting_down' : healthy ? 'ok' : 'degraded',
      target: {
        url: this.targetUrl,
        reachable: target.reachable,
        latency_ms: target.latencyMs,
        message: target.message,
      },
      store: { kind: this.backend.kind, available: store.available, message: store.message },
    };
  }
}
