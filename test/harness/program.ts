/**
 * The program runner: runs the real program runtime (`@pulumi/pulumi/cmd/run`) against the harness's ResourceMonitor
 * and hands each registration to a Registrar (the step executor in an update). It also answers StackReference reads,
 * records the stack's outputs and prints the runtime's logs.
 */
import { spawn } from "node:child_process";
import { isDeepStrictEqual } from "node:util";
import * as readline from "node:readline";
import * as grpc from "@grpc/grpc-js";
import * as engineproto from "@pulumi/pulumi/proto/engine_pb";
import * as resproto from "@pulumi/pulumi/proto/resource_pb";
import { ROOT_STACK_TYPE, ResourceState, checkpointFile, readState } from "../pulumi/checkpoint";
import { Deployment, ORGANIZATION, backendDirOf, makeUrn, nameOf } from "./engine";
import { RpcError } from "./monitor";
import { WATCHDOG, fromStruct, resolvePulumiModule, toStruct } from "./provider";
import { PropertyMap, clean, isSecret, stripSecrets } from "./values";

const STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference";

/**
 * The resource options the harness leaves to the CLI. A program that sets one is refused rather than run otherwise
 * than the CLI runs it (the parity suite runs protect, deleteBeforeReplace, ignoreChanges and replaceOnChanges on
 * the CLI alone).
 */
const UNSUPPORTED_OPTIONS: Record<string, (req: resproto.RegisterResourceRequest) => boolean> = {
  import: (req) => req.getImportid() !== "",
  protect: (req) => req.getProtect() === true,
  retainOnDelete: (req) => req.getRetainondelete() === true,
  deleteBeforeReplace: (req) => req.getDeletebeforereplace(),
  ignoreChanges: (req) => req.getIgnorechangesList().length > 0,
  replaceOnChanges: (req) => req.getReplaceonchangesList().length > 0,
  additionalSecretOutputs: (req) => req.getAdditionalsecretoutputsList().length > 0,
};

/** A resource as the program registered it: the entry it declares (no id, outputs or provider yet), and the options the state does not keep. */
export interface Registration {
  entry: ResourceState;
  aliases: string[];
  /** The resource options it sets that the harness does not implement (UNSUPPORTED_OPTIONS). */
  unsupported: string[];
}

export interface Answer {
  id: string;
  outputs: PropertyMap;
}

export type Registrar = (r: Registration) => Promise<Answer>;

function registration(req: resproto.RegisterResourceRequest, stack: string, project: string): Registration {
  const propertyDependencies: { [key: string]: string[] } = {};
  for (const [key, deps] of req.getPropertydependenciesMap().entries()) propertyDependencies[key] = deps.getUrnsList();
  const some = (v: string[]) => (v.length > 0 ? v : undefined);
  const entry = clean({
    urn: makeUrn(stack, project, req.getParent(), req.getType(), req.getName()),
    custom: req.getCustom(),
    type: req.getType(),
    inputs: fromStruct(req.getObject()),
    outputs: {},
    parent: req.getParent() || undefined,
    dependencies: some(req.getDependenciesList()),
    propertyDependencies: Object.keys(propertyDependencies).length > 0 ? propertyDependencies : undefined,
  });
  const unsupported = Object.keys(UNSUPPORTED_OPTIONS).filter((option) => UNSUPPORTED_OPTIONS[option](req));
  return { entry, aliases: req.getAliasurnsList(), unsupported };
}

export class ProgramRunner {
  rootUrn = "";
  exitCode: number | undefined;
  private registrar: Registrar | undefined;
  private readonly registered = new Set<string>();
  private inflight = 0;
  private lastCallAt = Date.now();
  /** The runtime logged an unhandled error: the program has failed for good. */
  private programFailed = false;

  constructor(private readonly d: Deployment) {}

  /** Runs the program to its end, or until it has failed (or the deployment was cancelled) and gone quiet. */
  async run(registrar: Registrar): Promise<number> {
    this.registrar = registrar;
    const { project, opts } = this.d;
    const args = [
      ...["--require", WATCHDOG, resolvePulumiModule(project.dir, "cmd/run")],
      ...[`--monitor=${this.d.engineAddress}`, `--engine=${this.d.engineAddress}`, `--organization=${ORGANIZATION}`],
      ...[`--project=${project.name}`, `--stack=${opts.stack}`, `--pwd=${project.dir}`, `--parallel=${this.d.limit.size}`],
      ...(this.d.preview ? ["--dry-run"] : []),
      project.main,
    ];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PULUMI_CONFIG: JSON.stringify(this.d.config.values),
      PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(this.d.config.secretKeys),
      ...(project.typescript ? { PULUMI_NODEJS_TYPESCRIPT: "true" } : {}),
      ...(opts.transpileOnly ? { PULUMI_NODEJS_TRANSPILE_ONLY: "true" } : {}),
    };
    const child = spawn(process.execPath, args, { cwd: project.dir, env, stdio: ["pipe", "pipe", "pipe"] });
    const drained = [child.stdout!, child.stderr!].map(
      (input, i) =>
        new Promise((resolve) =>
          readline
            .createInterface({ input })
            .on("line", i ? this.d.out.stderr : this.d.out.stdout)
            .on("close", resolve),
        ),
    );
    // A program whose registration failed does not exit promptly: the SDK formats every rejected output for seconds
    // to minutes. Once it has failed and gone quiet, end it, as the engine cancels the program after a failed step.
    let stopped = false;
    const watch = setInterval(() => {
      if (stopped || !(this.d.cancelled || this.programFailed) || this.inflight > 0 || Date.now() - this.lastCallAt < 500) return;
      stopped = true;
      child.kill("SIGTERM");
      setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"), 1000).unref();
    }, 100);
    this.exitCode = await new Promise<number>((resolve) => {
      child.once("error", (e) => {
        this.d.out.stderr(`error: cannot start the program runtime: ${e.message}`);
        resolve(1);
      });
      child.once("exit", (code, signal) => void Promise.all(drained).then(() => resolve(stopped ? 1 : (code ?? (signal ? 128 : 1)))));
    });
    clearInterval(watch);
    return this.exitCode;
  }

  log(severity: engineproto.LogSeverity, message: string, urn: string, ephemeral: boolean): void {
    this.lastCallAt = Date.now();
    if (severity === engineproto.LogSeverity.ERROR && !urn && message.startsWith("Running program ")) this.programFailed = true;
    if (ephemeral || (severity === engineproto.LogSeverity.DEBUG && !this.d.opts.verbose)) return;
    const level = ["debug", "info", "warning", "error"][severity] ?? "info";
    const where = urn ? `${nameOf(urn)}: ` : "";
    for (const line of message.replace(/\n+$/, "").split("\n")) this.d.out.stdout(`  ${level}: ${where}${line}`);
  }

  registerResourceOutputs(urn: string, outputs: PropertyMap): void {
    this.d.redactor.addFrom(outputs);
    const entry = this.d.state.resources.find((r) => r.urn === urn && !r.custom);
    if (urn === this.rootUrn || entry?.type === ROOT_STACK_TYPE) this.d.stackOutputs = outputs;
    if (entry && this.registered.has(urn) && !isDeepStrictEqual(entry.outputs, outputs)) this.d.save(entry, { ...entry, outputs });
  }

  async registerResource(req: resproto.RegisterResourceRequest): Promise<resproto.RegisterResourceResponse> {
    this.lastCallAt = Date.now();
    const r = registration(req, this.d.opts.stack, this.d.project.name);
    const { urn, type, inputs } = r.entry;
    if (this.registered.has(urn)) throw new RpcError(grpc.status.ALREADY_EXISTS, `duplicate resource URN '${urn}'`);
    this.registered.add(urn);
    if (type === ROOT_STACK_TYPE) this.rootUrn = urn;
    this.d.redactor.addFrom(inputs);
    this.inflight++;
    try {
      const answer = await this.registrar!(r);
      const res = new resproto.RegisterResourceResponse().setUrn(urn).setId(answer.id);
      res.setObject(toStruct(req.getAcceptsecrets() ? answer.outputs : stripSecrets(answer.outputs)));
      for (const [key, urns] of Object.entries(r.entry.propertyDependencies ?? {})) {
        res.getPropertydependenciesMap().set(key, new resproto.RegisterResourceResponse.PropertyDependencies().setUrnsList(urns));
      }
      return res;
    } finally {
      this.inflight--;
      this.lastCallAt = Date.now();
    }
  }

  /** StackReference only: `[organization/][project/]stack`, read from the same file backend as this stack. */
  async readResource(req: resproto.ReadResourceRequest): Promise<resproto.ReadResourceResponse> {
    this.lastCallAt = Date.now();
    if (req.getType() !== STACK_REFERENCE_TYPE) {
      throw new RpcError(grpc.status.UNIMPLEMENTED, `reading ${req.getType()} is not supported by the engine harness`);
    }
    const name = req.getId();
    const [stack, project = this.d.project.name] = name.split("/").reverse();
    const stored = readState(checkpointFile(backendDirOf(this.d.opts), project, stack), { decrypt: true });
    if (!stored) throw new RpcError(grpc.status.NOT_FOUND, `unknown stack "${name}"`);
    const { outputs } = stored;
    this.d.redactor.addFrom(outputs);
    const props = { name, outputs, secretOutputNames: Object.keys(outputs).filter((k) => isSecret(outputs[k])) };
    const res = new resproto.ReadResourceResponse().setUrn(
      makeUrn(this.d.opts.stack, this.d.project.name, req.getParent(), req.getType(), req.getName()),
    );
    return res.setProperties(toStruct(req.getAcceptsecrets() ? props : stripSecrets(props)));
  }
}
