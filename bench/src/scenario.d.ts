import type { RowSpec } from './aggregate.mjs';

export interface ScenarioContext {
  quick: boolean;
  /** Where proxy-server processes write CPU profiles, when profiling. */
  profileDir: string | undefined;
  /** Progress for the person running the benchmark (stderr). */
  log(message: string): void;
}

/** What a scenario holds between runs: its long-lived processes and how to take one sample. */
export interface ScenarioSession {
  /** Figures this machine or this proxy cannot produce, by measure, with the reason. */
  unavailable: Record<string, string>;
  /** One run: the scenario's measures by name. */
  runOnce(run: number): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export interface Scenario {
  id: string;
  title: string;
  /** The conditions in one line, for the report. */
  describe(quick: boolean): string;
  /** The report rows, which may depend on the mode (store sizes differ). */
  rows(quick: boolean): RowSpec[];
  start(ctx: ScenarioContext): Promise<ScenarioSession>;
}
