/**
 * The dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`), started once per run, and a typed client for
 * the ResourceProvider calls the engine makes.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import * as grpc from "@grpc/grpc-js";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import * as provgrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import * as statusproto from "@pulumi/pulumi/proto/status_pb";
import type { Output } from "./engine";
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
    readonly initFailed?: { id: string; properties: PropertyMap; reasons: string[] },
  ) {
    super(message);
  }
}

function providerError(err: grpc.ServiceError): ProviderError {
  const message = err.details || err.message;
  for (const bin of err.metadata?.get("grpc-status-details-bin") ?? []) {
    if (!Buffer.isBuffer(bin)) continue;
    const status = statusproto.Status.deserializeBinary(new Uint8Array(bin));
    for (const any of status.getDetailsList()) {
      if (!any.getTypeUrl().endsWith("/pulumirpc.ErrorResourceInitFailed")) continue;
      const detail = provproto.ErrorResourceInitFailed.deserializeBinary(any.getValue_asU8());
      return new ProviderError(message, {
        id: detail.getId(),
        properties: fromStruct(detail.getProperties()),
        reasons: detail.getReasonsList(),
      });
    }
  }
  return new ProviderError(message);
}

export interface ReadResult {
  id: string;
  properties: PropertyMap;
  inputs?: PropertyMap;
}
export interface DiffResult {
  changes: provproto.DiffResponse.DiffChanges;
  replaces: string[];
  deleteBeforeReplace: boolean;
}

/** A Diff or Update: the resource's id and state, and its new inputs. */
export interface Change {
  urn: string;
  id: string;
  olds: PropertyMap;
  oldInputs: PropertyMap;
  news: PropertyMap;
}

/** `req` about the resource: its URN, and the name and type the URN ends with. */
function about<Req extends { setUrn(v: string): unknown; setName(v: string): unknown; setType(v: string): unknown }>(
  req: Req,
  urn: string,
): Req {
  const [, , qualifiedType, ...name] = urn.split("::");
  req.setUrn(urn);
  req.setName(name.join("::"));
  req.setType(qualifiedType.split("$").pop()!);
  return req;
}

export interface HostOptions {
  dir: string;
  engineAddress: string;
  env: NodeJS.ProcessEnv;
  /** Where the lines the host prints after its port (provider console.log), and its stderr, go. */
  out: Output;
}

export class DynamicProviderHost {
  private constructor(
    private readonly child: ChildProcess,
    private readonly client: provgrpc.ResourceProviderClient,
    private readonly exited: Promise<void>,
  ) {}

  static async start(opts: HostOptions): Promise<DynamicProviderHost> {
    const hostPath = resolvePulumiModule(opts.dir, "cmd/dynamic-provider");
    const args = ["--require", WATCHDOG, hostPath, opts.engineAddress];
    const child = spawn(process.execPath, args, { cwd: opts.dir, env: opts.env, stdio: ["pipe", "pipe", "pipe"] });
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    readline.createInterface({ input: child.stderr! }).on("line", opts.out.stderr);
    const port = await new Promise<number>((resolve, reject) => {
      let first = true;
      readline.createInterface({ input: child.stdout! }).on("line", (line) => {
        if (!first) return opts.out.stdout(line);
        first = false;
        const port = Number(line.trim());
        if (Number.isInteger(port) && port > 0) resolve(port);
        else reject(new Error(`dynamic-provider host printed ${JSON.stringify(line)} instead of its port`));
      });
      child.once("error", reject);
      child.once("exit", (code, signal) => reject(new Error(`dynamic-provider host exited (${signal ?? code}) before printing its port`)));
    });
    const client = new provgrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    return new DynamicProviderHost(child, client, exited);
  }

  private call<Res>(method: "configure" | "check" | "diff" | "create" | "update" | "read" | "delete", req: unknown): Promise<Res> {
    const fn = this.client[method] as unknown as (req: unknown, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown;
    return new Promise<Res>((resolve, reject) =>
      fn.call(this.client, req, (err: grpc.ServiceError | null, res: Res) => (err ? reject(providerError(err)) : resolve(res))),
    );
  }

  /** Sends the whole stack configuration (secret values wrapped) once. */
  async configure(args: PropertyMap): Promise<void> {
    const req = new provproto.ConfigureRequest().setArgs(toStruct(args)).setAcceptsecrets(true).setAcceptresources(true);
    await this.call("configure", req.setSendsOldInputs(true).setSendsOldInputsToDelete(true));
  }

  async check(urn: string, olds: PropertyMap, news: PropertyMap) {
    const req = about(new provproto.CheckRequest(), urn).setOlds(toStruct(olds)).setNews(toStruct(news));
    const res = await this.call<provproto.CheckResponse>("check", req);
    return {
      inputs: res.getInputs() ? fromStruct(res.getInputs()) : news,
      failures: res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
    };
  }

  async diff(c: Change): Promise<DiffResult> {
    const req = about(new provproto.DiffRequest(), c.urn).setId(c.id).setOlds(toStruct(c.olds)).setOldInputs(toStruct(c.oldInputs));
    const res = await this.call<provproto.DiffResponse>("diff", req.setNews(toStruct(c.news)));
    return { changes: res.getChanges(), replaces: res.getReplacesList(), deleteBeforeReplace: res.getDeletebeforereplace() };
  }

  async create(urn: string, properties: PropertyMap): Promise<{ id: string; properties: PropertyMap }> {
    const req = about(new provproto.CreateRequest(), urn).setProperties(toStruct(properties));
    const res = await this.call<provproto.CreateResponse>("create", req);
    return { id: res.getId(), properties: fromStruct(res.getProperties()) };
  }

  async update(c: Change): Promise<PropertyMap> {
    const req = about(new provproto.UpdateRequest(), c.urn).setId(c.id).setOlds(toStruct(c.olds)).setOldInputs(toStruct(c.oldInputs));
    const res = await this.call<provproto.UpdateResponse>("update", req.setNews(toStruct(c.news)));
    return fromStruct(res.getProperties());
  }

  async read(urn: string, id: string, properties: PropertyMap, inputs: PropertyMap): Promise<ReadResult> {
    const req = about(new provproto.ReadRequest(), urn).setId(id).setProperties(toStruct(properties)).setInputs(toStruct(inputs));
    const res = await this.call<provproto.ReadResponse>("read", req);
    return { id: res.getId(), properties: fromStruct(res.getProperties()), inputs: res.getInputs() && fromStruct(res.getInputs()) };
  }

  async delete(urn: string, id: string, properties: PropertyMap, oldInputs: PropertyMap): Promise<void> {
    const req = about(new provproto.DeleteRequest(), urn).setId(id).setProperties(toStruct(properties));
    await this.call("delete", req.setOldInputs(toStruct(oldInputs)));
  }

  /** Stops the host and waits (briefly) for its output to drain. */
  async stop(): Promise<void> {
    this.client.close();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 2000).unref())]);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}
