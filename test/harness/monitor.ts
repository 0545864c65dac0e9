/**
 * The gRPC face of the engine: the ResourceMonitor and Engine services the program runtime (and the provider host's
 * logging) connect to. Each call goes to a MonitorHandler; a handler error becomes a gRPC error for the caller.
 */
import * as grpc from "@grpc/grpc-js";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as enginegrpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as engineproto from "@pulumi/pulumi/proto/engine_pb";
import * as resgrpc from "@pulumi/pulumi/proto/resource_grpc_pb";
import * as resproto from "@pulumi/pulumi/proto/resource_pb";
import { CHANNEL_OPTIONS, fromStruct } from "./provider";
import { PropertyMap } from "./values";

/** An error to answer the program with. */
export class RpcError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

export interface MonitorHandler {
  supportsFeature(id: string): boolean;
  registerResource(req: resproto.RegisterResourceRequest): Promise<resproto.RegisterResourceResponse>;
  readResource(req: resproto.ReadResourceRequest): Promise<resproto.ReadResourceResponse>;
  registerResourceOutputs(urn: string, outputs: PropertyMap): void;
  log(severity: engineproto.LogSeverity, message: string, urn: string, ephemeral: boolean): void;
  setRootResource(urn: string): void;
  getRootResource(): string;
}

type Unary = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => void;

export class MonitorServer {
  private server: grpc.Server | undefined;

  constructor(private readonly handler: MonitorHandler) {}

  private unary<Req, Res>(fn: (req: Req) => Res | Promise<Res>): Unary {
    return (call, callback) => {
      Promise.resolve()
        .then(() => fn(call.request as Req))
        .then(
          (res) => callback(null, res),
          (err: unknown) => {
            const code = err instanceof RpcError ? err.code : grpc.status.UNKNOWN;
            const details = err instanceof Error ? err.message : String(err);
            callback({ code, details, metadata: new grpc.Metadata() }, null);
          },
        );
    };
  }

  private unimplemented(name: string): Unary {
    return this.unary(() => {
      throw new RpcError(grpc.status.UNIMPLEMENTED, `${name} is not supported by the engine harness`);
    });
  }

  async start(): Promise<string> {
    const h = this.handler;
    const server = new grpc.Server(CHANNEL_OPTIONS);
    const monitor: grpc.UntypedServiceImplementation = {
      supportsFeature: this.unary((req: resproto.SupportsFeatureRequest) =>
        new resproto.SupportsFeatureResponse().setHassupport(h.supportsFeature(req.getId())),
      ),
      registerResource: this.unary((req: resproto.RegisterResourceRequest) => h.registerResource(req)),
      readResource: this.unary((req: resproto.ReadResourceRequest) => h.readResource(req)),
      registerResourceOutputs: this.unary((req: resproto.RegisterResourceOutputsRequest) => {
        h.registerResourceOutputs(req.getUrn(), fromStruct(req.getOutputs()));
        return new emptyproto.Empty();
      }),
      invoke: this.unary((req: resproto.ResourceInvokeRequest) => {
        throw new RpcError(grpc.status.UNIMPLEMENTED, `invoke ${req.getTok()} is not supported by the engine harness`);
      }),
      call: this.unimplemented("Call"),
      getDeploymentInfo: this.unimplemented("GetDeploymentInfo"),
      registerStackTransform: this.unimplemented("RegisterStackTransform"),
      registerStackInvokeTransform: this.unimplemented("RegisterStackInvokeTransform"),
      registerResourceHook: this.unimplemented("RegisterResourceHook"),
      registerErrorHook: this.unimplemented("RegisterErrorHook"),
      registerPackage: this.unimplemented("RegisterPackage"),
      signalAndWaitForShutdown: this.unary(() => new emptyproto.Empty()),
    };
    const engine: grpc.UntypedServiceImplementation = {
      log: this.unary((req: engineproto.LogRequest) => {
        h.log(req.getSeverity(), req.getMessage(), req.getUrn(), req.getEphemeral());
        return new emptyproto.Empty();
      }),
      getRootResource: this.unary(() => new engineproto.GetRootResourceResponse().setUrn(h.getRootResource())),
      setRootResource: this.unary((req: engineproto.SetRootResourceRequest) => {
        h.setRootResource(req.getUrn());
        return new engineproto.SetRootResourceResponse();
      }),
      startDebugging: this.unimplemented("StartDebugging"),
      // The harness stands for a current CLI: every version requirement is met.
      requirePulumiVersion: this.unary(() => new engineproto.RequirePulumiVersionResponse()),
    };
    server.addService(resgrpc.ResourceMonitorService as unknown as grpc.ServiceDefinition, monitor);
    server.addService(enginegrpc.EngineService as unknown as grpc.ServiceDefinition, engine);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.server = server;
    return `127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 1000);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
