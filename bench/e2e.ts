/** Part 3, end to end: one command of examples/platform-fleet, by the engine harness's CLI or the real Pulumi CLI. */
import * as fs from "node:fs";
import * as path from "node:path";
import { RunEngineOptions, readState, spawnEngine, stateFileOf } from "../test/harness";
import { StackSettings } from "../test/support/emulator";
import { FLEET_PROJECT, writeAccountsFile } from "../test/support/fleet";
import { descendants } from "../test/support/processes";
import { wechatResources } from "../test/support/state";
import { Measured, Planned } from "./analysis";
import { accountEntries } from "./emulator";
import { HOST_MARKER, watch } from "./proc";

/** The processes of a run, by the command line each starts with (`undefined`: the process started). */
const MARKERS = {
  harness: { engine: undefined, program: /cmd\/run/, host: HOST_MARKER },
  pulumi: { engine: /^pulumi (up|preview) /, program: /cmd\/run/, host: HOST_MARKER, "language host": /pulumi-language-nodejs\.js/ },
};

/**
 * Wall time, CPU by process, the host's peak RSS, the bytes the engine wrote, and what the state holds. A run still
 * going after `timeoutMs` is stopped (its process tree killed by pid) and reported with how far its state got.
 */
export async function runE2e(
  run: Planned,
  dir: string,
  backendDir: string,
  { config, secrets }: StackSettings,
  timeoutMs: number,
): Promise<Measured> {
  const accountsFile = path.join(dir, `accounts-${run.n}.json`);
  writeAccountsFile(accountsFile, accountEntries(run.n));
  const options: RunEngineOptions = {
    command: run.scenario === "preview" ? "preview" : "up",
    cwd: dir,
    stack: "bench",
    engine: run.engine,
    parallel: run.parallel,
    transpileOnly: true,
    secrets,
    backendDir,
    config: { ...config, [`${FLEET_PROJECT}:accountsFile`]: accountsFile },
    env: run.checkpoints === false ? { PULUMI_SKIP_CHECKPOINTS: "true" } : {},
  };
  const started = performance.now();
  const { child, result: running } = spawnEngine(options);
  const stop = watch(child.pid!, MARKERS[run.engine!]);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    for (const pid of [child.pid!, ...descendants(child.pid!)]) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {} // already gone
    }
  }, timeoutMs);
  const result = await running.finally(() => clearTimeout(timer));
  const [wallMs, usage] = [performance.now() - started, stop()];
  if (!timedOut && (result.code !== 0 || !result.summary)) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-30).join("\n");
    throw new Error(`${run.engine} ${options.command} failed (exit ${result.code}):\n${tail}`);
  }
  return {
    wallMs,
    timedOut,
    cpuMs: Object.fromEntries(Object.entries(usage).map(([name, u]) => [name, u.cpuMs])),
    peakRssBytes: usage.host.peakRssBytes,
    engineWrittenBytes: usage.engine.writtenBytes,
    ...stateFigures(stateFileOf(options), options.command === "up", timedOut),
  };
}

/**
 * How many resources the state holds and, after an up, the bytes of the state, of one resource's properties on
 * average, and of its `__provider`.
 */
function stateFigures(stateFile: string, up: boolean, timedOut: boolean) {
  let state;
  try {
    state = readState(stateFile);
  } catch (error) {
    // A run stopped mid-write may leave no readable state: then it got no resource done that can be counted.
    if (!timedOut) throw error;
  }
  const resources = wechatResources(state);
  const text = resources[0]?.inputs.__provider;
  return {
    resources: resources.length,
    ...(up && {
      stateBytes: fs.existsSync(stateFile) ? fs.statSync(stateFile).size : 0,
      propertiesBytes: resources.reduce((mean, r) => mean + JSON.stringify({ i: r.inputs, o: r.outputs }).length / resources.length, 0),
      providerBytes: typeof text === "string" ? Buffer.byteLength(text) : undefined,
    }),
  };
}
