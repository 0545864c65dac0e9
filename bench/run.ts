/**
 * `npm run bench` (BENCHMARKS.md): every measurement against a freshly reset emulator, into a JSON result under
 * bench/results/, then printed (format.ts). It asserts nothing about time.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { RunEngineOptions } from "../test/harness";
import { FLEET_PROJECT, writeAccountsFile } from "../test/support/fleet";
import { Measured, Run, checkpointCost, parallelSweep, ratios, targets } from "./analysis";
import { EngineName, runE2e } from "./e2e";
import { accountEntries, stackFor, startEmulator } from "./emulator";
import { runFloorProcess } from "./floor";
import { formatResult } from "./format";
import { runHost } from "./host";
import { BenchProject, createProject } from "./project";

/** Every option and its default (lists are comma-separated); --timeout: seconds an end-to-end command may take. */
const OPTIONS = { n: "100,1000,3000", latency: "20", concurrency: "16", engines: "harness,pulumi", parallel: "8,16,32,64", timeout: "600" };

function parseOptions(args: string[]) {
  const spec = Object.entries(OPTIONS).map(([key, value]) => [key, { type: "string" as const, default: value }]);
  const raw = parseArgs({ args, options: Object.fromEntries(spec) }).values as typeof OPTIONS;
  const list = (text: string) => Array.from(text.split(","), Number).sort((a, b) => a - b);
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
type At = Pick<Run, "n" | "latencyMs">;
type E2eRun = At & Pick<Run, "scenario" | "parallel"> & { engine: EngineName; checkpoints: boolean };
/** A measurement to take: what it is, and the task that takes it; a warm-up is taken and not recorded. */
type Step = { run: Omit<Run, "wallMs" | "cpuMs">; task: () => Promise<Measured>; warmUp?: boolean };

/** Every measurement of the run, in order. */
function* plan(o: Options, project: BenchProject, baseUrl: string): Generator<Step> {
  const { dir, providerText: text } = project;
  const C = o.concurrency;
  const stack = (n: number) => stackFor(baseUrl, n, C);
  const floor = (at: At, mode: "set-only" | "same calls"): Step => ({
    run: { part: "floor", scenario: mode, ...at, parallel: C },
    task: () => runFloorProcess({ baseUrl, mode, n: at.n, concurrency: C }),
  });
  const host = (at: At, scenario: string, providerText: string, parallel: number): Step => ({
    run: { part: "host", scenario, ...at, parallel },
    task: () => runHost(project, providerText, at.n, parallel, stack(at.n)),
  });
  // Every up starts on a fresh backend; a no-op up and a preview run on the last up's.
  let backends = 0;
  const e2e = (run: E2eRun): Step => {
    const accountsFile = path.join(dir, `accounts-${run.n}.json`);
    writeAccountsFile(accountsFile, accountEntries(run.n));
    const { config, secrets } = stack(run.n);
    const engineOptions: RunEngineOptions & { engine: EngineName } = {
      command: run.scenario === "preview" ? "preview" : "up",
      cwd: dir,
      stack: "bench",
      engine: run.engine,
      parallel: run.parallel,
      transpileOnly: true,
      secrets,
      backendDir: path.join(dir, ".state", String(run.scenario === "up" ? ++backends : backends)),
      config: { ...config, [`${FLEET_PROJECT}:accountsFile`]: accountsFile },
      env: run.checkpoints ? {} : { PULUMI_SKIP_CHECKPOINTS: "true" },
    };
    const checkpoints = run.engine === "pulumi" ? run.checkpoints : undefined;
    return { run: { part: "e2e", ...run, checkpoints }, task: () => runE2e(engineOptions, o.timeoutS * 1000) };
  };

  // The first run of the real CLI loads its 100+ MB binary and looks its plugins up cold: an unrecorded preview first.
  const pulumi = o.engines.includes("pulumi");
  const warmUp: E2eRun = { scenario: "preview", n: o.n[0], latencyMs: 0, parallel: 1, engine: "pulumi", checkpoints: true };
  if (pulumi) yield { ...e2e(warmUp), warmUp: true };
  for (const latencyMs of o.latency) {
    for (const n of o.n) {
      const at = { n, latencyMs };
      yield floor(at, "set-only");
      yield floor(at, "same calls");
      // The real provider at C (and 2C, when there is latency to wait), and the two baselines at the first latency.
      yield host(at, "provider", text.real, C);
      if (latencyMs > 0) yield host(at, "provider", text.real, 2 * C);
      if (latencyMs === o.latency[0]) yield* [host(at, "no-I/O", text.noop, C), host(at, "in memory", text.inMemory, C)];
      // Each engine: up, no-op up and preview (the real CLI's without checkpoints: an up that finishes at any N), then
      // the real CLI's up with checkpoints on a fresh backend (which may reach its time limit).
      for (const engine of o.engines) {
        const e2eAt = { ...at, parallel: C, engine };
        yield e2e({ ...e2eAt, scenario: "up", checkpoints: engine === "harness" });
        yield e2e({ ...e2eAt, scenario: "no-op up", checkpoints: true });
        yield e2e({ ...e2eAt, scenario: "preview", checkpoints: true });
        if (engine === "pulumi") yield e2e({ ...e2eAt, scenario: "up", checkpoints: true });
      }
    }
  }
  // The sweep: the real CLI's up at each other --parallel, with and without checkpoints, at the last latency.
  const sweep = { scenario: "up", n: o.sweepN, latencyMs: o.latency[o.latency.length - 1], engine: "pulumi" } as const;
  for (const parallel of pulumi ? o.parallel.filter((p) => p !== C) : []) {
    for (const checkpoints of [false, true]) yield e2e({ ...sweep, parallel, checkpoints });
  }
}

/** Takes a step against a freshly reset emulator, with what the emulator saw; a task that fails is recorded with its error. */
async function measure(emulator: Awaited<ReturnType<typeof startEmulator>>, { run, task }: Step): Promise<Run> {
  process.stderr.write(`  ${run.latencyMs} ms, N=${run.n}: ${run.part} ${run.scenario} ${run.engine ?? ""} --parallel ${run.parallel}`);
  await emulator.ask(run.latencyMs);
  const started = performance.now();
  const failed = (e: Error): Measured => ({ wallMs: performance.now() - started, cpuMs: {}, error: e.message.slice(0, 2000) });
  const measured = await task().catch(failed);
  const { calls, cpuMs } = await emulator.ask();
  const note = measured.error ? ` FAILED: ${measured.error.split("\n")[0]}` : measured.timedOut ? " (stopped)" : "";
  process.stderr.write(`: ${(measured.wallMs / 1000).toFixed(1)} s${note}\n`);
  return { ...run, ...measured, cpuMs: { ...measured.cpuMs, emulator: cpuMs }, calls };
}

const loadAverage = () => fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);

/** What `npm run bench` writes to bench/results/<date>.json: the facts of the run, every measurement, what they come to. */
function resultOf(o: Options, project: BenchProject, runs: Run[], started: Date, loadStart: number[]) {
  // The tables and the targets are taken at the last latency.
  const latencyMs = o.latency[o.latency.length - 1];
  const C = o.concurrency;
  const providerBytes = Buffer.byteLength(project.providerText.real);
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
    project: { tarballBytes: project.tarballBytes, installMs: project.installMs, providerBytes, providerText: project.providerText.real },
    runs,
    derived: {
      latencyMs,
      ratios: ratios(runs, latencyMs, C),
      checkpointCost: checkpointCost(runs, latencyMs, C),
      parallelSweep: parallelSweep(runs, latencyMs, o.sweepN),
    },
    targets: targets(runs, latencyMs, C, providerBytes),
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
  const runs: Run[] = [];
  try {
    for (const step of plan(o, project, emulator.baseUrl)) {
      const run = await measure(emulator, step);
      if (!step.warmUp) runs.push(run);
    }
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
