/**
 * One command through the real Pulumi CLI (built by install.ts), on a file backend in `backendDir`: what the engine
 * harness's `--engine pulumi` runs, and what every engine-level suite runs by default.
 *
 * The stack's configuration is a file of its own in the backend directory (`--config-file`), rebuilt before each run
 * from the project's `Pulumi.<stack>.yaml` and the run's values, so a run never edits the project's files and a
 * secret never appears on a command line: secrets are encrypted here, with the stack's passphrase salt, exactly as
 * `pulumi config set --secret` would. The summary is built from the CLI's engine events (`--event-log`).
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { Changes, EngineOptions, Failure, Output, Summary, backendDirOf } from "../harness/engine";
import { loadYaml, namespacedKey, readProject, yaml } from "../harness/project";
import { Json, Redactor, displayValue } from "../harness/values";
import { PassphraseCrypter, ROOT_STACK_TYPE, checkpointFile, currentPassphrase } from "./checkpoint";
import { cliDirectory, installedCli } from "./install";

/** The environment of every CLI call: the built CLI first on PATH, a private PULUMI_HOME, nothing downloaded. */
function cliEnvironment(backendDir: string, transpileOnly?: boolean): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${cliDirectory()}${path.delimiter}${process.env.PATH ?? ""}`,
    PULUMI_HOME: path.join(backendDir, ".pulumi-home"),
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: currentPassphrase(),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    // `--event-log`, the machine-readable record of the run, is a debug command flag.
    PULUMI_DEBUG_COMMANDS: "true",
    ...(transpileOnly ? { PULUMI_NODEJS_TRANSPILE_ONLY: "true" } : {}),
  };
}

/** A directory holding a copy of the project's Pulumi.yaml, where `pulumi stack init` may write. */
function scratchProjectOf(backendDir: string, projectName: string): string {
  return path.join(backendDir, ".projects", projectName);
}

function prepareStack(opts: EngineOptions, backendDir: string, env: NodeJS.ProcessEnv): string {
  const project = readProject(opts.cwd);
  const scratchProject = scratchProjectOf(backendDir, project.name);
  const configFile = path.join(scratchProject, `Pulumi.${opts.stack}.yaml`);
  fs.mkdirSync(scratchProject, { recursive: true });
  fs.copyFileSync(path.join(opts.cwd, "Pulumi.yaml"), path.join(scratchProject, "Pulumi.yaml"));
  const own = loadYaml(path.join(opts.cwd, `Pulumi.${opts.stack}.yaml`)) ?? {};
  if (!fs.existsSync(checkpointFile(backendDir, project.name, opts.stack))) {
    // stack init writes the new stack's salt into Pulumi.<stack>.yaml beside the Pulumi.yaml it is given: the copy.
    if (typeof own.encryptionsalt === "string") fs.writeFileSync(configFile, yaml.dump({ encryptionsalt: own.encryptionsalt }));
    const init = spawnSync("pulumi", ["stack", "init", opts.stack, "--no-select", "--non-interactive", "--cwd", scratchProject], {
      env,
      encoding: "utf8",
    });
    if (init.status !== 0) throw new Error(`pulumi stack init ${opts.stack} failed: ${init.stderr || init.stdout}`);
  }
  const salt = loadYaml(configFile)?.encryptionsalt;
  if (typeof salt !== "string") throw new Error(`${configFile} has no encryptionsalt: delete ${backendDir} and run again`);
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries((own.config ?? {}) as Record<string, unknown>))
    config[namespacedKey(key, project.name)] = value;
  for (const [key, value] of Object.entries(opts.config ?? {})) config[namespacedKey(key, project.name)] = value;
  const secrets = Object.entries(opts.secrets ?? {});
  if (secrets.length > 0) {
    const crypter = PassphraseCrypter.open(salt, env.PULUMI_CONFIG_PASSPHRASE);
    for (const [key, value] of secrets) config[namespacedKey(key, project.name)] = { secure: crypter.encryptText(value) };
  }
  fs.writeFileSync(configFile, yaml.dump({ encryptionsalt: salt, config }));
  return configFile;
}

function commandLine(opts: EngineOptions, configFile: string, eventLog: string): string[] {
  const args = [opts.command, "--suppress-progress", "--stack", opts.stack, "--cwd", opts.cwd, "--config-file", configFile];
  args.push("--non-interactive", "--event-log", eventLog);
  if (opts.command !== "preview") args.push("--yes", "--skip-preview");
  // --continue-on-error for up and destroy (the harness refuses it), --run-program for refresh and destroy.
  if (opts.continueOnError && (opts.command === "up" || opts.command === "destroy")) args.push("--continue-on-error");
  if (opts.runProgram && (opts.command === "refresh" || opts.command === "destroy")) args.push("--run-program");
  if (opts.parallel) args.push("--parallel", String(opts.parallel));
  // The harness's --verbose prints the program's debug log; the CLI's --debug does.
  if (opts.verbose) args.push("--debug");
  return args;
}

interface CliExit {
  /** The exit status; 128 + the signal's number when a signal ended the CLI, as a shell reports it. */
  code: number;
  signal: NodeJS.Signals | null;
  stderr: string[];
}

function runCli(args: string[], env: NodeJS.ProcessEnv, cwd: string, out: Output, redactor: Redactor): Promise<CliExit> {
  return new Promise((resolve, reject) => {
    const child = spawn("pulumi", args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const stderr: string[] = [];
    const closed = [child.stdout!, child.stderr!].map(
      (stream, index) =>
        new Promise<void>((done) =>
          readline
            .createInterface({ input: stream })
            .on("line", (raw) => {
              const line = redactor.redact(raw);
              if (index === 1) stderr.push(line);
              (index === 0 ? out.stdout : out.stderr)(line);
            })
            .on("close", done),
        ),
    );
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      const status = code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1);
      void Promise.all(closed).then(() => resolve({ code: status, signal, stderr }));
    });
  });
}

/**
 * Why a failed run failed when no step says so: the CLI's own `error:` lines (a locked stack, a checkpoint it cannot
 * load, a bad flag), else the signal that ended it, else its exit status.
 */
function cliFailure(command: string, exit: CliExit): string {
  const start = exit.stderr.findIndex((line) => line.startsWith("error: "));
  if (start >= 0) {
    const end = exit.stderr.findIndex((line, i) => i > start && !/^\s/.test(line));
    return exit.stderr
      .slice(start, end < 0 ? undefined : end)
      .join("\n")
      .slice("error: ".length);
  }
  if (exit.signal) return `pulumi ${command} was killed by ${exit.signal}`;
  return `pulumi ${command} exited with code ${exit.code}`;
}

/** The engine a run uses: the one asked for (flag, else WECHAT_ENGINE); else the real CLI when it is installed. */
export function chooseEngine(requested = process.env.WECHAT_ENGINE): Summary["engine"] {
  if (requested === "harness" || requested === "pulumi") return requested;
  if (requested) throw new Error(`unknown engine ${JSON.stringify(requested)}: use harness or pulumi`);
  return installedCli() ? "pulumi" : "harness";
}

/** The stack's last `--event-log` (JSON lines), beside the state so that tests can read everything the CLI wrote. */
export function eventLogOf(backendDir: string, stack: string): string {
  return path.join(backendDir, `.events-${stack}.jsonl`);
}

export async function runPulumi(opts: EngineOptions, out: Output, redactor: Redactor): Promise<Summary> {
  if (!installedCli())
    throw new Error("the Pulumi CLI is not installed here: run `npm run pulumi:install` (it builds the CLI from Go modules)");
  const started = Date.now();
  const project = readProject(opts.cwd);
  const backendDir = backendDirOf(opts);
  fs.mkdirSync(backendDir, { recursive: true });
  const env = cliEnvironment(backendDir, opts.transpileOnly);
  const configFile = prepareStack(opts, backendDir, env);
  const eventLog = eventLogOf(backendDir, opts.stack);
  fs.rmSync(eventLog, { force: true });
  const exit = await runCli(commandLine(opts, configFile, eventLog), env, opts.cwd, out, redactor);
  const summary = summarizeEvents(readEvents(eventLog), opts.command);
  if (exit.code !== 0 && summary.failed.length === 0) summary.failed.push({ urn: "", message: cliFailure(opts.command, exit) });
  return {
    engine: "pulumi",
    command: opts.command,
    project: project.name,
    stack: opts.stack,
    stateFile: checkpointFile(backendDir, project.name, opts.stack),
    ...summary,
    programExitCode: exit.code,
    durationMs: Date.now() - started,
  };
}

/** `pulumi cancel`: what a user runs to remove the lock a killed update left (the next update refuses to start). */
export function cancelUpdate(opts: Pick<EngineOptions, "cwd" | "stack" | "backendDir">): { code: number; output: string } {
  const backendDir = backendDirOf(opts);
  const scratchProject = scratchProjectOf(backendDir, readProject(opts.cwd).name);
  const args = ["cancel", "--yes", "--non-interactive", "--stack", opts.stack, "--cwd", scratchProject];
  const cancel = spawnSync("pulumi", args, { env: cliEnvironment(backendDir), encoding: "utf8" });
  return { code: cancel.status ?? 1, output: `${cancel.stdout}${cancel.stderr}` };
}

interface StepState {
  custom?: boolean;
  outputs?: Record<string, unknown>;
}
interface StepMetadata {
  op: string;
  urn: string;
  type: string;
  old?: StepState;
  new?: StepState;
}
/** The events the summary reads (the log holds more kinds). */
interface EngineEvent {
  resOutputsEvent?: { metadata: StepMetadata };
  diagnosticEvent?: { urn?: string; message: string; severity: string };
}

function readEvents(file: string): EngineEvent[] {
  if (!fs.existsSync(file)) return [];
  const lines = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim());
  return lines.flatMap((line, i) => {
    try {
      return [JSON.parse(line) as EngineEvent];
    } catch (error) {
      // A CLI killed while it wrote an event leaves that last line cut off; any other line must parse.
      if (i === lines.length - 1) return [];
      throw error;
    }
  });
}

function countedOp(meta: StepMetadata, command: EngineOptions["command"]): keyof Changes | undefined {
  // Events leave `custom` out when it is false: the stack and components.
  if ((meta.new ?? meta.old)?.custom !== true || meta.type.startsWith("pulumi:providers:")) return undefined;
  // A refresh step's op is the provider's verdict (its Diff after the Read), not whether the outputs changed.
  if (command === "refresh" && !meta.new) return "delete";
  return ["create", "update", "replace", "delete", "same"].includes(meta.op) ? (meta.op as keyof Changes) : undefined;
}

/** Counts the steps of custom resources (stack and providers are bookkeeping), as the harness counts them. */
function summarizeEvents(events: EngineEvent[], command: EngineOptions["command"]) {
  const changes: Changes = { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
  const steps: Summary["steps"] = [];
  const failed: Failure[] = [];
  let outputs: Summary["outputs"] = {};
  for (const event of events) {
    const done = event.resOutputsEvent;
    if (done) {
      if (done.metadata.type === ROOT_STACK_TYPE && done.metadata.new)
        outputs = displayValue((done.metadata.new.outputs ?? {}) as Json) as Summary["outputs"];
      const op = countedOp(done.metadata, command);
      if (op) {
        changes[op]++;
        if (op !== "same") steps.push({ op, urn: done.metadata.urn });
      }
    }
    const diagnostic = event.diagnosticEvent;
    if (diagnostic?.severity !== "error" || !diagnostic.urn) continue;
    // One failure is one entry: `refresh --run-program` emits the same error of a resource twice (3.248).
    const failure = { urn: diagnostic.urn, message: diagnostic.message.trim() };
    if (!failed.some((known) => known.urn === failure.urn && known.message === failure.message)) failed.push(failure);
  }
  // In the order of the harness's summary, whose JSON the parity suite compares.
  return { changes, outputs, steps, failed };
}
