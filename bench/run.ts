/**
 * `npm run bench` (BENCHMARKS.md): every measurement against a freshly reset emulator, into a JSON result under
 * bench/results/, then printed (format.ts). It asserts nothing about time.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { EngineName, Measured, Planned, Run, ascending, checkpointCost, parallelSweep, ratios, targets } from "./analysis";
import { runE2e } from "./e2e";
import { stackFor, startEmulator } from "./emulator";
import { runFloorProcess } from "./floor";
import { formatResult } from "./format";
import { runHost } from "./host";
import { BenchProject, createProject } from "./project";

/** Every option and its default (lists are comma-separated); --timeout: seconds an end-to-end command may take. */
const OPTIONS = { n: "100,1000,3000", latency: "20", concurrency: "16", engines: "harness,pulumi", parallel: "8,16,32,64", timeout: "600" };

function parseOptions(args: string[]) {
  const spec = Object.entries(OPTIONS).map(([key, value]) => [key, { type: "string" as const, default: value }]);
  const raw = parseArgs({ args, options: Object.fromEntries(spec) }).values as typeof OPTIONS;
  const list = (text: string) => ascending(text.split(",").map(Number));
  const n = list(raw.n);
  const latency = list(raw.latency);
  const parallel = list(raw.parallel);
  const engines = raw.engines.split(",") as EngineName[];
  const [concurrency, timeoutS] = [Number(raw.concurrency), Number(raw.timeout)];
  const wrong = [...n, ...latency, ...parallel, concurrency, timeoutS].some((v) => !Number.isInteger(v) || v < 0) || n[0] < 3;
  if (wrong || !engines.every((e) => /^(harness|pulumi)$/.test(e)))
    throw new Error("every number is a whole number, --n 3 or more, --engines harness and/or pulumi");
  // The real CLI's --parallel sweep runs at the largest N up to 1000 (its checkpoints make larger ones slow).
  return { n, latency, concurrency, engines, parallel, timeoutS, sweepN: [...n].reverse().find((v) => v <= 1000) ?? n[0] };
}

type Options = ReturnType<typeof parseOptions>;

function* plan(o: Options): Generator<Planned> {
  const C = o.concurrency;
  for (const latencyMs of o.latency) {
    for (const n of o.n) {
      const at = { n, latencyMs, parallel: C };
      yield { part: "floor", scenario: "set-only", ...at };
      yield { part: "floor", scenario: "same calls", ...at };
      // The real provider at C (and 2C, when there is latency to wait), and the two baselines at the first latency.
      yield { part: "host", scenario: "provider", ...at };
      if (latencyMs > 0) yield { part: "host", scenario: "provider", ...at, parallel: 2 * C };
      if (latencyMs === o.latency[0]) for (const scenario of ["no-I/O", "in memory"]) yield { part: "host", scenario, ...at };
      // Each engine: up, no-op up and preview (the real CLI's without checkpoints: an up that finishes at any N), then
      // the real CLI's up with checkpoints on a fresh backend (which may reach its time limit).
      for (const engine of o.engines) {
        const e2e = (scenario: string, checkpoints?: boolean): Planned => ({ part: "e2e", scenario, ...at, engine, checkpoints });
        if (engine === "harness") yield* [e2e("up"), e2e("no-op up"), e2e("preview")];
        else yield* [e2e("up", false), e2e("no-op up", true), e2e("preview", true), e2e("up", true)];
      }
    }
  }
  const sweep = { part: "e2e", scenario: "up", n: o.sweepN, latencyMs: o.latency[o.latency.length - 1], engine: "pulumi" } as const;
  for (const parallel of o.engines.includes("pulumi") ? o.parallel.filter((p) => p !== C) : []) {
    for (const checkpoints of [false, true]) yield { ...sweep, parallel, checkpoints };
  }
}

const loadAverage = () => fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);

/** What `npm run bench` writes to bench/results/<date>.json: the facts of the run, every measurement, what they come to. */
function resultOf(o: Options, project: BenchProject, runs: Run[], started: Date, loadStart: number[]) {
  // The tables and the targets are taken at the last latency.
  const latencyMs = o.latency[o.latency.length - 1];
  const C = o.concurrency;
  return {
    command: ["npm run bench", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" "),
    startedAt: started.toISOString(),
    benchMs: Date.now() - started.getTime(),
    machine: {
      nproc: os.availableParallelism(),
      memoryGiB: os.totalmem() / 1024 ** 3,
      cpu: /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown",
      node: process.version,
      os: `${os.platform()} ${os.release()} ${os.arch()}`,
    },
    loadAverage: { start: loadStart, end: loadAverage() },
    options: o,
    project: project.recorded,
    runs,
    derived: {
      latencyMs,
      ratios: ratios(runs, latencyMs, C),
      checkpointCost: checkpointCost(runs, latencyMs, C),
      parallelSweep: parallelSweep(runs, latencyMs, o.sweepN),
    },
    targets: targets(runs, latencyMs, C, project.recorded.providerBytes),
  };
}
export type BenchResult = ReturnType<typeof resultOf>;

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const started = new Date();
  const loadStart = loadAverage();
  process.stderr.write(`bench: load average ${loadStart.join(" ")}\n`);
  const project = createProject();
  const emulator = await startEmulator(Math.max(...o.n));
  const stack = (n: number) => stackFor(emulator.baseUrl, n, o.concurrency);
  // Every up starts on a fresh backend; a no-op up and a preview run on the last up's.
  let backends = 0;
  const backendFor = (run: Planned) => path.join(project.dir, ".state", String(run.scenario === "up" ? ++backends : backends));
  const tasks: Record<Planned["part"], (run: Planned) => Promise<Measured>> = {
    floor: (run) => runFloorProcess(run, emulator.baseUrl),
    host: (run) => runHost(run, project, stack(run.n)),
    e2e: (run) => runE2e(run, project.dir, backendFor(run), stack(run.n), o.timeoutS * 1000),
  };
  const measure = async (run: Planned): Promise<Run> => {
    process.stderr.write(`  ${run.latencyMs} ms, N=${run.n}: ${run.part} ${run.scenario} ${run.engine ?? ""} --parallel ${run.parallel}`);
    await emulator.ask(run.latencyMs);
    const started = performance.now();
    const failed = (e: Error): Measured => ({ wallMs: performance.now() - started, cpuMs: {}, error: e.message.slice(0, 2000) });
    const measured = await tasks[run.part](run).catch(failed);
    const { calls, cpuMs } = await emulator.ask();
    const note = measured.error ? ` FAILED: ${measured.error.split("\n")[0]}` : measured.timedOut ? " (stopped)" : "";
    process.stderr.write(`: ${(measured.wallMs / 1000).toFixed(1)} s${note}\n`);
    return { ...run, ...measured, cpuMs: { ...measured.cpuMs, emulator: cpuMs }, calls };
  };
  const runs: Run[] = [];
  try {
    // The first run of the real CLI loads its 100+ MB binary and looks its plugins up cold: an unrecorded preview first.
    const warmUp = { part: "e2e", scenario: "preview", engine: "pulumi", n: o.n[0], latencyMs: 0, parallel: 1, checkpoints: true } as const;
    if (o.engines.includes("pulumi")) await measure(warmUp);
    for (const run of plan(o)) runs.push(await measure(run));
  } finally {
    emulator.stop();
    fs.rmSync(project.dir, { recursive: true, force: true });
  }
  const result = resultOf(o, project, runs, started, loadStart);
  const file = path.resolve(__dirname, "..", "..", "bench", "results", `${result.startedAt.slice(0, 16).replace(":", "-")}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(result, null, 1)}\n`);
  for (const line of formatResult(result)) console.log(line);
  console.log(`result: ${path.relative(process.cwd(), file)}`);
}

void main(); // a failure is an unhandled rejection: Node.js prints it and exits with 1
