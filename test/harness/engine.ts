/**
 * The engine's part of `pulumi preview|up|refresh|destroy` for programs whose custom resources are dynamic resources.
 * The real program runtime registers resources (program.ts); the step executor checks, diffs and applies them through
 * the real dynamic-provider host (steps.ts, provider.ts); the delete scheduler removes what is gone (deletes.ts);
 * refresh.ts reads what exists. The state is the CLI's own checkpoint (test/pulumi/checkpoint.ts). README.md lists where it differs.
 */
import * as os from "node:os";
import * as path from "node:path";
// The first-in first-out limit the provider uses too: one primitive of its kind in the repository.
import { ConcurrencyLimit } from "../../provider/client";
import { startMonitor } from "./monitor";
import { deleteAll } from "./deletes";
import { ProgramRunner, Registrar } from "./program";
import { Project, StackConfig, readProject, readStackConfig } from "./project";
import { DynamicProviderHost } from "./provider";
import { refreshAll } from "./refresh";
import { Checkpoint, PROVIDER_TYPE, ROOT_STACK_TYPE, ResourceState } from "../pulumi/checkpoint";
import { CLI_FIX, StepExecutor, providerEntry } from "./steps";
import { Json, PropertyMap, Redactor, displayValue, makeSecret } from "./values";

export type Command = "preview" | "up" | "refresh" | "destroy";
export type StepOp = "create" | "update" | "replace" | "delete" | "same";

export const STEP_SYMBOLS = { create: "+", update: "~", replace: "+-", delete: "-", same: " " };
/** As the CLI's: four per CPU (`pulumi up --help`). */
const DEFAULT_PARALLEL = 4 * os.cpus().length;
/** The organization a file backend reports. */
export const ORGANIZATION = "organization";

export interface EngineOptions {
  command: Command;
  cwd: string;
  stack: string;
  /** The file backend's directory (PULUMI_BACKEND_URL=file://DIR); default DIR/.pulumi-state of the program. */
  backendDir?: string;
  config?: Record<string, string>;
  secrets?: Record<string, string>;
  parallel?: number;
  transpileOnly?: boolean;
  verbose?: boolean;
  /** `pulumi up|destroy --continue-on-error`: keep going after a failed step (the real CLI only). */
  continueOnError?: boolean;
  /** `pulumi refresh|destroy --run-program`: configure providers from the program's stack config, not the state's. */
  runProgram?: boolean;
}

/** Where the engine's running commentary goes. */
export interface Output {
  stdout(line: string): void;
  stderr(line: string): void;
}

export type Changes = Record<StepOp, number>;

export interface Failure {
  /** "" when the run itself failed, not a resource. */
  urn: string;
  message: string;
}

export interface Summary {
  engine: "harness" | "pulumi";
  command: Command;
  project: string;
  stack: string;
  stateFile: string;
  /** Steps of custom resources (the stack, components and providers are bookkeeping and are not counted). */
  changes: Changes;
  /** Stack outputs, secrets shown as "[secret]" and preview unknowns as "[unknown]". */
  outputs: { [key: string]: Json };
  /** Every step that changed something (not "same"), in completion order. */
  steps: { op: Exclude<StepOp, "same">; urn: string }[];
  failed: Failure[];
  /** The program runtime's exit status, when the program ran (1 when the harness stopped a failed program). */
  programExitCode?: number;
  durationMs: number;
}

export function backendDirOf(opts: Pick<EngineOptions, "cwd" | "backendDir">): string {
  return path.resolve(opts.backendDir ?? path.join(opts.cwd, ".pulumi-state"));
}

/** URN the way the engine builds it: a parent's type qualifies the child's, except the root stack's. */
export function makeUrn(stack: string, project: string, parentUrn: string, type: string, name: string): string {
  const parentType = parentUrn ? parentUrn.split("::")[2] : undefined;
  const qualified = parentType && parentType !== ROOT_STACK_TYPE ? `${parentType}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

export const nameOf = (urn: string) => urn.split("::").slice(3).join("::");

/** One run: what the program runner, the step executor, the delete scheduler and refresh share. */
export class Deployment {
  readonly preview: boolean;
  readonly project: Project;
  readonly config: StackConfig;
  readonly state: Checkpoint;
  readonly out: Output;
  /** `--parallel`: provider operations in flight at once. */
  readonly limit: ConcurrencyLimit;
  readonly changes: Changes = { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
  readonly steps: Summary["steps"] = [];
  readonly failed: Failure[] = [];
  /** Fail-fast: set by the first failure that cancels (see fail); nothing starts after it. */
  cancelled = false;
  /** The stack's outputs as the program registered them in this run. */
  stackOutputs: PropertyMap | undefined;
  engineAddress = "";
  /** What Configure sends the provider host: the stack config, or (refresh, destroy) the config saved in state. */
  providerConfig: PropertyMap;
  private hostStarted: Promise<DynamicProviderHost> | undefined;

  constructor(
    readonly opts: EngineOptions,
    out: Output,
    /** Everything printed passes it, program and provider output included; it learns every secret the run sees. */
    readonly redactor: Redactor,
  ) {
    this.out = { stdout: (line) => out.stdout(this.redactor.redact(line)), stderr: (line) => out.stderr(this.redactor.redact(line)) };
    this.preview = opts.command === "preview";
    this.limit = new ConcurrencyLimit(opts.parallel && opts.parallel > 0 ? opts.parallel : DEFAULT_PARALLEL);
    this.project = readProject(opts.cwd);
    if (opts.continueOnError) throw new Error(`the engine harness does not implement --continue-on-error; ${CLI_FIX}`);
    this.config = readStackConfig(this.project, opts.stack, opts);
    this.state = Checkpoint.load(backendDirOf(opts), this.project.name, opts.stack, this.config.encryptionSalt);
    const pending = this.state.resources.find((r) => r.pendingReplacement);
    if (pending) throw new Error(`${pending.urn} is pending replacement (a delete-before-replace the Pulumi CLI began); ${CLI_FIX}`);
    const { values, secretKeys } = this.config;
    this.providerConfig = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, secretKeys.includes(k) ? makeSecret(v) : v]));
    this.redactor.addFrom(this.providerConfig);
    for (const r of this.state.resources) this.redactor.addFrom([r.inputs, r.outputs]);
  }

  host(): Promise<DynamicProviderHost> {
    this.hostStarted ??= DynamicProviderHost.start({
      dir: this.project.dir,
      engineAddress: this.engineAddress,
      env: {
        ...process.env,
        PULUMI_NODEJS_PROJECT: this.project.name,
        PULUMI_NODEJS_STACK: this.opts.stack,
        PULUMI_NODEJS_ORGANIZATION: ORGANIZATION,
      },
      out: this.out,
    }).then(async (host) => {
      await host.configure(this.providerConfig);
      return host;
    });
    return this.hostStarted;
  }

  async stopHost(): Promise<void> {
    await this.hostStarted?.then((h) => h.stop()).catch(() => undefined);
  }

  /** Writes the checkpoint (never in a preview): the engine saves every step before it answers the program. */
  save(old: ResourceState | undefined, next: ResourceState | undefined): void {
    if (this.preview) return;
    if (next) this.redactor.addFrom([next.inputs, next.outputs]);
    this.state.replace(old, next);
    this.state.write();
  }

  step(op: StepOp, r: { type: string; urn: string }): void {
    this.changes[op]++;
    if (op !== "same") this.steps.push({ op, urn: r.urn });
    if (op !== "same" || this.opts.verbose) {
      this.out.stdout(`  ${STEP_SYMBOLS[op]} ${op} ${r.type} ${nameOf(r.urn)}${this.preview ? " (would)" : ""}`);
    }
  }

  /** Records a failure; `cancels` stops the deployment (fail-fast), as every failure does but a refused protected delete. */
  fail(urn: string, message: string, cancels: boolean): void {
    this.failed.push({ urn, message });
    this.cancelled ||= cancels;
    const [first, ...rest] = message.split("\n");
    this.out.stdout(`  error: ${urn}: ${first}`);
    for (const line of rest) this.out.stdout(`      ${line}`);
  }

  summary(started: number, programExitCode: number | undefined): Summary {
    const root = this.state.resources.find((r) => r.type === ROOT_STACK_TYPE);
    return {
      engine: "harness",
      command: this.opts.command,
      project: this.project.name,
      stack: this.opts.stack,
      stateFile: this.state.file,
      changes: this.changes,
      outputs: displayValue(this.stackOutputs ?? root?.outputs ?? {}) as Summary["outputs"],
      steps: this.steps,
      failed: this.failed,
      programExitCode,
      durationMs: Date.now() - started,
    };
  }
}

/** Answers a program run only to read it (refresh and destroy with --run-program): the resources as they are in state. */
function stateRegistrar(d: Deployment, counted: boolean): Registrar {
  return async ({ entry: declared }) => {
    const entry = d.state.resources.find((e) => e.urn === declared.urn && !e.delete);
    // Every registration is a step, in state or not: the CLI counts the program's resources "same" in a destroy.
    if (counted && declared.custom) d.step("same", declared);
    return { id: entry?.id ?? "", outputs: entry?.outputs ?? declared.inputs };
  };
}

/** preview, up: the program's resources, then the deletes of what it no longer has. */
async function update(d: Deployment, program: ProgramRunner): Promise<void> {
  const steps = new StepExecutor(d);
  const code = await program.run(steps.register);
  if (code !== 0 && d.failed.length === 0) d.fail(program.rootUrn || "program", `the program failed (exit code ${code})`, true);
  if (d.cancelled || code !== 0) return;
  await deleteAll(d, steps.leftovers());
}

/** refresh, destroy: with the config saved in state, or with --run-program the program's (saved in state as well). */
async function refreshOrDestroy(d: Deployment, program: ProgramRunner): Promise<void> {
  const saved = d.state.resources.find((r) => r.type === PROVIDER_TYPE && !r.delete);
  if (saved && d.opts.runProgram) providerEntry(d);
  else if (saved) d.providerConfig = saved.inputs;
  const destroy = d.opts.command === "destroy";
  if (!destroy) await refreshAll(d);
  if (d.opts.runProgram && !d.cancelled) await program.run(stateRegistrar(d, destroy));
  if (destroy && !d.cancelled) await deleteAll(d, [...d.state.resources]);
}

/** Runs one command; never throws for deployment failures (they are in the summary). */
export async function runDeployment(opts: EngineOptions, out: Output, redactor: Redactor): Promise<Summary> {
  const started = Date.now();
  const d = new Deployment(opts, out, redactor);
  const program = new ProgramRunner(d);
  const monitor = await startMonitor(program);
  d.engineAddress = monitor.address;
  const header = { preview: "Previewing update", up: "Updating", refresh: "Refreshing", destroy: "Destroying" }[opts.command];
  d.out.stdout(`${header} (${opts.stack}):`);
  try {
    await (opts.command === "preview" || opts.command === "up" ? update(d, program) : refreshOrDestroy(d, program));
  } finally {
    await d.stopHost();
    monitor.stop();
  }
  return d.summary(started, program.exitCode);
}
