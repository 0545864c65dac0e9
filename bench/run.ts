/**
 * `npm run bench`: what pulumi-wechat costs on top of the WeChat API calls it has to make.
 *
 * Against the emulator (its own process, on loopback), for N AuthorizerOption settings over ceil(N/3) accounts of one
 * third-party platform, with L ms added to every API call:
 *   1. floor: the HTTP calls made directly with got ("set-only", and "same calls" = what create makes by design);
 *   2. provider host: N Check+Create calls over gRPC into the real dynamic-provider host, in the installed project,
 *      beside a no-I/O provider and the real provider with its HTTP answered in memory;
 *   3. end to end: up, no-op up and preview of examples/platform-fleet through the engine harness and the real
 *      Pulumi CLI (with and without checkpoints, and an up for each --parallel of the sweep).
 * Measures into a JSON result (bench/results/<date>.json), then prints it (format.ts); it asserts nothing about time.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BenchResult, Run, checkpointCost, parallelSweep, ratios, targets } from "./analysis";
import { EngineName, runE2e } from "./e2e";
import { EmulatorProcess, Seen } from "./emulator";
import { accountsFileFor, accountsFor, settingsFor, stackConfig } from "./fleet";
import { FloorMode, runFloorProcess } from "./floor";
import { formatResult } from "./format";
import { runHost } from "./host";
import { BenchProject, createProject } from "./project";

/** Every option and its default; lists are comma-separated. */
const DEFAULTS = {
  n: "100,1000,3000",
  latency: "20",
  concurrency: "16",
  engines: "harness,pulumi",
  parallel: "8,16,32,64",
  timeout: "600",
};

/** --parallel: the real CLI's up is also measured at each value, at `sweepN`; --timeout: seconds an end-to-end command
 * may take before it is stopped (and reported with how far it got); --cpu-prof DIR: profile part 2's provider host. */
function parseArgs(argv: string[]) {
  const raw: Record<string, string> = { ...DEFAULTS };
  const usage = `options: ${Object.entries(DEFAULTS)
    .map(([k, v]) => `--${k} ${v}`)
    .join(" ")} --cpu-prof DIR`;
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (!(key in DEFAULTS || key === "cpu-prof") || argv[i + 1] === undefined) throw new Error(`unknown argument ${argv[i]} (${usage})`);
    raw[key] = argv[i + 1];
  }
  const list = (key: string) =>
    raw[key]
      .split(",")
      .map(Number)
      .sort((a, b) => a - b);
  const engines = raw.engines.split(",") as EngineName[];
  const [concurrency, timeoutS] = [Number(raw.concurrency), Number(raw.timeout)];
  const options = { n: list("n"), latency: list("latency"), concurrency, engines, parallel: list("parallel"), timeoutS };
  const numbers = [...options.n, ...options.latency, ...options.parallel, concurrency, timeoutS];
  if (numbers.some((v) => !Number.isInteger(v) || v < 0) || options.n[0] < 3 || engines.some((e) => e !== "harness" && e !== "pulumi")) {
    throw new Error(`--n takes 3 or more, every number is a whole number, --engines harness and/or pulumi (${usage})`);
  }
  return { ...options, cpuProfDir: raw["cpu-prof"] && path.resolve(raw["cpu-prof"]) };
}

/** The largest N up to 1000: where the --parallel sweep runs (the real CLI's checkpoints make larger ones slow). */
const sweepSize = (n: number[]) => [...n].reverse().find((v) => v <= 1000) ?? n[0];

type Options = ReturnType<typeof parseArgs>;

const loadAverage = () => fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);

function machine(): BenchResult["machine"] {
  const model = /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown";
  const osName = `${os.platform()} ${os.release()} ${os.arch()}`;
  return { nproc: os.availableParallelism(), memoryGiB: os.totalmem() / 1024 ** 3, cpu: model, node: process.version, os: osName };
}

/** Which engine, with or without checkpoints, on which of the backends of its N. */
type E2eRun = { engine: EngineName; checkpoints: boolean; backend: string };

/** One run of the bench: the project, the emulator, and every measurement taken so far. */
class Bench {
  readonly runs: Run[] = [];

  constructor(
    readonly options: Options,
    readonly project: BenchProject,
    readonly emulator: EmulatorProcess,
  ) {}

  /** Runs `task` against a freshly reset emulator and records it with what the emulator saw. */
  async measure(run: Omit<Run, "wallMs" | "cpuMs">, task: () => Promise<Partial<Run> & Pick<Run, "wallMs" | "cpuMs">>): Promise<void> {
    process.stderr.write(`  ${run.latencyMs} ms, N=${run.n}: ${run.part} ${run.scenario} ${run.engine ?? ""} --parallel ${run.parallel}`);
    await this.emulator.reset(run.latencyMs);
    const started = performance.now();
    // A measurement that fails is recorded with its error, and the bench goes on to the next one.
    const measured: Partial<Run> & Pick<Run, "wallMs" | "cpuMs"> = await task().catch((e: Error) => ({
      wallMs: performance.now() - started,
      cpuMs: {},
      error: e.message.slice(0, 2000),
    }));
    const seen: Seen = await this.emulator.seen();
    this.runs.push({ ...run, ...measured, cpuMs: { ...measured.cpuMs, emulator: seen.emulatorCpuMs }, calls: seen.calls });
    const note = measured.error ? ` FAILED: ${measured.error.split("\n")[0]}` : measured.timedOut ? " (stopped)" : "";
    process.stderr.write(`: ${(measured.wallMs / 1000).toFixed(1)} s${note}\n`);
  }

  /** What every measurement at N needs: the settings, and the stack configuration of their accounts. */
  workload(n: number) {
    const accounts = this.emulator.accounts.slice(0, accountsFor(n));
    return { accounts, settings: settingsFor(n, accounts), ...stackConfig(this.emulator.baseUrl, accounts, this.options.concurrency) };
  }
}

async function measureFloors(bench: Bench, latencyMs: number, n: number): Promise<void> {
  const { accounts, settings } = bench.workload(n);
  const C = bench.options.concurrency;
  for (const mode of ["set-only", "same calls"] as FloorMode[]) {
    await bench.measure({ part: "floor", scenario: mode, n, latencyMs, parallel: C }, () =>
      runFloorProcess({ baseUrl: bench.emulator.baseUrl, mode, settings, accounts, concurrency: C }),
    );
  }
}

async function measureHosts(bench: Bench, latencyMs: number, n: number, withBaselines: boolean): Promise<void> {
  const { settings, config, secrets } = bench.workload(n);
  const { project, options } = bench;
  const C = options.concurrency;
  const profile = options.cpuProfDir
    ? { NODE_OPTIONS: `--require ${path.join(__dirname, "cpuProfile.js")}`, BENCH_CPU_PROF_DIR: options.cpuProfDir }
    : undefined;
  const texts = project.providerText;
  const hosts = [
    { scenario: "provider", text: texts.real, parallel: C, env: profile },
    ...(latencyMs > 0 ? [{ scenario: "provider", text: texts.real, parallel: 2 * C, env: undefined }] : []),
    ...(withBaselines ? [{ scenario: "no-I/O", text: texts.noop, parallel: C, env: undefined }] : []),
    ...(withBaselines ? [{ scenario: "in memory", text: texts.inMemory, parallel: C, env: undefined }] : []),
  ];
  const base = { dir: project.dir, projectName: project.projectName, settings, config, secrets };
  for (const { scenario, text, parallel, env } of hosts) {
    await bench.measure({ part: "host", scenario, n, latencyMs, parallel }, () => runHost({ ...base, providerText: text, parallel, env }));
  }
}

/** One end-to-end command, on the backend named by `backend` (a fresh one for each new name). */
async function measureE2e(bench: Bench, run: Pick<Run, "scenario" | "n" | "latencyMs" | "parallel"> & E2eRun): Promise<void> {
  const { project, emulator, options } = bench;
  const { config, secrets } = bench.workload(run.n);
  const accountsFile = path.join(project.dir, `accounts-${run.n}.json`);
  fs.writeFileSync(accountsFile, accountsFileFor(run.n, emulator.accounts));
  const { backend, ...recorded } = run;
  await bench.measure({ part: "e2e", ...recorded, checkpoints: run.engine === "pulumi" ? run.checkpoints : undefined }, () =>
    runE2e(run.scenario === "preview" ? "preview" : "up", {
      ...run,
      dir: project.dir,
      backendDir: path.join(project.dir, ".state", `${run.engine}-${run.n}-${backend}`),
      config: { ...config, [`${project.projectName}:accountsFile`]: accountsFile },
      secrets,
      timeoutMs: options.timeoutS * 1000,
    }),
  );
}

/**
 * Part 3 at one N: up, no-op up and preview through each engine. The real CLI runs them without checkpoints (an up
 * that finishes at any N), then an up with checkpoints on a fresh backend (which may reach its time limit).
 */
async function measureEndToEnd(bench: Bench, latencyMs: number, n: number): Promise<void> {
  const parallel = bench.options.concurrency;
  for (const engine of bench.options.engines) {
    const at = { n, latencyMs, parallel, engine, backend: `${latencyMs}ms` };
    await measureE2e(bench, { ...at, scenario: "up", checkpoints: engine === "harness" });
    await measureE2e(bench, { ...at, scenario: "no-op up", checkpoints: true });
    await measureE2e(bench, { ...at, scenario: "preview", checkpoints: true });
    if (engine === "pulumi") await measureE2e(bench, { ...at, scenario: "up", checkpoints: true, backend: `${latencyMs}ms-checkpoints` });
  }
}

/** The real CLI's up at each --parallel of the sweep (C is measured already), with and without checkpoints. */
async function measureSweep(bench: Bench, latencyMs: number): Promise<void> {
  const at = { scenario: "up", n: sweepSize(bench.options.n), latencyMs, engine: "pulumi" } as const;
  for (const parallel of bench.options.parallel.filter((p) => p !== bench.options.concurrency)) {
    for (const checkpoints of [false, true]) {
      await measureE2e(bench, { ...at, parallel, checkpoints, backend: `${latencyMs}ms-sweep-${parallel}-${checkpoints}` });
    }
  }
}

async function measureAll(bench: Bench): Promise<void> {
  const { n: sizes, latency } = bench.options;
  // The first run of the real CLI loads its 100+ MB binary and looks its plugins up cold: an unrecorded preview first.
  if (bench.options.engines.includes("pulumi")) {
    const warmUp = { scenario: "preview", n: sizes[0], latencyMs: 0, parallel: 1, engine: "pulumi", checkpoints: true } as const;
    await measureE2e(bench, { ...warmUp, backend: "warm-up" });
    bench.runs.pop();
  }
  for (const latencyMs of latency) {
    for (const n of sizes) {
      await measureFloors(bench, latencyMs, n);
      await measureHosts(bench, latencyMs, n, latencyMs === latency[0]);
      await measureEndToEnd(bench, latencyMs, n);
    }
  }
  if (bench.options.engines.includes("pulumi")) await measureSweep(bench, latency[latency.length - 1]);
}

/** The facts of the run, its measurements, and what they come to (analysis.ts). */
function resultOf(options: Options, project: BenchProject, runs: Run[], at: { started: Date; loadStart: number[] }): BenchResult {
  const [latencyMs, C, sweepN] = [options.latency[options.latency.length - 1], options.concurrency, sweepSize(options.n)];
  const providerBytes = Buffer.byteLength(project.providerText.real);
  return {
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    startedAt: at.started.toISOString(),
    benchMs: Date.now() - at.started.getTime(),
    machine: machine(),
    loadAverage: { start: at.loadStart, end: loadAverage() },
    options: { ...options, sweepN },
    project: { tarballBytes: project.tarballBytes, installMs: project.installMs, providerBytes, providerText: project.providerText.real },
    runs,
    derived: {
      latencyMs,
      ratios: ratios(runs, latencyMs, C),
      checkpointCost: checkpointCost(runs, latencyMs, C),
      parallelSweep: parallelSweep(runs, latencyMs, sweepN),
    },
    targets: targets(runs, latencyMs, C, providerBytes),
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const started = new Date();
  const loadStart = loadAverage();
  process.stderr.write(`bench: load average ${loadStart.join(" ")}\n`);
  const project = createProject((line) => process.stderr.write(`${line}\n`));
  const emulator = await EmulatorProcess.start(accountsFor(Math.max(...options.n)));
  const bench = new Bench(options, project, emulator);
  try {
    await measureAll(bench);
  } finally {
    await emulator.stop();
    fs.rmSync(project.dir, { recursive: true, force: true });
  }
  const result = resultOf(options, project, bench.runs, { started, loadStart });
  const file = path.resolve(__dirname, "..", "..", "bench", "results", `${result.startedAt.slice(0, 16).replace(":", "-")}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(result, null, 1)}\n`);
  for (const line of formatResult(result)) console.log(line);
  console.log(`result: ${path.relative(process.cwd(), file)}`);
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
