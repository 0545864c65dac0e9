/**
 * The dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`), started once per run, and a typed client for
 * the ResourceProvider calls the engine makes.
 */
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as readline from "readline";
import * as grpc from "@grpc/grpc-js";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import * as provgrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import * as statusproto from "@pulumi/pulumi/proto/status_pb";
import { PropertyMap, clean } from "./values";

export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.max_receive_message_length": 400 * 1024 * 1024,
  "grpc.max_send_message_length": 400 * 1024 * 1024,
};

/** Resolves a module of @pulumi/pulumi from the program's directory (its own SDK), else from the harness's. */
export function resolvePulumiModule(dir: string, subpath: string): string {
  try {
    return require.resolve(`@pulumi/pulumi/${subpath}`, { paths: [dir] });
  } catch {
    return require.resolve(`@pulumi/pulumi/${subpath}`);
  }
}

export const WATCHDOG = path.join(__dirname, "watchdog.js");

export function toStruct(v: PropertyMap): structproto.Struct {
  return structproto.Struct.fromJavaScript(clean(v) as { [key: string]: structproto.JavaScriptValue });
}

export function fromStruct(s: structproto.Struct | undefined): PropertyMap {
  return (s ? s.toJavaScript() : {}) as PropertyMap;
}

/** A failed provider call. `initFailed` is set for a partial failure (ErrorResourceInitFailed). */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly initFailed?: { id: string; properties: PropertyMap; reasons: string[] },
  ) {
    super(message);
  }
}

function providerError(err: grpc.ServiceError): ProviderError {
  const message = err.details || err.message;
  const raw = err.metadata?.get("grpc-status-details-bin") ?? [];
  for (const bin of raw) {
    if (!Buffer.isBuffer(bin)) continue;
    try {
      const status = statusproto.Status.deserializeBinary(new Uint8Array(bin));
      for (const any of status.getDetailsList()) {
        if (!any.getTypeUrl().endsWith("/pulumirpc.ErrorResourceInitFailed")) continue;
        const detail = provproto.ErrorResourceInitFailed.deserializeBinary(any.getValue_asU8());
        return new ProviderError(message, err.code, {
          id: detail.getId(),
          properties: fromStruct(detail.getProperties()),
          reasons: detail.getReasonsList(),
        });
      }
    } catch {
      // Not a status we understand: an ordinary failure.
    }
  }
  return new ProviderError(message, err.code);
}

type Callback<Res> = (err: grpc.ServiceError | null, res: Res) => void;

export interface CheckResult {
  inputs: PropertyMap;
  failures: { property: string; reason: string }[];
}
export interface DiffResult {
  changes: provproto.DiffResponse.DiffChanges;
  replaces: string[];
  deleteBeforeReplace: boolean;
}

export interface HostOptions {
  dir: string;
  engineAddress: string;
  env: NodeJS.ProcessEnv;
  /** Lines the host prints after its port (provider console.log). */
  onStdout: (line: string) => void;
  onStderr: (line: string) => void;
}

export class DynamicProviderHost {
  private constructor(
    private readonly child: ChildProcess,
    private readonly client: provgrpc.ResourceProviderClient,
    private readonly exited: Promise<void>,
  ) {}

  static async start(opts: HostOptions): Promise<DynamicProviderHost> {
    const hostPath = resolvePulumiModule(opts.dir, "cmd/dynamic-provider");
    const child = spawn(process.execPath, ["--require", WATCHDOG, hostPath, opts.engineAddress], {
      cwd: opts.dir,
      env: opts.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    readline.createInterface({ input: child.stderr! }).on("line", opts.onStderr);
    const port = await new Promise<number>((resolve, reject) => {
      let first = true;
      readline.createInterface({ input: child.stdout! }).on("line", (line) => {
        if (first) {
          first = false;
          const port = Number(line.trim());
          if (Number.isInteger(port) && port > 0) resolve(port);
          else reject(new Error(`dynamic-provider host printed ${JSON.stringify(line)} instead of its port`));
          return;
        }
        opts.onStdout(line);
      });
      child.once("error", reject);
      child.once("exit", (code, signal) => reject(new Error(`dynamic-provider host exited (${signal ?? code}) before printing its port`)));
    });
    const client = new provgrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    return new DynamicProviderHost(child, client, exited);
  }

  private call<Res>(method: "configure" | "check" | "diff" | "create" | "update" | "read" | "delete", req: unknown): Promise<Res> {
    const fn = this.client[method] as unknown as (req: unknown, cb: Callback<Res>) => unknown;
    return new Promise<Res>((resolve, reject) => {
      fn.call(this.client, req, (err: grpc.ServiceError | null, res: Res) => {
        if (err) reject(providerError(err));
        else resolve(res);
      });
    });
  }

  /** Sends the whole stack configuration (secret values already wrapped) once. */
  async configure(args: PropertyMap): Promise<void> {
    const req = new provproto.ConfigureRequest();
    req.setArgs(toStruct(args));
    req.setAcceptsecrets(true);
    req.setAcceptresources(true);
    req.setSendsOldInputs(true);
    req.setSendsOldInputsToDelete(true);
    await this.call<provproto.ConfigureResponse>("configure", req);
  }

  async check(urn: string, olds: PropertyMap, news: PropertyMap): Promise<CheckResult> {
    const req = new provproto.CheckRequest();
    req.setUrn(urn);
    req.setName(urnName(urn));
    req.setType(urnType(urn));
    req.setOlds(toStruct(olds));
    req.setNews(toStruct(news));
    const res = await this.call<provproto.CheckResponse>("check", req);
    return {
      inputs: res.getInputs() ? fromStruct(res.getInputs()) : news,
      failures: res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
    };
  }

  async diff(
    id: string,
    urn: string,
    oldOutputs: PropertyMap,
    oldInputs: PropertyMap,
    news: PropertyMap,
    ignoreChanges: string[],
  ): Promise<DiffResult> {
    const req = new provproto.DiffRequest();
    req.setId(id);
    req.setUrn(urn);
    req.setName(urnName(urn));
    req.setType(urnType(urn));
    req.setOlds(toStruct(oldOutputs));
    req.setOldInputs(toStruct(oldInputs));
    req.setNews(toStruct(news));
    req.setIgnorechangesList(ignoreChanges);
    const res = await this.call<provproto.DiffResponse>("diff", req);
    return { changes: res.getChanges(), replaces: res.getReplacesList(), deleteBeforeReplace: res.getDeletebeforereplace() };
  }

  async create(urn: string, properties: PropertyMap): Promise<{ id: string; properties: PropertyMap }> {
    const req = new provproto.CreateRequest();
    req.setUrn(urn);
    req.setName(urnName(urn));
    req.setType(urnType(urn));
    req.setProperties(toStruct(properties));
    const res = await this.call<provproto.CreateResponse>("create", req);
    return { id: res.getId(), properties: fromStruct(res.getProperties()) };
  }

  async update(
    id: string,
    urn: string,
    oldOutputs: PropertyMap,
    oldInputs: PropertyMap,
    news: PropertyMap,
    ignoreChanges: string[],
  ): Promise<PropertyMap> {
    const req = new provproto.UpdateRequest();
    req.setId(id);
    req.setUrn(urn);
    req.setName(urnName(urn));
    req.setType(urnType(urn));
    req.setOlds(toStruct(oldOutputs));
    req.setOldInputs(toStruct(oldInputs));
    req.setNews(toStruct(news));
    req.setIgnorechangesList(ignoreChanges);
    const res = await this.call<provproto.UpdateResponse>("update", req);
    return fromStruct(res.getProperties());
  }

  async read(
    id: string,
    urn: string,
    properties: PropertyMap,
    inputs: PropertyMap | undefined,
  ): Promise<{ id: string; properties: PropertyMap; inputs?: PropertyMap }> {
    const req = new provproto.ReadRequest();
    req.setId(id);
    req.setUrn(urn);
    req.setName(urnName(urn));
    req.setType(urnType(urn));
    req.setProperties(toStruct(properties));
    if (inputs) req.setInputs(toStruct(inputs));
    const res = await this.call<provproto.ReadResponse>("read", req);
    return {
      id: res.getId(),
      properties: fromStruct(res.getProperties()),
      inputs: res.getInputs() ? fromStruct(res.getInputs()) : undefined,
    };
  }

  async delete(id: string, urn: string, outputs: PropertyMap, inputs: PropertyMap): Promise<void> {
    const req = new provproto.DeleteRequest();
    req.setId(id);
    req.setUrn(urn);
    req.setName(urnName(urn));
    req.setType(urnType(urn));
    req.setProperties(toStruct(outputs));
    req.setOldInputs(toStruct(inputs));
    await this.call<unknown>("delete", req);
  }

  /** Stops the host and waits (briefly) for its output to drain. */
  async stop(): Promise<void> {
    this.client.close();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 2000).unref())]);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}

/** urn:pulumi:STACK::PROJECT::QUALIFIED$TYPE::NAME → NAME */
export function urnName(urn: string): string {
  const parts = urn.split("::");
  return parts.slice(3).join("::");
}

/** urn:pulumi:STACK::PROJECT::PARENT$TYPE::NAME → TYPE */
export function urnType(urn: string): string {
  const qualified = urn.split("::")[2] ?? "";
  const types = qualified.split("$");
  return types[types.length - 1];
}
