/**
 * The engine's part of `pulumi preview|up|refresh|destroy`, for programs whose custom resources are Pulumi dynamic
 * resources: it runs the real program runtime against its own ResourceMonitor (monitor.ts), drives the real
 * dynamic-provider host (provider.ts) the way the Pulumi engine does, and keeps the state file (state.ts).
 *
 * What it reproduces, and where it knowingly differs from the real engine, is listed in README.md beside this file.
 */
import { spawn } from "child_process";
import * as path from "path";
import * as readline from "readline";
import * as grpc from "@grpc/grpc-js";
import * as engineproto from "@pulumi/pulumi/proto/engine_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import * as resproto from "@pulumi/pulumi/proto/resource_pb";
import { MonitorHandler, MonitorServer, RpcError } from "./monitor";
import { Project, StackConfig, readProject, readStackConfig } from "./project";
import { DynamicProviderHost, ProviderError, WATCHDOG, fromStruct, resolvePulumiModule, toStruct } from "./provider";
import { ResourceState, SecretCipher, StateFile, StateWriter, loadState, readStateFile } from "./state";
import { Json, PropertyMap, Redactor, annotateSecrets, deepEqual, displayValue, isSecret, makeSecret, stripSecrets } from "./values";

export type Command = "preview" | "up" | "refresh" | "destroy";
export type StepOp = "create" | "update" | "replace" | "delete" | "same";

export const DEFAULT_PARALLEL = 32;
export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";
export const STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference";
const DYNAMIC_TYPE_PREFIX = "pulumi-nodejs:dynamic";
/** The organization a local backend reports. */
const ORGANIZATION = "organization";

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
  /** `pulumi up|destroy --continue-on-error`: keep going after a failed step. */
  continueOnError?: boolean;
  /** `pulumi refresh|destroy --run-program`: configure providers from the program's stack config, not the state's. */
  runProgram?: boolean;
  /** `pulumi up --refresh`. */
  refresh?: boolean;
}

/** Where the engine's running commentary goes; the CLI redacts secrets on the way out. */
export interface Output {
  stdout(line: string): void;
  stderr(line: string): void;
}

export interface Changes {
  create: number;
  update: number;
  replace: number;
  delete: number;
  same: number;
}

export interface Failure {
  urn: string;
  message: string;
}

export interface Summary {
  engine: "harness" | "pulumi";
  command: Command;
  project: string;
  stack: string;
  stateFile: string;
  /** Steps of custom resources (the stack and components are bookkeeping and are not counted). */
  changes: Changes;
  /** Stack outputs, secrets shown as "[secret]" and preview unknowns as "[unknown]". */
  outputs: { [key: string]: Json };
  /** Every step that changed something (not "same"), in completion order. */
  steps: { op: Exclude<StepOp, "same">; urn: string }[];
  failed: Failure[];
  /** The program runtime's exit status (preview and up only; 1 when the harness stopped a failed program). */
  programExitCode?: number;
  durationMs: number;
  /** RPC name → calls, as the program runtime made them (harness only). */
  rpcs?: Record<string, number>;
}

/** At most `limit` operations at once. */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** The file backend of a run: the given directory, else `.pulumi-state` in the program's directory. */
export function backendDirOf(opts: Pick<EngineOptions, "cwd" | "backendDir">): string {
  return path.resolve(opts.backendDir ?? path.join(opts.cwd, ".pulumi-state"));
}

/** Where the harness keeps a stack's state: beside the real CLI's checkpoints, one file per stack. */
export function defaultStateFile(backendDir: string, project: string, stack: string): string {
  return path.join(backendDir, ".pulumi", "stacks", project, `${stack}.harness.json`);
}

/** URN the way the engine builds it: a parent's type qualifies the child's, except the root stack's. */
export function makeUrn(stack: string, project: string, parentUrn: string, type: string, name: string): string {
  let qualified = type;
  if (parentUrn) {
    const parentType = parentUrn.split("::")[2];
    if (parentType && parentType !== ROOT_STACK_TYPE) qualified = `${parentType}$${type}`;
  }
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function labelOf(r: { type: string; urn: string }): string {
  const name = r.urn.split("::").slice(3).join("::");
  return `${r.type} ${name}`;
}

export class Deployment implements MonitorHandler {
  readonly project: Project;
  readonly config: StackConfig;
  readonly stateFile: string;
  readonly redactor = new Redactor();
  private readonly command: Command;
  private readonly preview: boolean;
  private readonly parallel: number;
  private readonly sem: Semaphore;
  private readonly monitor: MonitorServer;
  private state!: StateFile;
  private cipher!: SecretCipher;
  private writer: StateWriter | undefined;

  /** Resources in the state as this run goes: old entries until replaced, new ones as steps complete. */
  private readonly live = new Map<string, ResourceState>();
  /** Old halves of replacements (and leftovers marked `delete` by an earlier run) still to be deleted. */
  private readonly pendingDeletes: ResourceState[] = [];
  /** Pending deletes that are the old halves of this run's replacements: part of a "replace", not counted again. */
  private readonly replacedThisRun = new Set<ResourceState>();
  private readonly registered = new Set<string>();
  private readonly inflight = new Set<Promise<unknown>>();
  private rootUrn = "";
  private stackOutputs: PropertyMap = {};
  private hostPromise: Promise<DynamicProviderHost> | undefined;

  private readonly changes: Changes = { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
  private readonly steps: Summary["steps"] = [];
  private readonly failed: Failure[] = [];
  private programExitCode: number | undefined;
  /** When the program is known to have failed (an error log or a failed step), and when it last called us. */
  private programFailed = false;
  private lastRpcAt = Date.now();

  private readonly out: Output;

  constructor(
    private readonly opts: EngineOptions,
    out: Output,
  ) {
    // Everything printed passes the redactor: program and provider output included.
    this.out = {
      stdout: (line) => out.stdout(this.redactor.redact(line)),
      stderr: (line) => out.stderr(this.redactor.redact(line)),
    };
    this.command = opts.command;
    this.preview = opts.command === "preview";
    this.parallel = opts.parallel && opts.parallel > 0 ? opts.parallel : DEFAULT_PARALLEL;
    this.sem = new Semaphore(this.parallel);
    this.project = readProject(opts.cwd);
    this.config = readStackConfig(this.project, opts.stack, { config: opts.config, secrets: opts.secrets });
    this.stateFile = defaultStateFile(backendDirOf(opts), this.project.name, opts.stack);
    for (const key of this.config.secretKeys) this.redactor.add(this.config.values[key]);
    this.monitor = new MonitorServer(this);
  }

  async run(): Promise<Summary> {
    const started = Date.now();
    for (const key of this.config.skipped) {
      this.out.stdout(`warning: config ${key} is an encrypted 'secure:' value the harness cannot read; pass it with --secret`);
    }
    const loaded = loadState(this.stateFile, this.project.name, this.opts.stack);
    this.state = loaded.state;
    this.cipher = loaded.cipher;
    if (this.state.project !== this.project.name || this.state.stack !== this.opts.stack) {
      throw new Error(
        `${this.stateFile} belongs to ${this.state.project}/${this.state.stack}, not ${this.project.name}/${this.opts.stack}`,
      );
    }
    for (const r of this.state.resources) {
      this.redactor.addFrom(r.inputs);
      this.redactor.addFrom(r.outputs);
      if (r.delete) this.pendingDeletes.push(r);
      else this.live.set(r.urn, r);
    }
    this.stackOutputs = this.state.outputs;
    this.redactor.addFrom(this.stackOutputs);
    if (!this.preview) {
      this.writer = new StateWriter(this.stateFile, () => this.snapshot(), this.cipher);
    }

    const header = { preview: "Previewing update", up: "Updating", refresh: "Refreshing", destroy: "Destroying" }[this.command];
    this.out.stdout(`${header} (${this.opts.stack}):`);
    const engineAddress = await this.monitor.start();
    try {
      const needsHost = this.command === "up" || this.command === "preview" || this.state.resources.some((r) => r.custom);
      if (needsHost) this.startHost(engineAddress).catch(() => undefined);
      switch (this.command) {
        case "preview":
        case "up":
          await this.update(engineAddress);
          break;
        case "refresh":
          await this.refresh();
          break;
        case "destroy":
          await this.destroy();
          break;
      }
    } finally {
      this.writer?.flush(true);
      if (this.hostPromise)
        await this.hostPromise.then(
          (h) => h.stop(),
          () => undefined,
        );
      await this.monitor.stop();
    }
    return {
      engine: "harness",
      command: this.command,
      project: this.project.name,
      stack: this.opts.stack,
      stateFile: this.stateFile,
      changes: this.changes,
      outputs: displayValue(this.stackOutputs) as { [key: string]: Json },
      steps: this.steps,
      failed: this.failed,
      programExitCode: this.programExitCode,
      durationMs: Date.now() - started,
      rpcs: Object.fromEntries([...this.monitor.calls.entries()].sort()),
    };
  }

  // ---- the provider host -------------------------------------------------------------------------------------

  private startHost(engineAddress: string): Promise<DynamicProviderHost> {
    if (!this.hostPromise) {
      this.hostPromise = (async () => {
        const host = await DynamicProviderHost.start({
          dir: this.project.dir,
          engineAddress,
          env: {
            ...process.env,
            PULUMI_NODEJS_PROJECT: this.project.name,
            PULUMI_NODEJS_STACK: this.opts.stack,
            PULUMI_NODEJS_ORGANIZATION: ORGANIZATION,
          },
          onStdout: (line) => this.out.stdout(line),
          onStderr: (line) => this.out.stderr(line),
        });
        const args: PropertyMap = {};
        for (const [key, value] of Object.entries(this.config.values)) {
          args[key] = this.config.secretKeys.includes(key) ? makeSecret(value) : value;
        }
        await host.configure(args);
        return host;
      })();
    }
    return this.hostPromise;
  }

  private host(): Promise<DynamicProviderHost> {
    if (!this.hostPromise) throw new Error("internal: provider host not started");
    return this.hostPromise;
  }

  // ---- bookkeeping -------------------------------------------------------------------------------------------

  private snapshot(): StateFile {
    return {
      version: 1,
      project: this.project.name,
      stack: this.opts.stack,
      resources: [...this.pendingDeletes, ...this.live.values()],
      outputs: this.stackOutputs,
    };
  }

  private touch(): void {
    this.writer?.touch();
  }

  private step(op: StepOp, r: { type: string; urn: string }): void {
    this.changes[op]++;
    if (op === "same") {
      if (this.opts.verbose) this.out.stdout(`    ${labelOf(r)} (unchanged)`);
      return;
    }
    this.steps.push({ op, urn: r.urn });
    const symbol = { create: "+", update: "~", replace: "+-", delete: "-" }[op];
    this.out.stdout(`  ${symbol} ${op} ${labelOf(r)}${this.preview ? " (would)" : ""}`);
  }

  private fail(urn: string, message: string): void {
    this.programFailed = true;
    this.failed.push({ urn, message });
    const [first, ...rest] = message.split("\n");
    this.out.stdout(`  error: ${urn}: ${first}`);
    for (const line of rest) this.out.stdout(`      ${line}`);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  // ---- preview / up --------------------------------------------------------------------------------------------

  private async update(engineAddress: string): Promise<void> {
    this.programExitCode = await this.runProgram(engineAddress);
    // Registrations the program started finish even when it failed.
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    if (this.programExitCode !== 0) {
      this.fail(
        this.rootUrn || "program",
        `the program failed (exit code ${this.programExitCode}); resources it did not register are left as they are`,
      );
      return;
    }
    if (this.failed.length > 0) return;
    const unregistered = [...this.live.values()].filter((r) => !this.registered.has(r.urn));
    await this.deleteAll([...this.pendingDeletes, ...unregistered]);
  }

  private runProgram(engineAddress: string): Promise<number> {
    const runPath = resolvePulumiModule(this.project.dir, "cmd/run");
    const args = [
      "--require",
      WATCHDOG,
      runPath,
      `--monitor=${engineAddress}`,
      `--engine=${engineAddress}`,
      `--organization=${ORGANIZATION}`,
      `--project=${this.project.name}`,
      `--stack=${this.opts.stack}`,
      `--pwd=${this.project.dir}`,
      `--parallel=${this.parallel}`,
      ...(this.preview ? ["--dry-run"] : []),
      this.project.main,
    ];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PULUMI_CONFIG: JSON.stringify(this.config.values),
      PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(this.config.secretKeys),
    };
    if (this.project.typescript) env.PULUMI_NODEJS_TYPESCRIPT = "true";
    if (this.opts.transpileOnly) env.PULUMI_NODEJS_TRANSPILE_ONLY = "true";
    const child = spawn(process.execPath, args, { cwd: this.project.dir, env, stdio: ["pipe", "pipe", "pipe"] });
    const stdoutDone = new Promise<void>((resolve) =>
      readline
        .createInterface({ input: child.stdout! })
        .on("line", (l) => this.out.stdout(l))
        .on("close", resolve),
    );
    const stderrDone = new Promise<void>((resolve) =>
      readline
        .createInterface({ input: child.stderr! })
        .on("line", (l) => this.out.stderr(l))
        .on("close", resolve),
    );
    // A program with an unhandled error (a failed registration always is one) does not exit promptly: the SDK
    // formats every rejected output for seconds to minutes, and keeps its connections open. Once it has failed
    // and gone quiet (no registration in flight, no call for half a second), end it, as the real engine cancels a
    // deployment after a failed step.
    let cancelled = false;
    const watch = setInterval(() => {
      if (cancelled || !this.programFailed || this.inflight.size > 0 || Date.now() - this.lastRpcAt < 500) return;
      cancelled = true;
      if (this.opts.verbose) this.out.stdout("  debug: the program failed; stopping it");
      child.kill("SIGTERM");
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }, 1000).unref();
    }, 100);
    return new Promise<number>((resolve) => {
      child.once("error", (e) => {
        clearInterval(watch);
        this.out.stderr(`error: cannot start the program runtime: ${e.message}`);
        resolve(1);
      });
      child.once("exit", (code, signal) => {
        clearInterval(watch);
        void Promise.all([stdoutDone, stderrDone]).then(() => resolve(cancelled ? 1 : (code ?? (signal ? 128 : 1))));
      });
    });
  }

  supportsFeature(id: string): boolean {
    // Only secrets: the SDK then sends resources as URN/ID, output values as plain values and aliases as URNs.
    return id === "secrets";
  }

  setRootResource(urn: string): void {
    this.rootUrn = urn;
  }

  getRootResource(): string {
    return this.rootUrn;
  }

  log(severity: engineproto.LogSeverity, message: string, urn: string, ephemeral: boolean): void {
    this.lastRpcAt = Date.now();
    // The runtime's report of an unhandled exception: the program has failed for good.
    if (severity === engineproto.LogSeverity.ERROR && !urn && message.startsWith("Running program ")) this.programFailed = true;
    if (ephemeral) return;
    if (severity === engineproto.LogSeverity.DEBUG && !this.opts.verbose) return;
    const level = ["debug", "info", "warning", "error"][severity] ?? "info";
    const where = urn ? `${urn.split("::").slice(3).join("::")}: ` : "";
    for (const line of message.replace(/\n+$/, "").split("\n")) this.out.stdout(`  ${level}: ${where}${line}`);
  }

  registerResourceOutputs(urn: string, outputs: PropertyMap): void {
    this.redactor.addFrom(outputs);
    if (urn === this.rootUrn || this.live.get(urn)?.type === ROOT_STACK_TYPE) this.stackOutputs = outputs;
    const entry = this.live.get(urn);
    if (entry && this.registered.has(urn)) {
      this.live.set(urn, { ...entry, outputs });
      this.touch();
    }
  }

  registerResource(req: resproto.RegisterResourceRequest): Promise<resproto.RegisterResourceResponse> {
    this.lastRpcAt = Date.now();
    return this.track(this.register(req));
  }

  private async register(req: resproto.RegisterResourceRequest): Promise<resproto.RegisterResourceResponse> {
    const type = req.getType();
    const name = req.getName();
    const parent = req.getParent();
    const urn = makeUrn(this.opts.stack, this.project.name, parent, type, name);
    if (this.registered.has(urn)) throw new RpcError(grpc.status.ALREADY_EXISTS, `duplicate resource URN '${urn}'`);
    this.registered.add(urn);
    const news = fromStruct(req.getObject());
    this.redactor.addFrom(news);
    const propertyDependencies: { [key: string]: string[] } = {};
    for (const [key, deps] of req.getPropertydependenciesMap().entries()) propertyDependencies[key] = deps.getUrnsList();
    const entry: ResourceState = {
      urn,
      type,
      id: "",
      custom: req.getCustom(),
      parent,
      dependencies: req.getDependenciesList(),
      propertyDependencies,
      inputs: news,
      outputs: {},
    };
    if (req.getProtect()) entry.protect = true;
    if (req.getRetainondelete()) entry.retainOnDelete = true;
    const old = this.findOld(urn, req.getAliasurnsList());

    let id = "";
    let outputs: PropertyMap;
    if (!entry.custom) {
      // The root stack and components: recorded, nothing to do. Their outputs come from RegisterResourceOutputs.
      if (type === ROOT_STACK_TYPE) this.rootUrn = urn;
      outputs = news;
      this.live.set(urn, { ...entry, outputs: old?.outputs ?? {} });
      if (old && old.urn !== urn) this.live.delete(old.urn);
      this.touch();
    } else {
      if (!type.startsWith(DYNAMIC_TYPE_PREFIX)) {
        this.fail(urn, `the engine harness runs only dynamic resources (${DYNAMIC_TYPE_PREFIX}/...); ${type} needs its provider plugin`);
        throw new RpcError(grpc.status.UNIMPLEMENTED, `${type} is not a dynamic resource; the engine harness cannot run its provider`);
      }
      if (req.getImportid()) {
        this.fail(urn, "the import option is not supported for dynamic resources (the engine sends no __provider to Read)");
        throw new RpcError(grpc.status.UNIMPLEMENTED, "import is not supported for dynamic resources");
      }
      const deleteBeforeReplace = req.getDeletebeforereplacedefined() ? req.getDeletebeforereplace() : undefined;
      ({ id, outputs } = await this.sem.run(() => this.customStep(entry, old, req.getIgnorechangesList(), deleteBeforeReplace)));
    }

    const res = new resproto.RegisterResourceResponse();
    res.setUrn(urn);
    res.setId(id);
    res.setObject(toStruct(req.getAcceptsecrets() ? outputs : stripSecrets(outputs)));
    res.setResult(resproto.Result.SUCCESS);
    const resDeps = res.getPropertydependenciesMap();
    for (const [key, urns] of Object.entries(propertyDependencies)) {
      resDeps.set(key, new resproto.RegisterResourceResponse.PropertyDependencies().setUrnsList(urns));
    }
    return res;
  }

  private findOld(urn: string, aliases: string[]): ResourceState | undefined {
    const direct = this.live.get(urn);
    if (direct) return direct;
    for (const alias of aliases) {
      const r = this.live.get(alias);
      if (r && !this.registered.has(alias)) return r;
    }
    return undefined;
  }

  /**
   * One custom resource: Check, then Diff against the state and Create / Update / replace, or nothing. Answers
   * the id and outputs for the program; a failure is recorded and rethrown as the program's gRPC error.
   */
  private async customStep(
    entry: ResourceState,
    old: ResourceState | undefined,
    ignoreChanges: string[],
    deleteBeforeReplaceOption: boolean | undefined,
  ): Promise<{ id: string; outputs: PropertyMap }> {
    const urn = entry.urn;
    const host = await this.host();
    const op = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn();
      } catch (e) {
        const message = `${what} failed: ${errorMessage(e)}`;
        this.fail(urn, message);
        throw new RpcError(grpc.status.UNKNOWN, message);
      }
    };

    // Check: old inputs against the registered ones. Secrets go to the provider as plain values, as the real
    // engine sends them to a provider that does not accept secrets; unknowns (preview) go as they are.
    let news = entry.inputs;
    if (old && ignoreChanges.length > 0) news = applyIgnoreChanges(news, old.inputs, ignoreChanges);
    const checked = await op("check", () => host.check(urn, stripSecrets(old?.inputs ?? {}), stripSecrets(news)));
    if (checked.failures.length > 0) {
      const lines = checked.failures.map((f) => (f.property ? `${f.property}: ${f.reason}` : f.reason));
      this.fail(urn, `check failed:\n${lines.join("\n")}`);
      throw new RpcError(grpc.status.INVALID_ARGUMENT, `check failed: ${lines.join("; ")}`);
    }
    const inputs = annotateSecrets(checked.inputs, news);
    const next: ResourceState = { ...entry, inputs };

    if (!old) {
      if (this.preview) {
        this.step("create", entry);
        return { id: "", outputs: inputs };
      }
      return this.create(host, next, "create", op);
    }

    const diff = await op("diff", () =>
      host.diff(old.id, urn, stripSecrets(old.outputs), stripSecrets(old.inputs), stripSecrets(inputs), ignoreChanges),
    );
    const hasChanges = diff.changes !== provproto.DiffResponse.DiffChanges.DIFF_NONE;
    if (diff.replaces.length > 0 && hasChanges) {
      const deleteBeforeReplace = deleteBeforeReplaceOption ?? diff.deleteBeforeReplace;
      if (this.preview) {
        this.step("replace", entry);
        return { id: "", outputs: inputs };
      }
      if (old.protect) {
        this.fail(urn, "the resource is protected and its change requires a replacement");
        throw new RpcError(grpc.status.FAILED_PRECONDITION, "protected resource cannot be replaced");
      }
      if (deleteBeforeReplace) {
        await op("delete (before replace)", () => this.deleteOne(host, old));
        this.live.delete(old.urn);
        this.touch();
      }
      const created = await this.create(host, next, "replace", op, deleteBeforeReplace ? undefined : old);
      return created;
    }
    if (!hasChanges && !(old.initErrors && old.initErrors.length > 0)) {
      this.step("same", entry);
      const same: ResourceState = { ...next, id: old.id, outputs: old.outputs };
      // Keep the old entry object when nothing changed: the state writer then reuses its serialized text.
      if (old.urn !== urn || !deepEqual(same, old)) {
        this.live.set(urn, same);
        if (old.urn !== urn) this.live.delete(old.urn);
        this.touch();
      }
      return { id: old.id, outputs: old.outputs };
    }
    if (this.preview) {
      // The dynamic provider does not support provider previews: the engine answers with the new inputs, and
      // output-only properties are unknown to the program.
      this.step("update", entry);
      return { id: old.id, outputs: inputs };
    }
    try {
      const props = await host.update(
        old.id,
        urn,
        stripSecrets(old.outputs),
        stripSecrets(old.inputs),
        stripSecrets(inputs),
        ignoreChanges,
      );
      const outputs = annotateSecrets(props, inputs);
      this.redactor.addFrom(outputs);
      this.live.set(urn, { ...next, id: old.id, outputs });
      if (old.urn !== urn) this.live.delete(old.urn);
      this.touch();
      this.step("update", entry);
      return { id: old.id, outputs };
    } catch (e) {
      return this.partialFailure(e, next, old.id, "update");
    }
  }

  private async create(
    host: DynamicProviderHost,
    next: ResourceState,
    kind: "create" | "replace",
    op: <T>(what: string, fn: () => Promise<T>) => Promise<T>,
    replaced?: ResourceState,
  ): Promise<{ id: string; outputs: PropertyMap }> {
    let created: { id: string; properties: PropertyMap };
    try {
      created = await host.create(next.urn, stripSecrets(next.inputs));
    } catch (e) {
      return this.partialFailure(e, next, undefined, kind === "replace" ? "create (replacement)" : "create", replaced);
    }
    if (!created.id) return op("create", () => Promise.reject(new Error("the provider returned an empty id")));
    const outputs = annotateSecrets(created.properties, next.inputs);
    this.redactor.addFrom(outputs);
    if (replaced) this.markReplaced(replaced);
    this.live.set(next.urn, { ...next, id: created.id, outputs });
    if (replaced && replaced.urn !== next.urn) this.live.delete(replaced.urn);
    this.touch();
    this.step(kind, next);
    return { id: created.id, outputs };
  }

  private markReplaced(old: ResourceState): void {
    const pending: ResourceState = { ...old, delete: true };
    this.pendingDeletes.push(pending);
    this.replacedThisRun.add(pending);
  }

  /**
   * A failed Create/Update. With ErrorResourceInitFailed the resource exists but did not initialize: it is kept
   * in the state with the id and properties given (and its init errors), so the next update finishes it. Any other
   * failure leaves the previous state entry (or none).
   */
  private partialFailure(e: unknown, next: ResourceState, oldId: string | undefined, what: string, replaced?: ResourceState): never {
    const message = `${what} failed: ${errorMessage(e)}`;
    if (e instanceof ProviderError && e.initFailed) {
      const id = e.initFailed.id || oldId || "";
      const outputs = annotateSecrets(e.initFailed.properties, next.inputs);
      this.redactor.addFrom(outputs);
      if (replaced) this.markReplaced(replaced);
      this.live.set(next.urn, {
        ...next,
        id,
        outputs,
        initErrors: e.initFailed.reasons.length > 0 ? e.initFailed.reasons : [errorMessage(e)],
      });
      if (replaced && replaced.urn !== next.urn) this.live.delete(replaced.urn);
      this.touch();
      this.fail(next.urn, `${message} (created as ${id} but not initialized; kept in the state)`);
    } else {
      this.fail(next.urn, message);
    }
    throw new RpcError(grpc.status.UNKNOWN, message);
  }

  readResource(req: resproto.ReadResourceRequest): Promise<resproto.ReadResourceResponse> {
    this.lastRpcAt = Date.now();
    return this.track(this.read(req));
  }

  private async read(req: resproto.ReadResourceRequest): Promise<resproto.ReadResourceResponse> {
    const type = req.getType();
    const urn = makeUrn(this.opts.stack, this.project.name, req.getParent(), type, req.getName());
    const res = new resproto.ReadResourceResponse();
    res.setUrn(urn);
    if (type === STACK_REFERENCE_TYPE) {
      const props = this.stackReference(req.getId());
      res.setProperties(toStruct(req.getAcceptsecrets() ? props : stripSecrets(props)));
      return res;
    }
    if (type.startsWith(DYNAMIC_TYPE_PREFIX)) {
      // Resource.get(): Read with the given properties (they carry __provider), not recorded in the state.
      const host = await this.host();
      const given = fromStruct(req.getProperties());
      const result = await this.sem
        .run(() => host.read(req.getId(), urn, stripSecrets(given), undefined))
        .catch((e: unknown) => {
          throw new RpcError(grpc.status.UNKNOWN, `read failed: ${errorMessage(e)}`);
        });
      if (!result.id) throw new RpcError(grpc.status.NOT_FOUND, `resource '${req.getId()}' does not exist`);
      const props = annotateSecrets(result.properties, given);
      this.redactor.addFrom(props);
      res.setProperties(toStruct(req.getAcceptsecrets() ? props : stripSecrets(props)));
      return res;
    }
    throw new RpcError(grpc.status.UNIMPLEMENTED, `reading ${type} is not supported by the engine harness`);
  }

  /**
   * StackReference "org/project/NAME": the outputs of the stack whose state file is NAME.json beside the current
   * state file (the local backend's layout, one directory per project).
   */
  private stackReference(name: string): PropertyMap {
    const stack = name.split("/").pop() ?? name;
    const file = path.join(path.dirname(this.stateFile), `${stack}.harness.json`);
    const raw = readStateFile(file);
    if (!raw) throw new RpcError(grpc.status.NOT_FOUND, `unknown stack "${name}" (no state file ${file})`);
    const cipher = new SecretCipher(raw.secretsProvider?.salt);
    const outputs = cipher.open(raw.outputs ?? {}) as PropertyMap;
    this.redactor.addFrom(outputs);
    const secretOutputNames = Object.keys(outputs).filter((k) => isSecret(outputs[k]));
    return { name, outputs, secretOutputNames };
  }

  // ---- deletes -----------------------------------------------------------------------------------------------

  private async deleteOne(host: DynamicProviderHost, r: ResourceState): Promise<void> {
    if (!r.custom || !r.id || r.retainOnDelete) return;
    await host.delete(r.id, r.urn, stripSecrets(r.outputs), stripSecrets(r.inputs));
  }

  private forget(r: ResourceState): void {
    const i = this.pendingDeletes.indexOf(r);
    if (i >= 0) this.pendingDeletes.splice(i, 1);
    else if (this.live.get(r.urn) === r) this.live.delete(r.urn);
    this.touch();
  }

  /**
   * Deletes `entries` dependents first (a resource goes only after every entry that depends on it, or has it as
   * parent), independent ones in parallel up to --parallel. A failed delete keeps the resource, and the resources
   * it depends on, in the state.
   */
  private async deleteAll(entries: ResourceState[]): Promise<void> {
    if (entries.length === 0) return;
    const set = new Set(entries);
    const byUrn = new Map<string, ResourceState[]>();
    for (const r of entries) byUrn.set(r.urn, [...(byUrn.get(r.urn) ?? []), r]);
    const dependenciesOf = (r: ResourceState): ResourceState[] => {
      const urns = new Set([r.parent, ...(r.dependencies ?? []), ...Object.values(r.propertyDependencies ?? {}).flat()]);
      const result: ResourceState[] = [];
      for (const u of urns) for (const d of byUrn.get(u) ?? []) if (d !== r && set.has(d)) result.push(d);
      return result;
    };
    const blockers = new Map<ResourceState, number>(entries.map((r) => [r, 0]));
    for (const r of entries) for (const d of dependenciesOf(r)) blockers.set(d, (blockers.get(d) ?? 0) + 1);

    const host = entries.some((r) => r.custom && r.id && !r.retainOnDelete && !this.preview) ? await this.host() : undefined;
    const started = new Set<ResourceState>();
    await new Promise<void>((resolve) => {
      let running = 0;
      const launch = () => {
        for (const r of entries) {
          if (started.has(r) || (blockers.get(r) ?? 0) > 0) continue;
          started.add(r);
          running++;
          void this.sem
            .run(async () => {
              if (r.protect && r.custom && !this.preview) throw new Error("the resource is protected; unprotect it before deleting it");
              if (!this.preview && host) await this.deleteOne(host, r);
            })
            .then(
              () => {
                if (this.replacedThisRun.has(r)) this.out.stdout(`  - delete original ${labelOf(r)} (${r.id})`);
                else if (r.custom) this.step("delete", r);
                if (!this.preview) this.forget(r);
                for (const d of dependenciesOf(r)) blockers.set(d, (blockers.get(d) ?? 1) - 1);
              },
              (e: unknown) => this.fail(r.urn, `delete failed: ${errorMessage(e)}`),
            )
            .finally(() => {
              running--;
              launch();
              if (running === 0) resolve();
            });
        }
      };
      launch();
      if (running === 0) resolve();
    });
    const left = entries.filter((r) => !started.has(r));
    if (left.length > 0 && this.failed.length === 0) {
      // Only a dependency cycle (not possible from a program) leaves entries unstarted without a failure.
      for (const r of left) this.fail(r.urn, "not deleted: dependency cycle in the state");
    }
  }

  // ---- refresh / destroy -------------------------------------------------------------------------------------

  private async refresh(): Promise<void> {
    const entries = [...this.pendingDeletes, ...this.live.values()].filter((r) => r.custom && r.id);
    await Promise.all(
      entries.map((r) =>
        this.sem.run(async () => {
          const host = await this.host();
          let result: Awaited<ReturnType<DynamicProviderHost["read"]>>;
          try {
            result = await host.read(r.id, r.urn, stripSecrets(r.outputs), stripSecrets(r.inputs));
          } catch (e) {
            this.fail(r.urn, `refresh failed: ${errorMessage(e)}`);
            return;
          }
          if (!result.id) {
            this.step("delete", r);
            this.forget(r);
            return;
          }
          const outputs = annotateSecrets(result.properties, r.outputs);
          const inputs = result.inputs ? annotateSecrets(result.inputs, r.inputs) : r.inputs;
          this.redactor.addFrom(outputs);
          const changed = !deepEqual(stripSecrets(outputs), stripSecrets(r.outputs)) || result.id !== r.id;
          const updated: ResourceState = { ...r, id: result.id, outputs, inputs };
          if (!deepEqual(updated, r)) {
            const i = this.pendingDeletes.indexOf(r);
            if (i >= 0) this.pendingDeletes[i] = updated;
            else this.live.set(r.urn, updated);
            this.touch();
          }
          this.step(changed ? "update" : "same", r);
        }),
      ),
    );
  }

  private async destroy(): Promise<void> {
    await this.deleteAll([...this.pendingDeletes, ...this.live.values()]);
    if (this.failed.length === 0) {
      this.live.clear();
      this.pendingDeletes.length = 0;
      this.stackOutputs = {};
      this.touch();
    }
  }
}

/** `ignoreChanges` of top-level properties (and dotted paths into objects): keep the old input value. */
export function applyIgnoreChanges(news: PropertyMap, olds: PropertyMap, paths: string[]): PropertyMap {
  const result = JSON.parse(JSON.stringify(news)) as PropertyMap;
  for (const p of paths) {
    const keys = p.split(".");
    let src: Json | undefined = olds;
    let dst: { [key: string]: Json } = result;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const last = i === keys.length - 1;
      const srcObj: { [key: string]: Json } | undefined =
        src && typeof src === "object" && !Array.isArray(src) ? (src as { [key: string]: Json }) : undefined;
      if (last) {
        if (srcObj && k in srcObj) dst[k] = srcObj[k];
        else delete dst[k];
      } else {
        src = srcObj?.[k];
        const child = dst[k];
        if (!child || typeof child !== "object" || Array.isArray(child)) break;
        dst = child as { [key: string]: Json };
      }
    }
  }
  return result;
}

/** Runs one command; never throws for deployment failures (they are in the summary). */
export async function runDeployment(opts: EngineOptions, out: Output): Promise<{ summary: Summary; redactor: Redactor }> {
  const deployment = new Deployment(opts, out);
  const summary = await deployment.run();
  return { summary, redactor: deployment.redactor };
}
