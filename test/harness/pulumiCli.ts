/**
 * The same command through the real Pulumi CLI, for machines where `pulumi` is on PATH and the caller asks for it
 * (`--engine pulumi` or WECHAT_ENGINE=pulumi). It uses a local file backend in the directory of the state file and a
 * fixed test passphrase, and builds the same summary as the harness from the CLI's engine events (--event-log).
 *
 * NOT TESTED HERE: the machines this project is developed on cannot install the Pulumi CLI. This file is kept small
 * and was checked by reading the CLI's documented flags and event format; treat a first run on a machine with the
 * CLI as its test.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as readline from "readline";
import { Changes, EngineOptions, Failure, Output, Summary, defaultStateFile } from "./engine";
import { readProject, namespacedKey } from "./project";
import { DEFAULT_PASSPHRASE } from "./state";
import { Json, Redactor, deepEqual } from "./values";

export type EngineName = "harness" | "pulumi";

/** Full path of `pulumi` on PATH, if any. */
export function pulumiOnPath(): string | undefined {
  const exts = process.platform === "win32" ? [".exe", ".cmd", ""] : [""];
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = path.join(dir, `pulumi${ext}`);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        if (fs.statSync(candidate).isFile()) return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/**
 * Which engine a run will use: the real CLI only when asked for (flag, else WECHAT_ENGINE) and on PATH; the
 * harness otherwise, with a note saying why when the CLI was asked for but is missing.
 */
export function chooseEngine(flag?: string): { engine: EngineName; note?: string } {
  const requested = flag ?? process.env.WECHAT_ENGINE ?? "harness";
  if (requested !== "pulumi") return { engine: "harness" };
  if (pulumiOnPath()) return { engine: "pulumi" };
  return { engine: "harness", note: "note: the Pulumi CLI was requested but `pulumi` is not on PATH; using the engine harness" };
}

/** For demos: "pulumi" or "harness", as the next run will use. */
export function whichEngine(flag?: string): EngineName {
  return chooseEngine(flag).engine;
}

interface Run {
  code: number;
  stdout: string;
}

function run(
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; input?: string; out?: Output; redactor: Redactor },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("pulumi", args, { cwd: opts.cwd, env: opts.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    if (opts.out) {
      const out = opts.out;
      readline.createInterface({ input: child.stdout! }).on("line", (l) => out.stdout(opts.redactor.redact(l)));
      readline.createInterface({ input: child.stderr! }).on("line", (l) => out.stderr(opts.redactor.redact(l)));
    } else {
      child.stderr!.resume();
    }
    child.stdin!.end(opts.input ?? "");
    child.once("error", reject);
    child.once("close", (code) => resolve({ code: code ?? 1, stdout }));
  });
}

interface EngineEvent {
  resourcePreEvent?: { metadata: StepMetadata };
  resOutputsEvent?: { metadata: StepMetadata };
  diagnosticEvent?: { urn?: string; message: string; severity: string };
}
interface StepMetadata {
  op: string;
  urn: string;
  type: string;
  old?: { custom?: boolean; outputs?: Json };
  new?: { custom?: boolean; outputs?: Json };
}

/** Counts the steps of custom resources from the engine events, as the harness counts them. */
export function summarizeEvents(events: EngineEvent[], refresh: boolean): { changes: Changes; steps: Summary["steps"]; failed: Failure[] } {
  const changes: Changes = { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
  const steps: Summary["steps"] = [];
  const completed = events.filter((e) => e.resOutputsEvent).map((e) => e.resOutputsEvent!.metadata);
  // A preview reports planned steps; fall back to them when no step completed.
  const metas = completed.length > 0 ? completed : events.filter((e) => e.resourcePreEvent).map((e) => e.resourcePreEvent!.metadata);
  for (const m of metas) {
    const custom = (m.new ?? m.old)?.custom;
    if (m.type === "pulumi:pulumi:Stack" || m.type.startsWith("pulumi:providers:") || custom === false) continue;
    let op = m.op;
    if (op === "refresh" || (refresh && op === "update")) {
      op = !m.new ? "delete" : deepEqual(m.old?.outputs, m.new.outputs) ? "same" : "update";
    }
    if (op === "create" || op === "update" || op === "replace" || op === "delete" || op === "same") {
      changes[op]++;
      if (op !== "same") steps.push({ op, urn: m.urn });
    }
  }
  const failed: Failure[] = [];
  for (const e of events) {
    const d = e.diagnosticEvent;
    if (d && d.severity === "error") failed.push({ urn: d.urn ?? "", message: d.message.trim() });
  }
  return { changes, steps, failed };
}

export async function runPulumiCli(opts: EngineOptions, out: Output, redactor: Redactor): Promise<Summary> {
  const started = Date.now();
  const project = readProject(opts.cwd);
  const stateFile = path.resolve(opts.stateFile ?? defaultStateFile(opts.cwd, opts.stack));
  const backendDir = path.dirname(stateFile);
  fs.mkdirSync(backendDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE || DEFAULT_PASSPHRASE,
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
  if (opts.transpileOnly) env.PULUMI_NODEJS_TRANSPILE_ONLY = "true";
  const common = ["--stack", opts.stack, "--cwd", opts.cwd, "--non-interactive"];
  const quiet = { cwd: opts.cwd, env, redactor };

  const select = await run(["stack", "select", "--create", ...common], quiet);
  if (select.code !== 0) throw new Error(`pulumi stack select --create ${opts.stack} failed`);
  for (const [key, value] of Object.entries(opts.config ?? {})) {
    await run(["config", "set", ...common, namespacedKey(key, project.name), "--", value], quiet);
  }
  for (const [key, value] of Object.entries(opts.secrets ?? {})) {
    // The value goes through stdin, so it never shows in a process listing.
    await run(["config", "set", "--secret", namespacedKey(key, project.name), ...common], { ...quiet, input: value });
  }

  const eventLog = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-events-")), "events.jsonl");
  const parallel = ["--parallel", String(opts.parallel ?? 32)];
  const verb: Record<EngineOptions["command"], string[]> = {
    preview: ["preview", ...parallel],
    up: ["up", "--yes", "--skip-preview", ...parallel],
    refresh: ["refresh", "--yes", "--skip-preview", ...parallel],
    destroy: ["destroy", "--yes", "--skip-preview", ...parallel],
  };
  const main = await run([...verb[opts.command], "--suppress-progress", "--event-log", eventLog, ...common], { ...quiet, out });
  const events: EngineEvent[] = fs.existsSync(eventLog)
    ? fs
        .readFileSync(eventLog, "utf8")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as EngineEvent)
    : [];
  fs.rmSync(path.dirname(eventLog), { recursive: true, force: true });
  const { changes, steps, failed } = summarizeEvents(events, opts.command === "refresh");
  if (main.code !== 0 && failed.length === 0) failed.push({ urn: "", message: `pulumi ${opts.command} exited with code ${main.code}` });

  // Secret outputs print as "[secret]" without --show-secrets.
  const outputsRun = await run(["stack", "output", "--json", ...common], quiet);
  let outputs: { [key: string]: Json } = {};
  if (outputsRun.code === 0) {
    try {
      outputs = JSON.parse(outputsRun.stdout || "{}") as { [key: string]: Json };
    } catch {
      // No outputs to show.
    }
  }
  return {
    engine: "pulumi",
    command: opts.command,
    project: project.name,
    stack: opts.stack,
    stateFile: path.join(backendDir, ".pulumi"),
    changes,
    outputs,
    steps,
    failed,
    programExitCode: main.code,
    durationMs: Date.now() - started,
  };
}
