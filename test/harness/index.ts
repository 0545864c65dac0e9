/**
 * The harness for tests: run a command exactly as a user would (the CLI in a child process, with --json) and read
 * the state it keeps, which is the real CLI's checkpoint whichever engine ran.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { checkpointFile } from "../pulumi/checkpoint";
import { EngineOptions, Summary, backendDirOf } from "./engine";
import { readProject } from "./project";

export { Command, Summary } from "./engine";
export { ResourceState, SECRET_SIG, SECRET_SIG_KEY, StackState, isSecret, readState } from "../pulumi/checkpoint";
export { chooseEngine } from "../pulumi/run";

const CLI = path.join(__dirname, "cli.js");

export interface RunEngineOptions extends EngineOptions {
  /** Added to (and overriding) this process's environment. */
  env?: Record<string, string>;
  /** "harness" or "pulumi"; default: WECHAT_ENGINE, else the real CLI when it is installed. */
  engine?: string;
  /** Called with the child process as soon as it starts (e.g. to SIGKILL it mid-run). */
  onSpawn?: (child: ChildProcess) => void;
}

export interface RunEngineResult {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The --json line (the last line of stdout), when the run got that far. */
  summary: Summary | undefined;
}

function cliArgs(opts: RunEngineOptions): string[] {
  const args = [opts.command, "--cwd", opts.cwd, "--stack", opts.stack, "--json"];
  if (opts.backendDir) args.push("--backend", opts.backendDir);
  if (opts.continueOnError) args.push("--continue-on-error");
  if (opts.runProgram) args.push("--run-program");
  for (const [k, v] of Object.entries(opts.config ?? {})) args.push("--config", `${k}=${v}`);
  for (const [k, v] of Object.entries(opts.secrets ?? {})) args.push("--secret", `${k}=${v}`);
  if (opts.parallel) args.push("--parallel", String(opts.parallel));
  if (opts.transpileOnly) args.push("--transpile-only");
  if (opts.verbose) args.push("--verbose");
  if (opts.engine) args.push("--engine", opts.engine);
  return args;
}

/** Starts `node dist/test/harness/cli.js …`. */
export function spawnEngine(opts: RunEngineOptions): { child: ChildProcess; result: Promise<RunEngineResult> } {
  const child = spawn(process.execPath, [CLI, ...cliArgs(opts)], {
    cwd: opts.cwd,
    env: { ...process.env, ...(opts.env ?? {}) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  opts.onSpawn?.(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<RunEngineResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr, summary: parseSummary(stdout) }));
  });
  return { child, result };
}

export function runEngine(opts: RunEngineOptions): Promise<RunEngineResult> {
  return spawnEngine(opts).result;
}

function parseSummary(stdout: string): Summary | undefined {
  try {
    const parsed = JSON.parse(stdout.trimEnd().split("\n").pop()!) as Summary | null;
    return typeof parsed === "object" && parsed !== null && "changes" in parsed ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The checkpoint file of the run's stack: the same whichever engine runs it. */
export function stateFileOf(opts: Pick<RunEngineOptions, "cwd" | "stack" | "backendDir" | "engine">): string {
  return checkpointFile(backendDirOf(opts), readProject(opts.cwd).name, opts.stack);
}
