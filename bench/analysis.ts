/**
 * What the benchmark concludes, computed from the runs alone: ratios to the floors, the real CLI's checkpoint cost
 * and its --parallel sweep, and the targets as data rows `{ name, value, limit }` with the verdict `value <= limit`.
 * Pure functions of a `BenchResult`'s runs, so a script can recompute them from a recorded JSON file.
 */
import { CallCounts } from "../test/emulator/server";
import { accountsFor } from "./fleet";

export interface Run {
  part: "floor" | "host" | "e2e";
  /** floor: "set-only" | "same calls"; host: "provider" | "no-I/O" | "in memory"; e2e: "up" | "no-op up" | "preview". */
  scenario: string;
  engine?: "harness" | "pulumi";
  n: number;
  latencyMs: number;
  parallel: number;
  /** e2e on the real CLI: false with PULUMI_SKIP_CHECKPOINTS=true. */
  checkpoints?: boolean;
  wallMs: number;
  /** By process (client, host, driver, engine, program, emulator). */
  cpuMs: Record<string, number>;
  peakRssBytes?: number;
  /** Bytes the engine process wrote (wchar): the real CLI's checkpoints. */
  engineWrittenBytes?: number;
  calls?: CallCounts;
  stateBytes?: number;
  /** Mean bytes of one resource's inputs and outputs (compact JSON). */
  propertiesBytes?: number;
  resources?: number;
  providerBytes?: number;
  timedOut?: boolean;
  /** A measurement that failed: why (it counts in no figure). */
  error?: string;
}

export type Row = Record<string, string | number | undefined>;
export interface Target {
  name: string;
  value: number;
  limit: number;
  met: boolean;
}

type Filter = Partial<Pick<Run, "part" | "scenario" | "engine" | "n" | "latencyMs" | "parallel" | "checkpoints">>;
export const find = (runs: readonly Run[], filter: Filter): Run | undefined =>
  runs.find((run) => !run.error && Object.entries(filter).every(([key, value]) => run[key as keyof Run] === value));
const all = (runs: readonly Run[], filter: Filter) => runs.filter((run) => find([run], filter));
const sizes = (runs: readonly Run[]) => [...new Set(runs.map((r) => r.n))].sort((a, b) => a - b);

/** What is compared with the floors, at the run's concurrency C; `limit`: the target for its ratio to either floor. */
const compared = (C: number): { label: string; filter: Filter; limit?: number }[] => [
  { label: "provider host", filter: { part: "host", scenario: "provider", parallel: C }, limit: 1.2 },
  { label: `provider host, driver --parallel ${2 * C}`, filter: { part: "host", scenario: "provider", parallel: 2 * C } },
  { label: "e2e up, harness", filter: { engine: "harness", scenario: "up", parallel: C }, limit: 2 },
  { label: "e2e up, pulumi", filter: { engine: "pulumi", scenario: "up", checkpoints: true, parallel: C }, limit: 2 },
  { label: "e2e up, pulumi, no checkpoints", filter: { engine: "pulumi", scenario: "up", checkpoints: false, parallel: C } },
];

/** Wall time of each measurement over a floor's, by N, at one latency. */
export function ratios(runs: readonly Run[], latencyMs: number, C: number): Row[] {
  return ["set-only", "same calls"].flatMap((floor) =>
    compared(C).flatMap(({ label, filter }) => {
      const row: Row = { ratio: `${label} / floor ${floor}` };
      for (const n of sizes(runs)) {
        const [run, base] = [find(runs, { ...filter, n, latencyMs }), find(runs, { part: "floor", scenario: floor, n, latencyMs })];
        if (run && base && !run.timedOut) row[`N=${n}`] = run.wallMs / base.wallMs;
      }
      return Object.keys(row).length > 1 ? [row] : [];
    }),
  );
}

/** The real CLI's up with and without checkpoints: what the file backend's checkpoint after every step costs. */
export function checkpointCost(runs: readonly Run[], latencyMs: number, C: number): Row[] {
  return sizes(runs).flatMap((n) => {
    const on = find(runs, { engine: "pulumi", scenario: "up", checkpoints: true, n, latencyMs, parallel: C });
    const off = find(runs, { engine: "pulumi", scenario: "up", checkpoints: false, n, latencyMs, parallel: C });
    if (!on || !off) return [];
    // A run stopped at its time limit got `resources` steps done: the figures per step are over those.
    const steps = on.timedOut ? on.resources! : n;
    const offShare = steps / n;
    const stateBytesPerResource = off.stateBytes! / n;
    const engineCpuMs = on.cpuMs.engine - off.cpuMs.engine * offShare;
    // What the run without checkpoints writes too (the event log, the final state) is not a checkpoint.
    const checkpointBytes = on.engineWrittenBytes! - off.engineWrittenBytes! * offShare;
    return [
      {
        N: n,
        "steps done": `${steps}${on.timedOut ? ` of ${n} (stopped)` : ""}`,
        "up wall, checkpoints": on.wallMs,
        "up wall, none": off.wallMs,
        "wall per step": (on.wallMs - off.wallMs * offShare) / steps,
        "engine CPU per step": engineCpuMs / steps,
        "state B/res": stateBytesPerResource,
        "checkpoints wrote": checkpointBytes,
        // Checkpoint k holds k resources: W writes per step write W x steps^2 / 2 resources in all.
        "writes per step": (2 * checkpointBytes) / (stateBytesPerResource * steps * steps),
        "engine CPU per MiB written": engineCpuMs / (checkpointBytes / 2 ** 20),
      },
    ];
  });
}

/** The real CLI's up at each --parallel of the sweep, with and without checkpoints, over the same-calls floor. */
export function parallelSweep(runs: readonly Run[], latencyMs: number, n: number): Row[] {
  const ups = all(runs, { engine: "pulumi", scenario: "up", latencyMs });
  const floor = find(runs, { part: "floor", scenario: "same calls", n, latencyMs });
  return [...new Set(all(ups, { n }).map((r) => r.parallel))]
    .sort((a, b) => a - b)
    .map((parallel) => {
      const on = find(ups, { n, parallel, checkpoints: true });
      const off = find(ups, { n, parallel, checkpoints: false });
      return {
        N: n,
        "--parallel": parallel,
        "up wall, checkpoints": on?.timedOut ? `> ${(on.wallMs / 1000).toFixed(0)} s` : on?.wallMs,
        "up wall, none": off?.wallMs,
        "none / floor same calls": off && floor ? off.wallMs / floor.wallMs : undefined,
      };
    });
}

const target = (name: string, value: number, limit: number): Target => ({ name, value, limit, met: value <= limit });
const max = (values: number[]) => Math.max(0, ...values);

/** The provider's own overhead: host CPU of the provider with HTTP in memory over the no-I/O provider's. */
function overheadTargets(runs: readonly Run[]): Target[] {
  const cpu = (scenario: string, n: number) => find(runs, { part: "host", scenario, n })!.cpuMs.host;
  const ns = sizes(all(runs, { part: "host", scenario: "no-I/O" }));
  const [small, big] = [ns[0], ns[ns.length - 1]];
  const marginal = (scenario: string) => (cpu(scenario, big) - cpu(scenario, small)) / (big - small);
  return [
    ...ns.map((n) => target(`no I/O, N=${n}: host CPU, provider in memory / no-I/O provider`, cpu("in memory", n) / cpu("no-I/O", n), 1.5)),
    ...(ns.length > 1
      ? [target(`no I/O: marginal host CPU per operation, in memory / no-I/O`, marginal("in memory") / marginal("no-I/O"), 1.5)]
      : []),
  ];
}

/** What must hold at any speed: calls made, state written. */
function countTargets(runs: readonly Run[], providerBytes: number): Target[] {
  const e2e = all(runs, { part: "e2e" }).filter((r) => !r.timedOut);
  const ups = all(e2e, { scenario: "up" });
  const engines = [...new Set(ups.map((r) => r.engine!))];
  return [
    target("no-op up: set calls (most of any run)", max(all(e2e, { scenario: "no-op up" }).map((r) => r.calls!.set)), 0),
    target("preview: API calls (most of any run)", max(all(e2e, { scenario: "preview" }).map((r) => r.calls!.total)), 0),
    target("token fetches per up beyond one per account + 1", max(ups.map((r) => r.calls!.token - accountsFor(r.n) - 1)), 0),
    target("__provider bytes, as installed and in state", max([providerBytes, ...ups.map((r) => r.providerBytes ?? Infinity)]), 512),
    ...engines.map((engine) =>
      target(`state file bytes per resource, ${engine}`, max(all(ups, { engine }).map((r) => r.stateBytes! / r.n)), 1535),
    ),
  ];
}

/** The speed targets (ratios to the floors), then linearity: wall per resource at the largest N over the smallest. */
export function targets(runs: readonly Run[], latencyMs: number, C: number, providerBytes: number): Target[] {
  const ns = sizes(runs);
  const speed = compared(C).flatMap(({ label, filter, limit }) => {
    if (limit === undefined) return [];
    const ratioTargets = ["set-only", "same calls"].flatMap((floor) =>
      ns.flatMap((n) => {
        const [run, base] = [find(runs, { ...filter, n, latencyMs }), find(runs, { part: "floor", scenario: floor, n, latencyMs })];
        return run && base
          ? [target(`${latencyMs} ms, N=${n}: ${label} / floor ${floor}`, run.timedOut ? Infinity : run.wallMs / base.wallMs, limit)]
          : [];
      }),
    );
    const [a, b] = [ns[0], ns[ns.length - 1]].map((n) => find(runs, { ...filter, n, latencyMs }));
    const growth =
      a && b && a !== b
        ? [target(`${label}: wall per resource, N=${b.n} / N=${a.n}`, b.timedOut ? Infinity : b.wallMs / b.n / (a.wallMs / a.n), 1.25)]
        : [];
    return [...ratioTargets, ...growth];
  });
  return [...speed, ...overheadTargets(runs), ...countTargets(runs, providerBytes)];
}

/** What `npm run bench` writes to bench/results/<date>.json: the facts of the run, every measurement, the verdicts. */
export interface BenchResult {
  command: string;
  startedAt: string;
  benchMs: number;
  machine: { nproc: number; memoryGiB: number; cpu: string; node: string; os: string };
  loadAverage: { start: number[]; end: number[] };
  options: { n: number[]; latency: number[]; concurrency: number; engines: string[]; parallel: number[]; sweepN: number; timeoutS: number };
  project: { tarballBytes: number; installMs: number; providerBytes: number; providerText: string };
  runs: Run[];
  derived: { latencyMs: number; ratios: Row[]; checkpointCost: Row[]; parallelSweep: Row[] };
  targets: Target[];
}
