/**
 * The harness for tests: run a command exactly as a user would (the CLI in a child process, with --json) and read
 * the state file it keeps.
 */
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import { EngineOptions, Summary } from "./engine";
import { SecretCipher, StateFile, readStateFile } from "./state";
import { PropertyMap } from "./values";

export { Command, Summary, DEFAULT_PARALLEL, defaultStateFile, makeUrn } from "./engine";
export { ResourceState, StateFile } from "./state";
export { chooseEngine, whichEngine } from "./pulumiCli";
export { SECRET_SIG, SECRET_SIG_KEY, UNKNOWN, isSecret } from "./values";

export const CLI = path.join(__dirname, "cli.js");

/** What the CLI takes (the engine's own options), and how to start it as a child process. */
export interface RunEngineOptions extends EngineOptions {
  /** Added to (and overriding) this process's environment. */
  env?: Record<string, string>;
  /** "harness" or "pulumi"; default: WECHAT_ENGINE, else the harness. */
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

export function cliArgs(opts: RunEngineOptions): string[] {
  const args = [opts.command, "--cwd", opts.cwd, "--stack", opts.stack, "--json"];
  if (opts.stateFile) args.push("--state", opts.stateFile);
  for (const [k, v] of Object.entries(opts.config ?? {})) args.push("--config", `${k}=${v}`);
  for (const [k, v] of Object.entries(opts.secrets ?? {})) args.push("--secret", `${k}=${v}`);
  if (opts.parallel) args.push("--parallel", String(opts.parallel));
  if (opts.transpileOnly) args.push("--transpile-only");
  if (opts.verbose) args.push("--verbose");
  if (opts.engine) args.push("--engine", opts.engine);
  return args;
}

/** Starts `node dist/test/harness/cli.js …` and returns the child and a promise of its result. */
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

/** The summary from the last non-empty line of stdout, if it is one. */
export function parseSummary(stdout: string): Summary | undefined {
  const last = stdout.trimEnd().split("\n").pop();
  if (!last) return undefined;
  try {
    const parsed = JSON.parse(last) as Summary;
    return parsed && typeof parsed === "object" && "changes" in parsed ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The state file as stored (secrets encrypted as {sig, ciphertext}), or undefined when there is none. With
 * `{ decrypt: true }`, secrets come back as {sig, value} (needs the same PULUMI_CONFIG_PASSPHRASE as the run).
 */
export function readState(stateFile: string, opts: { decrypt?: boolean } = {}): StateFile | undefined {
  const raw = readStateFile(stateFile);
  if (!raw || !opts.decrypt) return raw;
  const cipher = new SecretCipher(raw.secretsProvider?.salt);
  return {
    ...raw,
    resources: raw.resources.map((r) => ({
      ...r,
      inputs: cipher.open(r.inputs) as PropertyMap,
      outputs: cipher.open(r.outputs) as PropertyMap,
    })),
    outputs: cipher.open(raw.outputs) as PropertyMap,
  };
}
