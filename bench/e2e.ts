/**
 * End to end: `up`, a no-op `up` or `preview` of the example program (examples/platform-fleet, in the bench project)
 * through `runEngine`: the engine harness's CLI, or the real Pulumi CLI on a file backend (`engine: "pulumi"`). Both
 * run the real program runtime (`@pulumi/pulumi/cmd/run`, transpile-only) and the real dynamic-provider host.
 */
import { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import { Command, readState, runEngine, stateFileOf } from "../test/harness";
import { Run } from "./analysis";
import { findDescendants, HOST_MARKER, ProcessWatch } from "./proc";

export type EngineName = "harness" | "pulumi";

export interface E2eOptions {
  engine: EngineName;
  dir: string;
  backendDir: string;
  config: Record<string, string>;
  secrets: Record<string, string>;
  parallel: number;
  /** false: PULUMI_SKIP_CHECKPOINTS=true (the real CLI writes the state once, at the end). */
  checkpoints: boolean;
  /** A run still going after this long is stopped, and reported with how far its state got. */
  timeoutMs: number;
}

/** What a run measures: wall time, CPU by process (the engine, the program runtime, the provider host), the state. */
export type E2eResult = Pick<Run, "wallMs" | "cpuMs" | "peakRssBytes" | "engineWrittenBytes" | "timedOut"> &
  Pick<Run, "stateBytes" | "propertiesBytes" | "resources" | "providerBytes">;

/** The processes of a run, by the command line each starts with. */
const MARKERS = {
  harness: { engine: undefined, program: /cmd\/run/, host: HOST_MARKER },
  pulumi: { engine: /^pulumi (up|preview) /, program: /cmd\/run/, host: HOST_MARKER, "language host": /pulumi-language-nodejs\.js/ },
};

/** Stops a run: its process and every descendant, by pid (all started by this run). */
function stopTree(child: ChildProcess): void {
  for (const pid of [child.pid!, ...findDescendants(child.pid!, /./)]) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

export async function runE2e(command: Command, options: E2eOptions): Promise<E2eResult> {
  let watch: ProcessWatch | undefined;
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const started = performance.now();
  const result = await runEngine({
    command,
    cwd: options.dir,
    stack: "bench",
    backendDir: options.backendDir,
    config: options.config,
    secrets: options.secrets,
    parallel: options.parallel,
    transpileOnly: true,
    engine: options.engine,
    env: options.checkpoints ? {} : { PULUMI_SKIP_CHECKPOINTS: "true" },
    onSpawn: (child) => {
      watch = new ProcessWatch(child.pid!, MARKERS[options.engine]);
      timer = setTimeout(() => ((timedOut = true), stopTree(child)), options.timeoutMs);
    },
  }).finally(() => clearTimeout(timer));
  const wallMs = performance.now() - started;
  const usage = watch!.stop();
  if (!timedOut && (result.code !== 0 || !result.summary)) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-30).join("\n");
    throw new Error(`${options.engine} ${command} failed (exit ${result.code}):\n${tail}`);
  }
  const stateFile = stateFileOf({ cwd: options.dir, stack: "bench", backendDir: options.backendDir, engine: options.engine });
  // A run stopped mid-write may leave no readable state: then it got no resource done that can be counted.
  const state = timedOut
    ? (() => {
        try {
          return readState(stateFile);
        } catch {
          return undefined;
        }
      })()
    : readState(stateFile);
  const custom = state?.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:")) ?? [];
  const text = custom[0]?.inputs.__provider;
  return {
    wallMs,
    timedOut,
    cpuMs: Object.fromEntries(Object.entries(usage).map(([name, u]) => [name, u.cpuMs])),
    peakRssBytes: usage.host.peakRssBytes,
    engineWrittenBytes: usage.engine.writtenBytes,
    resources: custom.length,
    ...(command === "up" && {
      stateBytes: fs.existsSync(stateFile) ? fs.statSync(stateFile).size : 0,
      propertiesBytes: custom.reduce((sum, r) => sum + JSON.stringify({ i: r.inputs, o: r.outputs }).length, 0) / (custom.length || 1),
      providerBytes: typeof text === "string" ? Buffer.byteLength(text) : undefined,
    }),
  };
}
