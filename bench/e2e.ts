/**
 * End to end: `up`, a no-op `up` and `preview` of the example program (examples/platform-fleet, as installed in the
 * bench project) through the engine harness's CLI, which runs the real program runtime (`@pulumi/pulumi/cmd/run`,
 * transpile-only) and the real dynamic-provider host, as `pulumi` would.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Command, RunEngineResult, Summary, readState, runEngine, stateFileOf } from "../test/harness";
import { ProcessWatch, Usage } from "./proc";

export interface E2eResult {
  command: Command;
  wallMs: number;
  summary: Summary;
  /** The provider host, the program runtime, and the engine (the harness CLI) that drives both. */
  host: Usage;
  program: Usage;
  engine: Usage;
  /** State file after the command (up only). */
  stateBytes?: number;
  resources?: number;
  providerBytes?: number;
  providerText?: string;
  /** Mean size of one AuthorizerOption entry of the state file (inputs + outputs + bookkeeping), bytes. */
  resourceEntryBytes?: number;
}

export interface E2eOptions {
  dir: string;
  backendDir: string;
  config: Record<string, string>;
  secrets: Record<string, string>;
  parallel: number;
}

export async function runE2e(command: Command, options: E2eOptions): Promise<E2eResult> {
  let watch: ProcessWatch | undefined;
  const started = performance.now();
  let result: RunEngineResult;
  try {
    result = await runEngine({
      command,
      cwd: options.dir,
      stack: "bench",
      backendDir: options.backendDir,
      config: options.config,
      secrets: options.secrets,
      parallel: options.parallel,
      transpileOnly: true,
      engine: "harness",
      onSpawn: (child) => {
        watch = new ProcessWatch(child.pid!, { host: "cmd/dynamic-provider", program: "cmd/run", engine: "" });
      },
    });
  } finally {
    watch?.stop();
  }
  const wallMs = performance.now() - started;
  if (result.code !== 0 || !result.summary) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-30).join("\n");
    throw new Error(`${command} failed (exit ${result.code}):\n${tail}`);
  }
  const usage = watch!.usage;
  const e2e: E2eResult = {
    command,
    wallMs,
    summary: result.summary,
    host: usage.get("host")!,
    program: usage.get("program")!,
    engine: usage.get("engine")!,
  };
  if (command === "up") {
    const stateFile = stateFileOf({ cwd: options.dir, stack: "bench", backendDir: options.backendDir, engine: "harness" });
    e2e.stateBytes = fs.statSync(stateFile).size;
    const state = readState(stateFile)!;
    const custom = state.resources.filter((r) => r.custom);
    e2e.resources = custom.length;
    const text = custom[0]?.inputs.__provider;
    if (typeof text === "string") {
      e2e.providerText = text;
      e2e.providerBytes = Buffer.byteLength(text);
    }
    e2e.resourceEntryBytes = custom.length ? custom.reduce((sum, r) => sum + Buffer.byteLength(JSON.stringify(r)), 0) / custom.length : 0;
  }
  return e2e;
}

export function backendDirFor(dir: string, n: number, latencyMs: number): string {
  return path.join(dir, ".pulumi-state", `bench-${n}-${latencyMs}`);
}
