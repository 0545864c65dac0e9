/**
 * `npm run bench`: what pulumi-wechat costs on top of the WeChat API calls it has to make.
 *
 * Against the emulator (in its own process, on loopback), for N AuthorizerOption settings over ceil(N/3) accounts of
 * one third-party platform, with no added latency and with L ms added to every API call:
 *   1. floor: the HTTP calls made directly with got ("set-only", and "same calls" = what create makes by design);
 *   2. provider host: N Check+Create calls over gRPC into the real dynamic-provider host, in the installed project;
 *   3. end to end: up, no-op up and preview of the example program through the engine harness.
 * Prints figures and whether each target is met; it asserts nothing about time.
 *
 * Options: --n 100,1000  --latency 0,20  --concurrency 16  --cpu-prof DIR (profile the provider host of part 2)
 */
import { ChildProcess, fork } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { E2eResult, runE2e, backendDirFor } from "./e2e";
import { Account, accountsFor, platformConfig, settingsFor } from "./fleet";
import { FloorMode, FloorResult } from "./floor";
import { runFloorProcess } from "./floorProcess";
import { HostResult, runHost } from "./hostRun";
import { createProject, removeProject, repositoryLayoutProviderBytes, writeAccountsFile } from "./project";

interface Counts {
  set: number;
  get: number;
  token: number;
  total: number;
}

/** What the emulator saw during one measurement: calls by kind, and its own CPU time. */
interface Seen {
  counts: Counts;
  emulatorCpuMs: number;
}

// ---- the emulator process ----------------------------------------------------------------------------------------

class Emulator {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (message: Record<string, unknown>) => void; reject: (error: Error) => void }>();
  private exited = false;
  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
    readonly accounts: Account[],
  ) {
    child.on("message", (message: Record<string, unknown>) => {
      const waiting = this.pending.get(message.id as number);
      this.pending.delete(message.id as number);
      waiting?.resolve(message);
    });
    child.on("exit", (code) => {
      this.exited = true;
      for (const waiting of this.pending.values()) waiting.reject(new Error(`the emulator exited (${code})`));
      this.pending.clear();
    });
  }

  static start(accounts: number): Promise<Emulator> {
    const child = fork(path.join(__dirname, "emulatorProcess.js"), [String(accounts)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    return new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`the emulator exited (${code}) before it was ready`)));
      child.once("message", (message: { ready: string; accounts: Account[] }) =>
        resolve(new Emulator(child, message.ready, message.accounts)),
      );
    });
  }

  private ask(op: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error("the emulator is not running"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, op, ...extra });
    });
  }

  /** Options back to "0", tokens forgotten, counters cleared, latency set. */
  async reset(latencyMs: number): Promise<void> {
    await this.ask("reset");
    await this.ask("latency", { ms: latencyMs });
  }

  async snapshot(): Promise<{ counts: Counts; cpuMs: number }> {
    const answer = await this.ask("counts");
    const cpu = answer.cpu as NodeJS.CpuUsage;
    return { counts: answer.counts as Counts, cpuMs: (cpu.user + cpu.system) / 1000 };
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    await Promise.race([this.ask("stop").catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
  }
}

// ---- formatting --------------------------------------------------------------------------------------------------

const ms = (v: number) => (v >= 10000 ? `${(v / 1000).toFixed(1)} s` : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`);
const per = (v: number, n: number) => `${(v / n).toFixed(2)} ms`;
const mib = (bytes: number) => (bytes ? `${(bytes / 1024 / 1024).toFixed(0)} MiB` : "-");
const x = (v: number) => `${v.toFixed(2)}x`;
const verdict = (ok: boolean) => (ok ? "MET   " : "MISSED");

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

interface Options {
  n: number[];
  latency: number[];
  concurrency: number;
  cpuProfDir?: string;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { n: [100, 1000], latency: [0, 20], concurrency: 16 };
  for (let i = 0; i < argv.length; i++) {
    const list = () => (argv[++i] ?? "").split(",").map(Number);
    switch (argv[i]) {
      case "--n":
        options.n = list();
        break;
      case "--latency":
        options.latency = list();
        break;
      case "--concurrency":
        options.concurrency = Number(argv[++i]);
        break;
      case "--cpu-prof":
        options.cpuProfDir = path.resolve(argv[++i] ?? "bench-profiles");
        break;
      default:
        throw new Error(`unknown argument ${argv[i]} (options: --n 100,1000 --latency 0,20 --concurrency 16 --cpu-prof DIR)`);
    }
  }
  const bad = (v: number, min: number, max: number) => !Number.isInteger(v) || v < min || v > max;
  if (options.n.some((n) => bad(n, 3, 3000)) || options.latency.some((l) => bad(l, 0, 1000)) || bad(options.concurrency, 1, 512)) {
    throw new Error("--n takes 3..3000, --latency 0..1000 ms, --concurrency 1..512");
  }
  options.n.sort((a, b) => a - b);
  options.latency.sort((a, b) => a - b);
  return options;
}

function machine(): string {
  const cpuinfo = fs.readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? "unknown";
  return (
    `machine: nproc ${os.availableParallelism()}, memory ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB, CPU "${model}", ` +
    `Node.js ${process.version}, ${os.platform()} ${os.release()} ${os.arch()}`
  );
}

const loadAverage = () => fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

// ---- the run -----------------------------------------------------------------------------------------------------

type Measured<T> = T & Seen;

interface Cell {
  floor: Record<FloorMode, Measured<FloorResult>>;
  host: Measured<HostResult>;
  /** The host again with the driver at twice the parallelism (latency > 0 only). */
  hostWide?: Measured<HostResult>;
  up: Measured<E2eResult>;
  noopUp: Measured<E2eResult>;
  preview: Measured<E2eResult>;
}

/** The whole run is bounded: a bench that hangs (a process that never answers) ends with an error instead. */
const RUN_TIMEOUT_MS = 20 * 60 * 1000;

async function main(): Promise<void> {
  setTimeout(() => {
    console.error(`bench: no result after ${RUN_TIMEOUT_MS / 60000} minutes; giving up`);
    process.exit(1);
  }, RUN_TIMEOUT_MS).unref();
  const options = parseArgs(process.argv.slice(2));
  const C = options.concurrency;
  const started = Date.now();
  const out = (line = "") => console.log(line);
  const progress = (text: string) => process.stderr.write(text);
  out("pulumi-wechat benchmark (npm run bench)");
  out(machine());
  const loadAtStart = loadAverage();
  out(
    `load average at start: ${loadAtStart}${Number(loadAtStart.split(" ")[0]) > os.availableParallelism() / 2 ? "  (busy machine: wall times are inflated)" : ""}`,
  );
  out(
    `concurrency C = ${C}: floor ${C} requests in flight; harness --parallel ${C}; gRPC driver ${C} resources in flight; wechat:maxConcurrency ${C}`,
  );
  out(`workload: N AuthorizerOption settings (each "0" -> "1", so every set is sent) over ceil(N/3) accounts of one third-party platform`);

  const project = createProject((line) => progress(`${line}\n`));
  const cells = new Map<string, Cell>();
  const noIo = new Map<number, { noop: HostResult; stub: HostResult }>();
  let emulator: Emulator | undefined;
  try {
    const emu = (emulator = await Emulator.start(accountsFor(Math.max(...options.n))));
    out(
      `project: npm pack -> ${path.basename(project.tarball)} (${project.tarballBytes} bytes), npm install'ed with @pulumi/pulumi in ${ms(project.installMs)}`,
    );
    out(`emulator: ${emu.baseUrl} in its own process, ${emu.accounts.length} accounts`);

    const measured = async <T>(latency: number, run: () => Promise<T>): Promise<Measured<T>> => {
      await emu.reset(latency);
      const before = await emu.snapshot();
      const result = await run();
      const after = await emu.snapshot();
      return { ...result, counts: after.counts, emulatorCpuMs: after.cpuMs - before.cpuMs };
    };

    for (const latency of options.latency) {
      for (const n of options.n) {
        const accounts = emu.accounts.slice(0, accountsFor(n));
        const settings = settingsFor(n, accounts);
        const { config, secrets } = platformConfig(emu.baseUrl, accounts, C);
        progress(`latency ${latency} ms, N=${n}: floors`);
        const floor = {
          "set-only": await measured(latency, () =>
            runFloorProcess({ baseUrl: emu.baseUrl, mode: "set-only", settings, accounts, concurrency: C }),
          ),
          "same calls": await measured(latency, () =>
            runFloorProcess({ baseUrl: emu.baseUrl, mode: "same calls", settings, accounts, concurrency: C }),
          ),
        };
        progress(", provider host");
        const hostOptions = { dir: project.dir, projectName: project.projectName, settings, parallel: C, config, secrets, optionValue: 1 };
        const profile = options.cpuProfDir
          ? { env: { NODE_OPTIONS: `--require ${path.join(__dirname, "cpuProfile.js")}`, BENCH_CPU_PROF_DIR: options.cpuProfDir } }
          : {};
        const host = await measured(latency, () => runHost({ ...hostOptions, ...profile, providerText: project.providerText }));
        let hostWide: Measured<HostResult> | undefined;
        if (latency > 0) {
          progress(`, provider host --parallel ${2 * C}`);
          hostWide = await measured(latency, () => runHost({ ...hostOptions, parallel: 2 * C, providerText: project.providerText }));
        }
        if (!noIo.has(n)) {
          progress(", no-I/O providers");
          noIo.set(n, {
            noop: await runHost({ ...hostOptions, providerText: project.noopProviderText }),
            stub: await runHost({ ...hostOptions, providerText: project.stubbedProviderText }),
          });
        }
        progress(", up");
        const accountsFile = writeAccountsFile(project, n, accounts);
        const e2eOptions = {
          dir: project.dir,
          backendDir: backendDirFor(project.dir, n, latency),
          config: { ...config, [`${project.projectName}:accountsFile`]: accountsFile },
          secrets,
          parallel: C,
        };
        const up = await measured(latency, () => runE2e("up", e2eOptions));
        progress(", no-op up");
        const noopUp = await measured(latency, () => runE2e("up", e2eOptions));
        progress(", preview\n");
        const preview = await measured(latency, () => runE2e("preview", e2eOptions));
        cells.set(`${latency}/${n}`, { floor, host, hostWide, up, noopUp, preview });
      }
    }
  } catch (error) {
    removeProject(project);
    throw error;
  } finally {
    await emulator?.stop();
  }
  removeProject(project);
  report(options, { ...project, repositoryLayoutBytes: repositoryLayoutProviderBytes() }, cells, noIo, out);
  out(`load average at end: ${loadAverage()}; bench time ${ms(Date.now() - started)} (after npm run build)`);
}

// ---- the report --------------------------------------------------------------------------------------------------

function report(
  options: Options,
  project: { providerText: string; noopProviderText: string; stubbedProviderText: string; repositoryLayoutBytes: number },
  cells: Map<string, Cell>,
  noIo: Map<number, { noop: HostResult; stub: HostResult }>,
  out: (line?: string) => void,
): void {
  const C = options.concurrency;
  const cell = (latency: number, n: number) => cells.get(`${latency}/${n}`)!;
  const small = options.n[0];
  const big = options.n[options.n.length - 1];
  const slow = options.latency[options.latency.length - 1];
  const providerBytes = Buffer.byteLength(project.providerText);
  const inState = [...cells.values()].map((c) => c.up.providerText);
  out(
    `__provider as installed: ${providerBytes} bytes; in the state written by up: ` +
      `${inState.every((t) => t === project.providerText) ? "the identical text" : "A DIFFERENT TEXT"}:`,
  );
  for (const line of project.providerText.trimEnd().split("\n")) out(`    | ${line}`);
  out(
    `(for contrast, in this repository's layout, like npm link, the SDK hands over its require-by-name stub: ${project.repositoryLayoutBytes} bytes)`,
  );
  out("");

  const calls = (k: Counts) => [String(k.set), String(k.get), String(k.token)];
  for (const latency of options.latency) {
    out(`== ${latency ? `${latency} ms added to every API call` : "no added latency (pure overhead)"}`);
    const rows: string[][] = [];
    for (const n of options.n) {
      const c = cell(latency, n);
      for (const mode of ["set-only", "same calls"] as FloorMode[]) {
        const f = c.floor[mode];
        rows.push([
          `1 floor, ${mode}`,
          String(n),
          ms(f.wallMs),
          per(f.wallMs, n),
          `client ${ms(f.cpuMs)}`,
          "-",
          ms(f.emulatorCpuMs),
          ...calls(f.counts),
          "-",
          "-",
        ]);
      }
      const hostRow = (label: string, h: Measured<HostResult>) => [
        label,
        String(n),
        ms(h.wallMs),
        per(h.wallMs, n),
        `${ms(h.cpuMs)} (driver ${ms(h.driverCpuMs)})`,
        mib(h.peakRssBytes),
        ms(h.emulatorCpuMs),
        ...calls(h.counts),
        "-",
        String(providerBytes),
      ];
      rows.push(hostRow("2 provider host", c.host));
      if (c.hostWide) rows.push(hostRow(`  same, --parallel ${2 * C}`, c.hostWide));
      const e2eRows: [string, Measured<E2eResult>][] = [
        ["3 e2e up", c.up],
        ["  e2e no-op up", c.noopUp],
        ["  e2e preview", c.preview],
      ];
      for (const [label, e] of e2eRows) {
        rows.push([
          label,
          String(n),
          ms(e.wallMs),
          per(e.wallMs, n),
          `${ms(e.host.cpuMs)} (prog ${ms(e.program.cpuMs)}, engine ${ms(e.engine.cpuMs)})`,
          mib(e.host.peakRssBytes),
          ms(e.emulatorCpuMs),
          ...calls(e.counts),
          e.stateBytes !== undefined ? String(Math.round(e.stateBytes / n)) : "-",
          e.providerBytes !== undefined ? String(e.providerBytes) : "-",
        ]);
      }
    }
    const header = [
      "scenario",
      "N",
      "wall",
      "per res",
      "CPU: provider host (others)",
      "host RSS",
      "emu CPU",
      "set",
      "get",
      "token",
      "state B/res",
      "__provider B",
    ];
    for (const line of table(header, rows)) out(line);
    out("");
    const ratioRows: string[][] = [];
    const ratio = (label: string, pick: (c: Cell) => number | undefined, floor: FloorMode) => {
      const values = options.n.map((n) => {
        const v = pick(cell(latency, n));
        return v === undefined ? "-" : x(v / cell(latency, n).floor[floor].wallMs);
      });
      if (values.some((v) => v !== "-")) ratioRows.push([label, ...values]);
    };
    for (const floor of ["set-only", "same calls"] as FloorMode[]) {
      ratio(`2/1 provider host / floor ${floor}`, (c) => c.host.wallMs, floor);
      ratio(`    (driver --parallel ${2 * C}) / floor ${floor}`, (c) => c.hostWide?.wallMs, floor);
      ratio(`3/1 e2e up / floor ${floor}`, (c) => c.up.wallMs, floor);
    }
    for (const line of table(["ratio of wall times, same run", ...options.n.map((n) => `N=${n}`)], ratioRows)) out(line);
    out("");
  }

  // ---- overhead per operation ----
  out("== the provider's own overhead per operation, no I/O (host CPU + gRPC + validation + token lookup)");
  out("   no-I/O provider: check passes inputs through, create answers at once (same host, same gRPC driver)");
  out("   provider, HTTP in memory: the real provider with got's request answered from memory (zod check, token cache,");
  out("   concurrency limit, answer handling, PartialFailure bookkeeping: everything but the HTTP exchange)");
  const steady = (pick: (r: { noop: HostResult; stub: HostResult }) => number) =>
    options.n.length > 1 ? (pick(noIo.get(big)!) - pick(noIo.get(small)!)) / (big - small) : pick(noIo.get(big)!) / big;
  const rows: string[][] = [];
  for (const which of ["noop", "stub"] as const) {
    const label = which === "noop" ? "no-I/O provider" : "provider, HTTP in memory";
    rows.push([
      label,
      ...options.n.map((n) => per(noIo.get(n)![which].cpuMs, n)),
      `${steady((r) => r[which].cpuMs).toFixed(3)} ms`,
      ...options.n.map((n) => per(noIo.get(n)![which].wallMs, n)),
      ms(noIo.get(big)![which].totalCpuMs - noIo.get(big)![which].cpuMs),
    ]);
  }
  const ratioOf = (f: (r: HostResult) => number, n: number) => x(f(noIo.get(n)!.stub) / f(noIo.get(n)!.noop));
  rows.push([
    "ratio",
    ...options.n.map((n) => ratioOf((r) => r.cpuMs, n)),
    x(steady((r) => r.stub.cpuMs) / steady((r) => r.noop.cpuMs)),
    ...options.n.map((n) => ratioOf((r) => r.wallMs, n)),
    "",
  ]);
  const header = [
    "",
    ...options.n.map((n) => `host CPU/op N=${n}`),
    options.n.length > 1 ? `marginal CPU/op` : "CPU/op",
    ...options.n.map((n) => `wall/op N=${n}`),
    "host start CPU",
  ];
  for (const line of table(header, rows)) out(line);
  if (options.latency.includes(0)) {
    const c = cell(0, big);
    const httpPerOp = (c.host.cpuMs - noIo.get(big)!.stub.cpuMs) / big;
    out(
      `   with HTTP (no latency, N=${big}): host CPU ${per(c.host.cpuMs, big)}/op, of which the HTTP exchange ~${httpPerOp.toFixed(2)} ms ` +
        `(${(c.host.counts.total / big).toFixed(2)} requests/op); a bare got client spends ${per(c.floor["same calls"].cpuMs, big)}/op on the same calls`,
    );
  }
  out("");

  // ---- where the time goes ----
  if (slow > 0) whereTheTimeGoes(cell(slow, big), big, slow, C, out);

  // ---- targets ----
  out("== targets");
  const lines: string[] = [];
  if (slow > 0) {
    const c = cell(slow, big);
    for (const floor of ["set-only", "same calls"] as FloorMode[]) {
      const r = c.host.wallMs / c.floor[floor].wallMs;
      lines.push(`${verdict(r <= 1.2)}  ${slow} ms, N=${big}: provider host / floor ${floor} = ${x(r)} (target <= 1.20x)`);
    }
    for (const floor of ["set-only", "same calls"] as FloorMode[]) {
      const r = c.up.wallMs / c.floor[floor].wallMs;
      lines.push(`${verdict(r <= 2)}  ${slow} ms, N=${big}: e2e up / floor ${floor} = ${x(r)} (target <= 2.00x)`);
    }
  }
  for (const n of options.n) {
    const { noop, stub } = noIo.get(n)!;
    const r = stub.cpuMs / noop.cpuMs;
    lines.push(
      `${verdict(r <= 1.5)}  no I/O, N=${n}: provider ${per(stub.cpuMs, n)}/op host CPU vs no-I/O baseline ${per(noop.cpuMs, n)}/op = ${x(r)} (target <= 1.50x)`,
    );
  }
  if (options.n.length > 1) {
    const r = steady((p) => p.stub.cpuMs) / steady((p) => p.noop.cpuMs);
    lines.push(
      `${verdict(r <= 1.5)}  no I/O, marginal host CPU per operation N=${small}..${big}: ${x(r)} of the no-I/O baseline (target <= 1.50x)`,
    );
  }
  const all = [...cells.entries()].map(([key, c]) => ({ latency: Number(key.split("/")[0]), n: Number(key.split("/")[1]), c }));
  const label = (a: { latency: number; n: number }) => `${a.latency} ms/N=${a.n}`;
  lines.push(
    `${verdict(all.every((a) => a.c.noopUp.counts.set === 0))}  no-op up: set calls ${all.map((a) => `${label(a)} ${a.c.noopUp.counts.set}`).join(", ")} ` +
      `(target 0; every API call: ${all.map((a) => a.c.noopUp.counts.total).join(", ")})`,
  );
  lines.push(
    `${verdict(all.every((a) => a.c.preview.counts.total === 0))}  preview: API calls ${all.map((a) => `${label(a)} ${a.c.preview.counts.total}`).join(", ")} (target 0)`,
  );
  lines.push(
    `${verdict(all.every((a) => a.c.up.counts.token === accountsFor(a.n) + 1 && a.c.host.counts.token === accountsFor(a.n) + 1))}  token fetches per up = accounts + 1 component token: ` +
      all.map((a) => `${label(a)} up ${a.c.up.counts.token}, host ${a.c.host.counts.token} (expected ${accountsFor(a.n) + 1})`).join("; "),
  );
  const stateProviderBytes = [...new Set(all.map((a) => a.c.up.providerBytes ?? Infinity))];
  lines.push(
    `${verdict(Math.max(providerBytes, ...stateProviderBytes) <= 512)}  __provider as installed: ${providerBytes} bytes, in state ${stateProviderBytes.join(", ")} (target <= 512)`,
  );
  const perResource = all.map((a) => ({ a, bytes: a.c.up.stateBytes! / a.n }));
  lines.push(
    `${verdict(perResource.every((p) => p.bytes < 1536))}  state file per resource: ${perResource.map((p) => `${label(p.a)} ${Math.round(p.bytes)}`).join(", ")} bytes ` +
      `(target < 1536; one resource as compact JSON: ${Math.round(all[all.length - 1].c.up.resourceEntryBytes!)} bytes)`,
  );
  if (options.n.length > 1) {
    const parts: string[] = [];
    let ok = true;
    for (const latency of options.latency) {
      const a = cell(latency, small);
      const b = cell(latency, big);
      const growth = (va: number, vb: number) => vb / big / (va / small);
      const g = [
        ["floor", growth(a.floor["same calls"].wallMs, b.floor["same calls"].wallMs)],
        ["host wall", growth(a.host.wallMs, b.host.wallMs)],
        ["host CPU", growth(a.host.cpuMs, b.host.cpuMs)],
        ["e2e up wall", growth(a.up.wallMs, b.up.wallMs)],
        ["e2e host CPU", growth(a.up.host.cpuMs, b.up.host.cpuMs)],
        ["e2e program CPU", growth(a.up.program.cpuMs, b.up.program.cpuMs)],
      ] as const;
      ok &&= g.slice(1).every(([, v]) => v <= 1.25);
      parts.push(`${latency} ms: ${g.map(([k, v]) => `${k} ${x(v)}`).join(", ")}`);
    }
    lines.push(`${verdict(ok)}  cost linear in N (cost per resource at N=${big} / at N=${small}; target <= 1.25x): ${parts.join("; ")}`);
  }
  for (const line of lines) out(`  ${line}`);
  out("");
}

/**
 * Two lower bounds for each wall time: the latency the calls must wait for with C of them in flight, and the CPU all
 * processes involved spent, spread over every core. A wall time far above both is time spent waiting on something else.
 */
function whereTheTimeGoes(c: Cell, n: number, latency: number, C: number, out: (line?: string) => void): void {
  const cores = os.availableParallelism();
  const accounts = accountsFor(n);
  out(`== where the time goes (${latency} ms, N=${n}, ${cores} cores): lower bounds from latency and from CPU`);
  const rows: string[][] = [];
  const row = (label: string, wallMs: number, latencyBoundMs: number, cpu: [string, number][]) => {
    const total = cpu.reduce((sum, [, v]) => sum + v, 0);
    rows.push([
      label,
      ms(wallMs),
      ms(latencyBoundMs),
      ms(total / cores),
      x(wallMs / Math.max(latencyBoundMs, total / cores)),
      cpu.map(([k, v]) => `${k} ${ms(v)}`).join(", "),
    ]);
  };
  // Request-level limit: every call waits one latency, C at a time (plus the component token before anything else).
  const floorBound = (calls: number) => latency + ((calls - 1) * latency) / C;
  for (const mode of ["set-only", "same calls"] as FloorMode[]) {
    const f = c.floor[mode];
    row(`1 floor, ${mode}`, f.wallMs, floorBound(f.counts.total), [
      ["client", f.cpuMs],
      ["emulator", f.emulatorCpuMs],
    ]);
  }
  // Resource-level limit of C: each resource holds its slot through get and set, and the resources of an account
  // also through the wait for that account's token (the three of an account are in flight together).
  const hostBound = latency + ((2 * n + 3 * accounts) * latency) / C;
  const hostCpu = (h: Measured<HostResult>): [string, number][] => [
    ["host", h.cpuMs],
    ["driver", h.driverCpuMs],
    ["emulator", h.emulatorCpuMs],
  ];
  row(`2 provider host, --parallel ${C}`, c.host.wallMs, hostBound, hostCpu(c.host));
  if (c.hostWide) row(`2 provider host, --parallel ${2 * C}`, c.hostWide.wallMs, floorBound(c.hostWide.counts.total), hostCpu(c.hostWide));
  row(`3 e2e up, --parallel ${C}`, c.up.wallMs, hostBound, [
    ["program", c.up.program.cpuMs],
    ["engine", c.up.engine.cpuMs],
    ["host", c.up.host.cpuMs],
    ["emulator", c.up.emulatorCpuMs],
  ]);
  for (const line of table(["", "wall", "latency bound", "CPU bound", "wall/bound", "CPU by process"], rows)) out(line);
  out(
    `   latency bound, floor: 1 + (calls - 1) / ${C} latencies; provider host at --parallel ${C}: 1 + (2N + 3 x accounts) / ${C} latencies`,
  );
  out(`   (each resource holds its slot through get and set, and through the wait for its account's token)`);
  out("");
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
