/** What the runs come to, as pure functions of them (so also of a recorded result's): derived tables and targets. */
import { CallCounts } from "../test/emulator/server";
import { accountsFor } from "./emulator";

export type EngineName = "harness" | "pulumi";

/** One measurement, as the JSON result records it. */
export interface Run {
  part: "floor" | "host" | "e2e";
  /** floor: "set-only" | "same calls"; host: "provider" | "no-I/O" | "in memory"; e2e: "up" | "no-op up" | "preview". */
  scenario: string;
  engine?: EngineName;
  n: number;
  latencyMs: number;
  parallel: number;
  checkpoints?: boolean; // e2e on the real CLI: false with PULUMI_SKIP_CHECKPOINTS=true
  wallMs: number;
  cpuMs: Record<string, number>; // by process: client (the floor), host, driver, host start, engine, program, ...
  // The provider host's peak RSS; the bytes the engine process wrote (the real CLI's checkpoints).
  peakRssBytes?: number;
  engineWrittenBytes?: number;
  calls?: CallCounts;
  // e2e: the package's resources in the state; with up, the state file's bytes, the mean bytes of one resource's
  // inputs and outputs (compact JSON) and of its `__provider`.
  resources?: number;
  stateBytes?: number;
  propertiesBytes?: number;
  providerBytes?: number;
  // Stopped after --timeout seconds; a measurement that failed: why (it counts in no figure).
  timedOut?: boolean;
  error?: string;
}

/** A measurement to take: what it is (a filter picks runs by these fields). */
export type Planned = Pick<Run, "part" | "scenario" | "engine" | "n" | "latencyMs" | "parallel" | "checkpoints">;
/** What a part's task measures; the bench adds the rest. */
export type Measured = Partial<Run> & Pick<Run, "wallMs" | "cpuMs">;
export type Row = Record<string, string | number | undefined>;

type Filter = Partial<Planned>;
const all = (runs: readonly Run[], filter: Filter) =>
  runs.filter((run) => !run.error && Object.entries(filter).every(([key, value]) => run[key as keyof Run] === value));
const find = (runs: readonly Run[], filter: Filter): Run | undefined => all(runs, filter)[0];
export const ascending = (values: number[]) => [...new Set(values)].sort((a, b) => a - b);
const sizes = (runs: readonly Run[]) => ascending(runs.map((r) => r.n));
const FLOORS = ["set-only", "same calls"];

/** What is compared with the floors, at the run's concurrency C; `limit`: the target for its ratio to either floor. */
const compared = (C: number): { label: string; filter: Filter; limit?: number }[] => [
  { label: "provider host", filter: { part: "host", scenario: "provider", parallel: C }, limit: 1.2 },
  { label: `provider host, driver --parallel ${2 * C}`, filter: { part: "host", scenario: "provider", parallel: 2 * C } },
  { label: "e2e up, harness", filter: { engine: "harness", scenario: "up", parallel: C }, limit: 2 },
  { label: "e2e up, pulumi", filter: { engine: "pulumi", scenario: "up", checkpoints: true, parallel: C }, limit: 2 },
  { label: "e2e up, pulumi, no checkpoints", filter: { engine: "pulumi", scenario: "up", checkpoints: false, parallel: C } },
];

/** A measurement's wall time over a floor's at each N measured, at one latency: Infinity for one stopped at its time limit. */
function overFloor(runs: readonly Run[], filter: Filter, floor: string, latencyMs: number): { n: number; value: number }[] {
  return sizes(runs).flatMap((n) => {
    const [run, base] = [find(runs, { ...filter, n, latencyMs }), find(runs, { part: "floor", scenario: floor, n, latencyMs })];
    return run && base ? [{ n, value: run.timedOut ? Infinity : run.wallMs / base.wallMs }] : [];
  });
}

export function ratios(runs: readonly Run[], latencyMs: number, C: number): Row[] {
  return FLOORS.flatMap((floor) =>
    compared(C).flatMap(({ label, filter }) => {
      const cells = overFloor(runs, filter, floor, latencyMs).flatMap(({ n, value }) => (value === Infinity ? [] : [[`N=${n}`, value]]));
      return cells.length > 0 ? [{ ratio: `${label} / floor ${floor}`, ...Object.fromEntries(cells) }] : [];
    }),
  );
}

/** The real CLI's up with and without checkpoints: what the file backend's checkpoint after every step costs. */
export function checkpointCost(runs: readonly Run[], latencyMs: number, C: number): Row[] {
  return sizes(runs).flatMap((n) => {
    const up = { engine: "pulumi", scenario: "up", n, latencyMs, parallel: C } as const;
    const [on, off] = [true, false].map((checkpoints) => find(runs, { ...up, checkpoints }));
    if (!on || !off) return [];
    // A run stopped at its time limit got `resources` steps done: the figures per step are over those; and what the
    // run without checkpoints writes too (the event log, the final state) is not a checkpoint.
    const steps = on.timedOut ? on.resources! : n;
    const offShare = steps / n;
    const stateBytesPerResource = off.stateBytes! / n;
    const engineCpuMs = on.cpuMs.engine - off.cpuMs.engine * offShare;
    const checkpointBytes = on.engineWrittenBytes! - off.engineWrittenBytes! * offShare;
    return {
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
    };
  });
}

export function parallelSweep(runs: readonly Run[], latencyMs: number, n: number): Row[] {
  const ups = all(runs, { engine: "pulumi", scenario: "up", latencyMs, n });
  const floor = find(runs, { part: "floor", scenario: "same calls", n, latencyMs });
  return ascending(ups.map((r) => r.parallel)).map((parallel) => {
    const [on, off] = [true, false].map((checkpoints) => find(ups, { parallel, checkpoints }));
    return {
      N: n,
      "--parallel": parallel,
      "up wall, checkpoints": on?.timedOut ? `> ${(on.wallMs / 1000).toFixed(0)} s` : on?.wallMs,
      "up wall, none": off?.wallMs,
      "none / floor same calls": off && floor ? off.wallMs / floor.wallMs : undefined,
    };
  });
}

const target = (name: string, value: number, limit: number) => ({ name, value, limit, met: value <= limit });
const max = (values: number[]) => Math.max(0, ...values);

/**
 * Speed (ratios to the floors, and wall per resource at the largest N over the smallest), the provider's own overhead
 * (host CPU of the provider with HTTP in memory over the no-I/O provider's), and what must hold at any speed.
 */
export function targets(runs: readonly Run[], latencyMs: number, C: number, providerBytes: number) {
  const speed = compared(C).flatMap(({ label, filter, limit }) => {
    if (limit === undefined) return [];
    const ratioTargets = FLOORS.flatMap((floor) =>
      overFloor(runs, filter, floor, latencyMs).map(({ n, value }) =>
        target(`${latencyMs} ms, N=${n}: ${label} / floor ${floor}`, value, limit),
      ),
    );
    const [a, b] = [sizes(runs)[0], sizes(runs).pop()].map((n) => find(runs, { ...filter, n, latencyMs }));
    if (!a || !b || a === b) return ratioTargets;
    const growth = b.timedOut ? Infinity : b.wallMs / b.n / (a.wallMs / a.n);
    return [...ratioTargets, target(`${label}: wall per resource, N=${b.n} / N=${a.n}`, growth, 1.25)];
  });

  const hostCpu = (scenario: string, n: number) => find(runs, { part: "host", scenario, n })?.cpuMs.host ?? NaN;
  const overOwn = (n: number) => hostCpu("in memory", n) / hostCpu("no-I/O", n);
  const ns = sizes(all(runs, { part: "host", scenario: "no-I/O" }));
  const [small, big] = [ns[0], ns[ns.length - 1]];
  const marginal = (scenario: string) => (hostCpu(scenario, big) - hostCpu(scenario, small)) / (big - small);
  const overhead = ns.map((n) => target(`no I/O, N=${n}: host CPU, provider in memory / no-I/O provider`, overOwn(n), 1.5));
  const perOperation = () => marginal("in memory") / marginal("no-I/O");
  if (big > small) overhead.push(target("no I/O: marginal host CPU per operation, in memory / no-I/O", perOperation(), 1.5));

  const e2e = all(runs, { part: "e2e" }).filter((r) => !r.timedOut);
  const ups = all(e2e, { scenario: "up" });
  const engines = [...new Set(ups.map((r) => r.engine))];
  const perResource = (engine: Run["engine"]) => max(all(ups, { engine }).map((r) => r.stateBytes! / r.n));
  return [
    ...speed,
    ...overhead,
    target("no-op up: set calls (most of any run)", max(all(e2e, { scenario: "no-op up" }).map((r) => r.calls!.set)), 0),
    target("preview: API calls (most of any run)", max(all(e2e, { scenario: "preview" }).map((r) => r.calls!.total)), 0),
    target("token fetches per up beyond one per account + 1", max(ups.map((r) => r.calls!.token - accountsFor(r.n) - 1)), 0),
    target("__provider bytes, as installed and in state", max([providerBytes, ...ups.map((r) => r.providerBytes ?? Infinity)]), 512),
    ...engines.map((engine) => target(`state file bytes per resource, ${engine}`, perResource(engine), 1535)),
  ];
}
